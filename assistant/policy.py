"""When the assistant does not answer: every refusal is a value, ``Refusal(reason, rule)``, made in this module.

The reason is what the person is told (``assistant.answer.REFUSAL_REASONS``: each has its message in every
language); the rule names what decided, so that the trace, the API and the evaluation can count how often each rule
refuses and whether it was right to. The checks run at three points of the pipeline: before anything is searched
(``guard``, ``instructions``), after retrieval (``scope``) and after composing (``answer``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.answer import EMPTY_STORE, INSTRUCTIONS, NO_MATCH, OUT_OF_SCOPE, UNVERIFIED, AnswerSentence, Dropped
from assistant.lexicon import Alternatives
from assistant.retrieve import Retrieval
from assistant.scope import on_topic, tries_to_instruct, unanswered_count, uncovered
from assistant.verify import render

OFF_TOPIC_GAP = 0.1  # a question in another language this far below the floor is told it is off topic


@dataclass(frozen=True)
class Refusal:
    """Why the assistant does not answer (``reason``: what the person is told) and the rule that decided."""

    reason: str
    rule: str
    details: dict[str, Any] = field(default_factory=dict)


def guard(question: str) -> Refusal | None:
    """An instruction written in a pattern the assistant knows, before anything is searched."""
    matched = tries_to_instruct(question)
    if not matched:
        return None
    rule = f"instruction-pattern:{matched}" if isinstance(matched, str) else "instruction-pattern"
    return Refusal(INSTRUCTIONS, rule)


def empty_store(chunks: int) -> Refusal | None:
    """Nothing has been ingested: there is nothing to answer from."""
    return Refusal(EMPTY_STORE, "empty-store") if chunks == 0 else None


def instructions(instructs: bool) -> Refusal | None:
    """An instruction recognised by its meaning (close to an example instruction)."""
    return Refusal(INSTRUCTIONS, "instruction-similarity") if instructs else None


def scope(
    question: str, search: str, retrieval: Retrieval, *, floor: float, vocabulary: Collection[str]
) -> Refusal | None:
    """After retrieval: nothing close enough (the relevance floor), or the question asks for a specific the passages
    cannot hold (a country, a year, one person's case: ``scope.uncovered_specifics``, English questions only)."""
    best = retrieval.best_match
    if best < floor:
        multilingual = retrieval.space == "multilingual"
        off_topic = best < floor - OFF_TOPIC_GAP if multilingual else not on_topic(search)
        details = {"best_match": round(best, 4), "floor": floor}
        return Refusal(OUT_OF_SCOPE if off_topic else NO_MATCH, "relevance-floor", details)
    if retrieval.space == "multilingual":
        return None  # the specifics check reads English words
    seen = " ".join(f"{p.chunk.title} {p.chunk.heading_path} {p.chunk.text}" for p in retrieval.passages)
    found = uncovered(question, seen, vocabulary)  # (what is missing, the rule that found it)
    if found:
        missing = list(dict.fromkeys(m for m, _ in found))
        rules = list(dict.fromkeys(r for _, r in found))
        return Refusal(NO_MATCH, f"uncovered-specifics:{rules[0]}", {"missing": missing, "rules": rules})
    return None


def answer(
    question: str, kept: Sequence[AnswerSentence], dropped: Sequence[Dropped], alternatives: Alternatives
) -> Refusal | None:
    """After composing: no sentence survived (none close enough, or verification dropped them all), or a "how many
    X?" question got sentences without any number of X (a model may write around the gap)."""
    if not kept:
        if dropped:
            return Refusal(UNVERIFIED, "verification-dropped-all", {"dropped": len(dropped)})
        return Refusal(NO_MATCH, "no-sentence-close-enough")
    counted = unanswered_count(question, render(kept), alternatives)
    if counted:
        return Refusal(NO_MATCH, "how-many-without-number", {"counts": counted})
    return None
