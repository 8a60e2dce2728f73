"""Answer sentences of retrieved chunks with their vectors: stored at ingest, cached here, encoded if absent."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vectorstore.records import Chunk
from vectorstore.store import Store

CACHE_CHUNKS = 20_000  # chunks whose sentence vectors stay in memory (about 6 MB per 1,000 chunks)


@dataclass(frozen=True)
class ChunkSentences:
    """A chunk's answer sentences and one unit vector per sentence."""

    sentences: list[str]
    vectors: np.ndarray


class SentenceBank:
    """Sentence vectors for chunks: from memory, else from the store, else (stores built before they were kept)
    encoded now."""

    def __init__(self, store: Store, *, capacity: int = CACHE_CHUNKS) -> None:
        self.store = store
        self.capacity = capacity
        self._cache: OrderedDict[str, ChunkSentences] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, chunks: Sequence[Chunk], *, space: str = "en") -> dict[str, ChunkSentences]:
        """The sentences and vectors of each chunk, by chunk id (``space``: "en" for the English model's vectors,
        "multilingual" for the multilingual model's)."""
        out: dict[str, ChunkSentences] = {}
        with self._lock:
            for c in chunks:
                key = f"{space}:{c.id}"
                if key in self._cache:
                    self._cache.move_to_end(key)
                    out[c.id] = self._cache[key]
        missing = [c for c in chunks if c.id not in out]
        if missing:
            multilingual = space == "multilingual"
            stored = self.store.multilingual_vectors(missing) if multilingual else self.store.sentence_vectors(missing)
            absent = [c for c in missing if c.id not in stored]
            if absent:
                texts = [c.sentence_in_context(s) for c in absent for s in c.sentences]
                rows = self.store.encoder.passage(texts) if multilingual else self.store.embedder.embed(texts)
                offset = 0
                for c in absent:
                    n = len(c.sentences)
                    stored[c.id] = rows[offset : offset + n]
                    offset += n
            with self._lock:
                for c in missing:
                    entry = ChunkSentences(c.sentences, stored[c.id])
                    out[c.id] = entry
                    self._cache[f"{space}:{c.id}"] = entry
                while len(self._cache) > self.capacity:
                    self._cache.popitem(last=False)
        return out
