"""Follow-up questions: what to search for when "and how long does that take?" depends on the earlier turns.

Whether a question is a follow-up is decided in the service by whether it stands on its own (``Assistant.resolve``):
it refers back ("it", "that", "and for ..."), or alone it finds the same pages as the earlier question, or alone it
finds nothing. A follow-up is searched together with the previous user question, and, when that one was itself a
follow-up, the one before it. With a language model composer, the model rewrites the follow-up into a question that
stands alone (``assistant/prompts``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from vectorstore.text import terms

_REFERRING = re.compile(
    r"\b(it|its|it's|that|this|those|these|they|them|their|there|such|same|he|she|him|her|one|ones|former|"
    r"latter|above|too|as well|either)\b",
    re.IGNORECASE,
)
_OPENERS = re.compile(
    r"^\s*(and|but|also|so|then|or|what about|how about|what if|and if|in that case|same for|is that|does that|"
    r"do they|does it|is it|can they|can it)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Turn:
    """One earlier turn of a conversation."""

    role: str  # "user" or "assistant"
    content: str


def bounded(history: Sequence[Turn], turns: int) -> list[Turn]:
    """The last ``turns`` turns of a conversation."""
    return list(history)[-turns:] if turns > 0 else []


def is_follow_up(question: str) -> bool:
    """Whether a question refers back to an earlier turn in its words ("and for children?", "how long does that
    take?"); English words only: other signals decide for other languages (``Assistant.resolve``)."""
    return bool(_OPENERS.search(question) or _REFERRING.search(question))


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


# Where a question asks a second thing: a new sentence, or "and"/"or"/a semicolon before a question word.
_SECOND_ASK = re.compile(
    r"\?\s+(?=[^\W\d_])|;\s+|,?\s+(?:and|or|but|plus)\s+(?=(?:what|how|which|who|when|where|why|is|are|does|do|can|could|"
    r"will|would|should|must)\b)",
    re.IGNORECASE,
)
MIN_PART_TERMS = 2


def question_parts(question: str) -> list[str]:
    """The separate asks of a compound question ("what does ETIAS cost, and what does the EES record?"), each
    with at least two content words of its own; an empty list when there is only one."""
    pieces = [p.strip(" ,?") for p in _SECOND_ASK.split(question)]
    # A piece that refers back ("how long would that take") is read with the one before it.
    parts = [f"{pieces[i - 1]} {piece}" if i and _REFERRING.search(piece) else piece for i, piece in enumerate(pieces)]
    parts = [p for p, piece in zip(parts, pieces, strict=True) if len(terms(piece)) >= MIN_PART_TERMS]
    return parts if len(parts) > 1 else []
