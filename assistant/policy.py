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

from assistant import rules
from assistant.answer import EMPTY_STORE, INSTRUCTIONS, NO_MATCH, OUT_OF_SCOPE, UNVERIFIED, AnswerSentence, Dropped
from assistant.lexicon import Alternatives
from assistant.retrieve import Retrieval
from assistant.scope import on_topic, tries_to_instruct, unanswered_count, uncovered
from assistant.verify import render

OFF_TOPIC_GAP = 0.1  # without the topic model: a question in another language this far below the floor is off topic
OFF_TOPIC_LIKELY = rules.value("off-topic-likely")  # the topic model: wording a refusal (thresholds.toml)
OFF_TOPIC_SURE = rules.value("off-topic-sure")  # the topic model's call on refusing on its own


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
    question: str,
    search: str,
    retrieval: Retrieval,
    *,
    floor: float,
    vocabulary: Collection[str],
    off_topic: float | None = None,
) -> Refusal | None:
    """After retrieval: nothing close enough (the relevance floor), or the question asks for a specific the passages
    cannot hold (a country, a year, one person's case: ``scope.uncovered_specifics``, English questions only).

    Below the floor, the refusal says the question is off topic or that the sources do not hold the answer. In
    another language than English that is the topic model's call (``off_topic``: its probability, from
    ``assistant.topic``), or without it, how far below the floor the best match is; in English, the field's words."""
    best = retrieval.best_match
    if best < floor:
        details: dict[str, Any] = {"best_match": round(best, 4), "floor": floor}
        if retrieval.space != "multilingual":
            outside = not on_topic(search)
        elif off_topic is not None:
            outside = off_topic >= OFF_TOPIC_LIKELY
            details["off_topic"] = round(off_topic, 3)
        else:
            outside = best < floor - OFF_TOPIC_GAP
        return Refusal(OUT_OF_SCOPE if outside else NO_MATCH, "relevance-floor", details)
    if retrieval.space == "multilingual":
        if off_topic is not None and off_topic >= OFF_TOPIC_SURE:
            return Refusal(
                OUT_OF_SCOPE, "topic-model", {"off_topic": round(off_topic, 3), "best_match": round(best, 4)}
            )
        return None  # the specifics check reads English words
    seen = " ".join(f"{p.chunk.title} {p.chunk.heading_path} {p.chunk.text}" for p in retrieval.passages)
    found = uncovered(question, seen, vocabulary)  # (what is missing, the rule that found it)
    if found:
        missing = list(dict.fromkeys(m for m, _ in found))
        rules = list(dict.fromkeys(r for _, r in found))
        return Refusal(NO_MATCH, f"uncovered-specifics:{rules[0]}", {"missing": missing, "rules": rules})
    return None


def answer(
    question: str,
    kept: Sequence[AnswerSentence],
    dropped: Sequence[Dropped],
    alternatives: Alternatives,
    *,
    off_topic: float | None = None,
) -> Refusal | None:
    """After composing: no sentence survived (none close enough, or verification dropped them all), or a "how many
    X?" question got sentences without any number of X (a model may write around the gap). With no sentence close
    enough, the topic model (``off_topic``, in other languages than English) chooses between "off topic" and "not
    found", as below the relevance floor."""
    if not kept:
        if dropped:
            return Refusal(UNVERIFIED, "verification-dropped-all", {"dropped": len(dropped)})
        if off_topic is not None and off_topic >= OFF_TOPIC_LIKELY:
            return Refusal(OUT_OF_SCOPE, "no-sentence-close-enough", {"off_topic": round(off_topic, 3)})
        return Refusal(NO_MATCH, "no-sentence-close-enough")
    counted = unanswered_count(question, render(kept), alternatives)
    if counted:
        return Refusal(NO_MATCH, "how-many-without-number", {"counts": counted})
    return None
