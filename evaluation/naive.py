"""The tutorial baseline the assistant is measured against: whole pages, 1000-character splits, top passage as answer.

This is the RAG every LangChain tutorial starts with: pages cut by ``RecursiveCharacterTextSplitter(1000, 200)``,
embedded into a Chroma collection, the four nearest splits retrieved, and (standing in for a language model that
would paraphrase them) the best split quoted whole with one citation. It has no section anchors, no lexical search,
no relevance floor and no follow-up handling, so it never refuses and ignores earlier turns. It uses the store's
pages and embedding model, so the comparison isolates what the assistant adds.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from assistant.answer import Answer, AnswerSentence, Citation, RetrievedPassage
from assistant.verify import SNIPPET_CHARS
from common.settings import Settings
from evaluation.dataset import QAItem
from vectorstore.embeddings import Embedder
from vectorstore.records import Chunk, DocumentRecord
from vectorstore.sentences import answer_units, split_sentences
from vectorstore.store import Store

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
TOP_K = 4
COMPOSER = "naive (top passage)"
PACKAGES = ("langchain_text_splitters", "langchain_chroma")  # the ``eval`` extra installs them


def missing_packages() -> list[str]:
    """The LangChain packages the baseline needs that are not installed."""
    return [name for name in PACKAGES if importlib.util.find_spec(name) is None]


class StoreEmbeddings(Embeddings):
    """The store's embedding model behind LangChain's ``Embeddings`` interface (nothing is downloaded)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text."""
        return [list(map(float, row)) for row in self.embedder.embed(texts)]

    def embed_query(self, text: str) -> list[float]:
        """The vector of one query."""
        return [float(x) for x in self.embedder.embed([text])[0]]


def page_text(chunks: Sequence[Chunk]) -> str:
    """A page rebuilt from its chunks in order, each new section opened by its heading line."""
    parts: list[str] = []
    section: str | None = None
    for chunk in sorted(chunks, key=lambda c: c.position):
        if chunk.section != section:
            section = chunk.section
            parts.append(f"{section}\n{chunk.text}" if section else chunk.text)
        else:
            parts.append(chunk.text)
    return "\n\n".join(parts)


def snippet(text: str) -> str:
    """The start of a passage, cut at a word, as citations show it."""
    if len(text) <= SNIPPET_CHARS:
        return text
    return text[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"


class NaivePipeline:
    """The tutorial RAG over the store's pages, as an evaluation pipeline named "naive"."""

    name = "naive"

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._index: Any = None  # langchain_chroma.Chroma, built on the first question
        self._folder: Path | None = None
        self.splits = 0

    def documents(self) -> list[Any]:
        """Every stored page as 1000-character splits (LangChain documents with a stable id and page metadata)."""
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
        documents = []
        for record in self.store.list_documents():
            chunks = self.store.get_chunks(record.chunk_ids)
            if not chunks:
                continue
            metadata = _page_metadata(record, chunks[0])
            for n, split in enumerate(splitter.create_documents([page_text(chunks)], metadatas=[metadata])):
                split.id = f"{record.doc_id}:naive:{n}"
                split.metadata["split_id"] = split.id
                documents.append(split)
        return documents

    def _build(self) -> Any:
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma

        parent = self.settings.data_dir / "tmp"
        parent.mkdir(parents=True, exist_ok=True)
        self._folder = Path(tempfile.mkdtemp(prefix="naive-index-", dir=parent))
        index = Chroma(
            collection_name=f"naive-{uuid.uuid4().hex[:8]}",
            embedding_function=StoreEmbeddings(self.store.embedder),
            persist_directory=str(self._folder),
            client_settings=ChromaSettings(anonymized_telemetry=False, is_persistent=True),
        )
        documents = self.documents()
        if documents:
            index.add_documents(documents, ids=[d.id for d in documents])
        self.splits = len(documents)
        return index

    @property
    def index(self) -> Any:
        """The Chroma collection of splits, built on first use."""
        if self._index is None:
            self._index = self._build()
        return self._index

    def answer(self, item: QAItem) -> Answer:
        """The top split quoted as the answer, citing [1]; earlier turns are ignored, as in the tutorial."""
        index = self.index  # built before the clock starts: the assistant's ingest is not timed either
        started = time.perf_counter()
        hits = index.similarity_search_with_score(item.question, k=TOP_K) if self.splits else []
        passages = [
            RetrievedPassage(
                rank=rank,
                # Chroma's default space is squared L2; on unit vectors the cosine is 1 - d/2.
                score=round(1.0 - float(distance) / 2, 5),
                relevance=round(max(0.0, 1.0 - float(distance) / 2), 4),
                title=str(doc.metadata.get("title", "")),
                url=str(doc.metadata.get("url", "")),
                section="",
                chunk_id=str(doc.metadata.get("split_id", "")),
                text=doc.page_content,
                source_url=str(doc.metadata.get("source_url", "")),
            )
            for rank, (doc, distance) in enumerate(hits, start=1)
        ]
        if not passages:
            return Answer(question=item.question, text="", composer=COMPOSER, seconds=time.perf_counter() - started)
        top, meta = passages[0], hits[0][0].metadata
        sentences = [AnswerSentence(text, (1,)) for text in answer_units(split_sentences(top.text))]
        citation = Citation(
            n=1,
            title=top.title,
            url=top.url,
            section="",
            snippet=snippet(top.text),
            last_updated=str(meta.get("updated", "")),
            source_url=top.source_url,
            source_title=str(meta.get("source_title", "")),
            chunk_id=top.chunk_id,
        )
        return Answer(
            question=item.question,
            text=" ".join(f"{s.text} [1]" for s in sentences),
            citations=[citation],
            sentences=sentences,
            passages=passages,
            search_query=item.question,
            composer=COMPOSER,
            seconds=time.perf_counter() - started,
        )

    def close(self) -> None:
        """Drop the temporary index and its folder."""
        if self._index is not None:
            try:
                self._index.delete_collection()
            finally:
                self._index = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> NaivePipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _page_metadata(record: DocumentRecord, first: Chunk) -> dict[str, str]:
    """What a split carries about its page: address without anchor, title, freshness, official source."""
    return {
        "url": first.url or record.url,
        "title": record.title or first.title,
        "updated": record.updated or first.updated,
        "source_url": first.source_url,
        "source_title": first.source_title,
    }
