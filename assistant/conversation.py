"""Follow-up questions: what to search for when "and would that apply to minors?" depends on the earlier turns.

Whether a question is a follow-up is decided in the service by whether it stands on its own (``Assistant.resolve``):
it refers back ("it", "that", "and for ..."), or alone it finds the same pages as the earlier question, or alone it
finds nothing. A follow-up is searched together with the previous user question, and, when that one was itself a
follow-up, the one before it. With a language model composer, the model rewrites the follow-up into a question that
stands alone (``assistant/prompts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant import classify, rules
from common.text import terms


@dataclass(frozen=True)
class Turn:
    """One earlier turn of a conversation."""

    role: str  # "user" or "assistant"
    content: str


def bounded(history: Sequence[Turn], turns: int) -> list[Turn]:
    """The last ``turns`` turns of a conversation."""
    return list(history)[-turns:] if turns > 0 else []


def is_follow_up(question: str) -> bool:
    """Whether a question refers back to an earlier turn in its words (opening with "and", "what about", or holding
    "it", "that", "they"): the ``refers-back`` kind of ``assistant.classify``. English words only: other signals
    decide for other languages."""
    return "refers-back" in classify.kinds(question)


def earlier_questions(history: Sequence[Turn]) -> list[str]:
    """The user's earlier questions, oldest first."""
    return [t.content for t in history if t.role == "user" and t.content.strip()]


def search_query(question: str, history: Sequence[Turn], *, follow_up: bool | None = None) -> str:
    """What to search for: the question, joined with earlier user questions when it is a follow-up (``follow_up``:
    as decided by the caller; by its words when not given)."""
    earlier = earlier_questions(history)
    if follow_up is None:
        follow_up = is_follow_up(question)
    if not earlier or not follow_up:
        return question
    context = [earlier[-1]]
    if len(earlier) > 1 and is_follow_up(earlier[-1]):
        context.insert(0, earlier[-2])
    return " ".join([*context, question])


MIN_PART_TERMS = rules.count("min-part-terms")


def question_parts(question: str) -> list[str]:
    """The separate asks of a compound question ("what does ETIAS cost, and what does the EES record?"), each
    with at least two content words of its own; an empty list when there is only one."""
    pieces = [p.strip(" ,?") for p in rules.pattern("second-ask").split(question)]
    # A piece that refers back ("would that apply to minors") is read with the one before it.
    parts = [f"{pieces[i - 1]} {piece}" if i and is_follow_up(piece) else piece for i, piece in enumerate(pieces)]
    parts = [p for p, piece in zip(parts, pieces, strict=True) if len(terms(piece)) >= MIN_PART_TERMS]
    return parts if len(parts) > 1 else []
