"""Follow-up questions: what to search for when "and how long does that take?" depends on the earlier turns.

Without a language model, a question that reads as a follow-up (it refers back with words such as "it", "that",
"they", "there", opens with "and", "what about", "also", or has at most four content words) is searched together
with the previous user question, and, when that one was itself a follow-up, the one before it. With a language
model composer, the model rewrites the follow-up into a question that stands alone (``assistant/prompts``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from vectorstore.text import terms

_REFERRING = re.compile(
    r"\b(it|its|it's|that|this|those|these|they|them|their|there|such|same|he|she|him|her|one|ones|former|"
    r"latter|above)\b",
    re.IGNORECASE,
)
_OPENERS = re.compile(
    r"^\s*(and|but|also|so|then|or|what about|how about|what if|and if|in that case|same for|is that|does that|"
    r"do they|does it|is it|can they|can it)\b",
    re.IGNORECASE,
)
SHORT_QUESTION_TERMS = 4


@dataclass(frozen=True)
class Turn:
    """One earlier turn of a conversation."""

    role: str  # "user" or "assistant"
    content: str


def bounded(history: Sequence[Turn], turns: int) -> list[Turn]:
    """The last ``turns`` turns of a conversation."""
    return list(history)[-turns:] if turns > 0 else []


def is_follow_up(question: str) -> bool:
    """Whether a question reads as depending on an earlier turn."""
    return bool(
        _OPENERS.search(question) or _REFERRING.search(question) or len(terms(question)) <= SHORT_QUESTION_TERMS
    )


def search_query(question: str, history: Sequence[Turn]) -> str:
    """What to search for: the question, joined with earlier user questions when it is a follow-up."""
    earlier = [t.content for t in history if t.role == "user" and t.content.strip()]
    if not earlier or not is_follow_up(question):
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
