"""Hybrid retrieval: dense search in Chroma and BM25 over the same chunks, fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass

from vectorstore.records import Chunk
from vectorstore.store import Store
from vectorstore.text import normalize

RRF_K = 60  # the usual constant of reciprocal rank fusion: damps the weight of the very first ranks


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused score and its ranks in each retriever (None where it was not found)."""

    chunk: Chunk
    score: float
    dense_rank: int | None
    lexical_rank: int | None


def retrieve(store: Store, query: str, *, k: int = 5, candidates: int = 30) -> list[Passage]:
    """The ``k`` best passages for ``query`` by reciprocal rank fusion of dense and lexical search."""
    query = normalize(query)
    if not query:
        return []
    dense = store.dense_search(store.embedder.embed([query])[0], k=candidates)
    lexical = store.lexical.search(query, limit=candidates)
    scores: dict[str, float] = {}
    dense_rank = {hit.chunk.id: rank for rank, hit in enumerate(dense, start=1)}
    lexical_rank = {hit.id: rank for rank, hit in enumerate(lexical, start=1)}
    for ranks in (dense_rank, lexical_rank):
        for chunk_id, rank in ranks.items():
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
    best = sorted(scores, key=lambda cid: scores[cid], reverse=True)[:k]
    chunks = {hit.chunk.id: hit.chunk for hit in dense}
    missing = [cid for cid in best if cid not in chunks]
    chunks.update({c.id: c for c in store.get_chunks(missing)})
    return [
        Passage(chunks[cid], scores[cid], dense_rank.get(cid), lexical_rank.get(cid)) for cid in best if cid in chunks
    ]
