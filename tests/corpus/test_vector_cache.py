"""The multilingual vectors shipped for the bundled corpus hold every answer sentence of its pages as ingest cuts
them, so that a first ingest encodes none (run ``python -m ingest.vector_cache`` after changing a page)."""

from __future__ import annotations

from common.settings import Settings
from ingest.vector_cache import corpus_chunks, sentence_texts
from vectorstore.multilingual import CACHE_FILE, VectorCache, text_key


def test_the_shipped_multilingual_vectors_cover_the_bundled_corpus() -> None:
    texts = sentence_texts(corpus_chunks(Settings()))
    rows = VectorCache(CACHE_FILE).rows
    missing = [t[:80] for t in texts if text_key(t) not in rows]
    assert missing == [], f"{len(missing)} sentences lack shipped vectors: run python -m ingest.vector_cache"
    assert len(texts) > 1000
