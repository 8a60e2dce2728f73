"""Hybrid retrieval: dense search in Chroma and BM25 over the same chunks, fused by reciprocal rank, diversified.

The question is normalised as passages were at ingest (``common.text.normalize``). Each retriever proposes
``candidates`` chunks; reciprocal rank fusion merges the two lists; a page may then hold at most ``max_per_page`` of
the ``k`` places. An optional cross-encoder reorders the fused candidates. Every passage returned carries its
cosine similarity to the question (``relevance``), which the relevance floor is compared with.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.conversation import question_parts
from assistant.errors import ConfigError
from assistant.lexicon import Alternatives, alternatives
from assistant.spelling import repair
from common.settings import Settings
from common.text import normalize, terms
from vectorstore.multilingual import calibrated
from vectorstore.records import Chunk
from vectorstore.store import Store

log = logging.getLogger(__name__)

RRF_K = 60  # the usual constant of reciprocal rank fusion: damps the weight of the very first ranks
RERANK_DEPTH = 20  # fused candidates the cross-encoder re-scores
TOPIC_PASSAGES = 10  # for a follow-up, the pages of this many best passages of the whole query are its topic


@dataclass(frozen=True)
class Filters:
    """Optional restrictions on what is searched: topic tags (any of), pages (address or title), source addresses."""

    tags: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.tags or self.pages or self.sources)


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused score, its cosine similarity to the question and its rank in each retriever."""

    chunk: Chunk
    score: float
    relevance: float
    coverage: float = 0.0  # share of the question's words (weighted by rarity) the passage holds
    dense_rank: int | None = None
    lexical_rank: int | None = None
    rerank_score: float | None = None


@dataclass
class Retrieval:
    """What retrieval found for one question, with the question's vector (the composer reuses it)."""

    query: str
    vector: np.ndarray
    passages: list[Passage] = field(default_factory=list)
    term_weights: dict[str, float] = field(default_factory=dict)  # the query's stemmed words by rarity (idf)

    repairs: dict[str, str] = field(default_factory=dict)  # misspelt word -> known term searched instead
    alternatives: Alternatives = field(default_factory=Alternatives)  # everyday words -> the pages' words
    # For a follow-up searched together with earlier questions: the follow-up alone, which says what is asked now.
    focus_query: str = ""
    focus_vector: np.ndarray | None = None
    # For a compound question ("what does it cost, and how long is it valid?"): each ask with its vector.
    parts: list[tuple[str, np.ndarray]] = field(default_factory=list)
    # "en": vectors of the English model (MiniLM); "multilingual": of the multilingual model, for a question in
    # another language, its cosines mapped onto the English model's scale (``vectorstore.multilingual.calibrated``).
    space: str = "en"
    # What the question names (``assistant.names``), and the passages that name none of it while others do: the
    # extractive composer does not quote those.
    named: frozenset[str] = frozenset()
    off_target: tuple[int, ...] = ()

    def similarities(self, cosines: np.ndarray) -> np.ndarray:
        """Cosines between vectors of this retrieval's space, on the English model's scale."""
        if self.space == "multilingual":
            return np.asarray(calibrated(cosines), dtype=np.float32)  # type: ignore[arg-type]
        return cosines

    @property
    def best_relevance(self) -> float:
        """The highest cosine similarity among the passages (0 when none)."""
        return max((p.relevance for p in self.passages), default=0.0)

    @property
    def best_match(self) -> float:
        """How well the best passage matches: the mean of its cosine similarity and its word coverage (0-1); for a
        question in another language, whose words the English passages do not share, its similarity alone."""
        if self.space == "multilingual":
            return self.best_relevance
        return max((match_score(p) for p in self.passages), default=0.0)


def match_score(passage: Passage) -> float:
    """A passage's match with the question, compared with the relevance floor."""
    return (passage.relevance + passage.coverage) / 2


def diversify(ranked: Sequence[str], page_of: dict[str, str], *, k: int, max_per_page: int) -> list[str]:
    """The first ``k`` ids of ``ranked`` taking at most ``max_per_page`` from one page; the rest fill up if short."""
    chosen: list[str] = []
    per_page: dict[str, int] = {}
    held_back: list[str] = []
    for cid in ranked:
        page = page_of.get(cid, cid)
        if per_page.get(page, 0) >= max_per_page:
            held_back.append(cid)
            continue
        per_page[page] = per_page.get(page, 0) + 1
        chosen.append(cid)
        if len(chosen) == k:
            return chosen
    return chosen + held_back[: k - len(chosen)]


def fuse(*rankings: Sequence[str], weights: Sequence[float] | None = None) -> dict[str, float]:
    """Reciprocal rank fusion: each list adds weight / (RRF_K + rank) to the ids it holds."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, cid in enumerate(ranking, start=1):
            scores[cid] = scores.get(cid, 0.0) + weight / (RRF_K + rank)
    return scores


class Reranker:
    """An optional sentence-transformers cross-encoder, loaded on first use from a model name or a local path."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from sentence_transformers import CrossEncoder

                try:
                    self._model = CrossEncoder(self.name, device="cpu", local_files_only=True)
                except Exception as exc:  # the library raises many kinds; all mean "cannot load"
                    raise ConfigError(
                        f"cannot load the reranker {self.name!r} (a sentence-transformers cross-encoder name or "
                        f"folder available offline): {exc}"
                    ) from exc
        return self._model

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        """One relevance score per text (higher is better)."""
        if not texts:
            return []
        scores = self._load().predict([(query, t) for t in texts], show_progress_bar=False)
        return [float(s) for s in np.asarray(scores).reshape(len(texts), -1)[:, -1]]


class Retriever:
    """Retrieval over one store with the settings' depth, diversity and optional reranker."""

    def __init__(self, store: Store, settings: Settings | None = None) -> None:
        self.store = store
        self.settings = settings or store.settings
        self.reranker = Reranker(self.settings.reranker) if self.settings.reranker else None
        self._known_words: frozenset[str] | None = None

    @property
    def known_words(self) -> frozenset[str]:
        """Correctly spelt words that typo repair leaves alone: the embedding model's whole-word vocabulary."""
        if self._known_words is None:
            known = getattr(self.store.embedder, "known_words", None)
            self._known_words = known() if known is not None else frozenset()
        return self._known_words

    def _where(self, filters: Filters | None) -> tuple[dict[str, Any] | None, list[str] | None]:
        if not filters:
            return None, None
        doc_ids = sorted(
            self.store.lexical.doc_ids_matching(tags=filters.tags, pages=filters.pages, sources=filters.sources)
        )
        return {"doc_id": {"$in": doc_ids or ["-"]}}, doc_ids

    def _chunks_of(self, ids: list[str], known: dict[str, Chunk]) -> list[Chunk]:
        """Chunks by id, from those already fetched where possible."""
        fetched = {c.id: c for c in self.store.get_chunks([i for i in ids if i not in known])}
        return [known.get(i) or fetched[i] for i in ids if i in known or i in fetched]

    def retrieve(
        self,
        query: str,
        *,
        k: int | None = None,
        filters: Filters | None = None,
        vector: np.ndarray | None = None,
        focus: str = "",
        language: str = "en",
    ) -> Retrieval:
        """The ``k`` best passages for ``query`` (normalised first), fused, diversified and optionally reranked.

        ``focus`` is given for a follow-up searched together with the earlier questions (``query``): the pages the
        whole query finds are the topic, and within them the follow-up alone (dense and lexical) joins the fusion,
        so that "and how long is it valid?" finds the validity section of the Blue Card pages.
        """
        k = k or self.settings.top_k
        if language != "en" and self.store.has_multilingual:
            return self._retrieve_multilingual(
                normalize(query), k=k, filters=filters, focus=normalize(focus), vector=vector
            )
        query = normalize(query)
        lexical_index = self.store.lexical  # in step with the collection, and counts its chunks without a scan
        total = lexical_index.count()
        if not query or total == 0:
            return Retrieval(query=query, vector=self.store.embedder.embed([query or " "])[0])
        query, repairs = repair(query, lexical_index.vocabulary(), self.known_words)
        vector = self.store.embedder.embed([query])[0] if vector is None or repairs else vector
        weights = lexical_index.term_weights(set(terms(query)))
        alts = alternatives(query)
        result = Retrieval(query=query, vector=vector, term_weights=weights, repairs=repairs, alternatives=alts)
        where, doc_ids = self._where(filters)
        if doc_ids == []:
            return result
        depth = self.settings.candidates
        dense = self.store.dense_search(vector, k=depth, where=where, total=total)
        lexical = lexical_index.search(f"{query} {alts.extra}".strip(), limit=depth, doc_ids=doc_ids)
        dense_ids = [hit.chunk.id for hit in dense]
        lexical_ids = [hit.id for hit in lexical]
        fused = fuse(dense_ids, lexical_ids)
        chunks = {hit.chunk.id: hit.chunk for hit in dense}
        relevance = {hit.chunk.id: hit.score for hit in dense}
        focus = normalize(focus)
        if focus and focus != query:
            focus, focus_repairs = repair(focus, lexical_index.vocabulary(), self.known_words)
            result.repairs.update(focus_repairs)
            result.focus_query = focus
            result.focus_vector = self.store.embedder.embed([focus])[0]
            topic = list(dict.fromkeys(c.doc_id for c in self._chunks_of(ranked_ids(fused)[:TOPIC_PASSAGES], chunks)))
            focus_dense = self.store.dense_search(
                result.focus_vector, k=depth, where={"doc_id": {"$in": topic}}, total=total
            )
            focus_terms = f"{focus} {alternatives(focus).extra}".strip()
            focus_lexical = lexical_index.search(focus_terms, limit=depth, doc_ids=topic)
            chunks.update({hit.chunk.id: hit.chunk for hit in focus_dense})
            fused = fuse(dense_ids, lexical_ids, [h.chunk.id for h in focus_dense], [h.id for h in focus_lexical])
        asks = question_parts(result.focus_query or query)
        if asks:
            result.parts = list(zip(asks, self.store.embedder.embed(asks), strict=True))
        ranked = ranked_ids(fused)
        depth_needed = max(k, RERANK_DEPTH) if self.reranker else k
        # Fetch what lexical search alone found, with vectors, so every passage has a cosine similarity.
        window = ranked[: depth_needed * 3]
        missing = [cid for cid in window if cid not in relevance]
        if missing:
            for chunk, vec in self.store.get_chunks_with_vectors(missing):
                chunks[chunk.id] = chunk
                relevance[chunk.id] = float(np.dot(vec, vector))
        window = [cid for cid in window if cid in chunks]
        page_of = {cid: chunks[cid].doc_id for cid in window}
        chosen = diversify(window, page_of, k=depth_needed, max_per_page=self.settings.max_per_page)
        rerank: dict[str, float] = {}
        if self.reranker is not None:
            scores = self.reranker.score(query, [chunks[cid].embed_text for cid in chosen])
            rerank = dict(zip(chosen, scores, strict=True))
            chosen = sorted(chosen, key=lambda cid: rerank[cid], reverse=True)
        dense_rank = {cid: r for r, cid in enumerate(dense_ids, start=1)}
        lexical_rank = {cid: r for r, cid in enumerate(lexical_ids, start=1)}
        result.passages = [
            Passage(
                chunk=chunks[cid],
                score=fused[cid],
                relevance=relevance[cid],
                coverage=coverage(weights, chunks[cid], alts),
                dense_rank=dense_rank.get(cid),
                lexical_rank=lexical_rank.get(cid),
                rerank_score=rerank.get(cid),
            )
            for cid in chosen[:k]
        ]
        return result

    def _retrieve_multilingual(
        self, query: str, *, k: int, filters: Filters | None, focus: str, vector: np.ndarray | None = None
    ) -> Retrieval:
        """Retrieval for a question in another language than the sources': the multilingual model's sentence
        vectors instead of the English model's, fused with BM25 over the words the languages share (names,
        acronyms, numbers, the sources' own terms), every cosine mapped onto the English model's scale."""
        lexical_index = self.store.lexical
        total = lexical_index.count()
        encoder = self.store.encoder
        if vector is None:
            vector = encoder.query([query or " "])[0]
        result = Retrieval(query=query, vector=vector, space="multilingual")
        if not query or total == 0:
            return result
        vocabulary = lexical_index.vocabulary()
        shared = shared_words(query, vocabulary)
        result.term_weights = lexical_index.term_weights(set(terms(shared)))
        _, doc_ids = self._where(filters)
        if doc_ids == []:
            return result
        depth = self.settings.candidates
        dense = self.store.multilingual_search(vector, k=depth, doc_ids=doc_ids)
        lexical = lexical_index.search(shared, limit=depth, doc_ids=doc_ids) if shared else []
        dense_ids = [cid for cid, _ in dense]
        lexical_ids = [hit.id for hit in lexical]
        rankings = [dense_ids, lexical_ids]
        relevance = {cid: calibrated(score, level="passage") for cid, score in dense}
        if focus and focus != query:
            result.focus_query = focus
            result.focus_vector = encoder.query([focus])[0]
            topic = list(dict.fromkeys(c.doc_id for c in self.store.get_chunks(ranked_ids(fuse(*rankings))[:10])))
            rankings.append(
                [cid for cid, _ in self.store.multilingual_search(result.focus_vector, k=depth, doc_ids=topic)]
            )
        fused = fuse(*rankings)
        window = ranked_ids(fused)[: k * 3]
        chunks = {c.id: c for c in self.store.get_chunks(window)}
        missing = [chunks[cid] for cid in window if cid in chunks and cid not in relevance]
        for cid, rows in self.store.multilingual_vectors(missing).items():
            relevance[cid] = calibrated(float((rows @ vector).max()), level="passage")
        window = [cid for cid in window if cid in chunks and cid in relevance]
        chosen = diversify(
            window, {cid: chunks[cid].doc_id for cid in window}, k=k, max_per_page=self.settings.max_per_page
        )
        dense_rank = {cid: r for r, cid in enumerate(dense_ids, start=1)}
        lexical_rank = {cid: r for r, cid in enumerate(lexical_ids, start=1)}
        result.passages = [
            Passage(
                chunk=chunks[cid],
                score=fused[cid],
                relevance=relevance[cid],
                coverage=coverage(result.term_weights, chunks[cid]),
                dense_rank=dense_rank.get(cid),
                lexical_rank=lexical_rank.get(cid),
            )
            for cid in chosen
        ]
        return result


MIN_SHARED_CHARS = 5


def shared_words(question: str, vocabulary: Collection[str]) -> str:
    """The words of a question in another language that the English sources may hold as written: numbers, acronyms,
    and words of five letters or more that the store's vocabulary knows (names, and terms such as "Schengen",
    "Eurodac" or "migration" that many languages share)."""
    kept = []
    for word in re.findall(r"[\w-]+", question):
        stems = terms(word)
        neutral = any(ch.isdigit() for ch in word) or (word.isupper() and len(word) >= 2)
        known = len(word) >= MIN_SHARED_CHARS and bool(stems) and all(stem in vocabulary for stem in stems)
        if neutral or known:
            kept.append(word)
    return " ".join(kept)


def ranked_ids(scores: dict[str, float]) -> list[str]:
    """Ids by score, best first."""
    return sorted(scores, key=lambda cid: scores[cid], reverse=True)


def word_share(weights: dict[str, float], present: set[str], alts: Alternatives | None = None) -> float:
    """The share of the question's words (stems by weight) that are ``present``; an everyday word counts as
    present when a policy word standing in for it is (``alts``). 0 when there are no words."""
    total = sum(weights.values())
    if not total:
        return 0.0
    alts = alts or Alternatives()
    return sum(w for t, w in weights.items() if alts.held(t, present)) / total


def coverage(weights: dict[str, float], chunk: Chunk, alts: Alternatives | None = None) -> float:
    """The share of the question's words, weighted by rarity, found in the chunk, its headings or its title."""
    return word_share(weights, set(terms(f"{chunk.title} {chunk.heading_path} {chunk.text}")), alts)


def retrieve(store: Store, query: str, *, k: int = 5, filters: Filters | None = None) -> list[Passage]:
    """The ``k`` best passages for ``query``; see ``Retriever.retrieve``."""
    return Retriever(store).retrieve(query, k=k, filters=filters).passages
