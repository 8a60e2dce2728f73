"""Clean extracted text: normalise it, repair run-together sentences, split sentences, drop repeats."""

from __future__ import annotations

import re
from collections.abc import Iterable

from vectorstore.sentences import ABBREVIATIONS, split_sentences

__all__ = ["Deduplicator", "figure_statements", "repair_joins", "sentence_key", "split_sentences"]

# Compound words written in camel case on purpose; never split at their inner capital.
CAMEL_WORDS = frozenset(
    "youtube linkedin github javascript powerpoint iphone ipad whatsapp wordpress paypal facebook chatgpt".split()
)

_CAMEL_JOIN = re.compile(r"\b([A-Za-z]*?[a-z]{4,})([A-Z][a-z]+[A-Za-z]*)\b")
_ACRONYM_THEN_WORD = re.compile(r"\b([A-Z]{2,})([A-Z][a-z]{2,})\b")
_PUNCT_JOIN = re.compile(r"([a-z0-9\)\]’”\"'%][.!?])([A-Z][a-z])")
_DIGIT_JOIN = re.compile(r"\b([a-z]{4,})(\d)")
_CLOSE_JOIN = re.compile(r"([a-z]{3,}\))(\d)")


def repair_joins(text: str) -> str:
    """Put a break back where extraction glued two sentences or a heading and a sentence together.

    Only where the evidence is clear: "rights.The EU" (full stop then a capitalised word, no space), "areasImproving"
    (a lower-case word running into a capitalised one), "EUAsylum" (an acronym running into a word), "entries11.2"
    (a word running into a number).
    """

    def camel(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole.lower() in CAMEL_WORDS or any(w in whole.lower() for w in CAMEL_WORDS):
            return whole
        return f"{match.group(1)}\n{match.group(2)}"

    def punct(match: re.Match[str]) -> str:
        left = match.group(1)
        start = match.start(1)
        word = re.search(r"([\w.]+)$", text[max(0, start - 12) : start + 1])
        if word and word.group(1).lower().rstrip(".") in ABBREVIATIONS:
            return match.group(0)
        return f"{left}\n{match.group(2)}"

    text = _PUNCT_JOIN.sub(punct, text)
    text = _CAMEL_JOIN.sub(camel, text)
    text = _ACRONYM_THEN_WORD.sub(r"\1\n\2", text)
    text = _DIGIT_JOIN.sub(r"\1\n\2", text)
    return _CLOSE_JOIN.sub(r"\1\n\2", text)


# In a run of text with no full stops (a scraped panel of key figures, each a number and its label run together), a
# number followed by a capitalised word starts a new statement.
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_FIGURE_START = re.compile(
    r"(?<=[A-Za-z)])\s+(?=\d[\d\s,.]*(?:\s?(?:million|billion|thousand|%))?\s+"
    rf"(?!(?:{_MONTHS})\b)[A-Z][a-z])"  # a day before a month is a date, not a figure with its label
)
_MONTH_END = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december)$", re.IGNORECASE
)
_ENDED = re.compile(r"[.!?:;][\"'”’)\]]*$")


def figure_statements(sentences: list[str]) -> list[str]:
    """Sentences with a run of figures cut into one statement per figure, each ending with a full stop, so that
    "4.2 million Residents from outside the union in the region (8% of all people)." can be quoted and cited on
    its own. A sentence that already ends as a sentence is left as it is: only unpunctuated runs are cut."""
    out: list[str] = []
    for sentence in sentences:
        if _ENDED.search(sentence):
            out.append(sentence)
            continue
        parts: list[str] = []
        for part in _FIGURE_START.split(sentence):
            if parts and _MONTH_END.search(parts[-1]):
                parts[-1] = f"{parts[-1]} {part}"  # "24 February 2026": a year after a month is part of a date
            else:
                parts.append(part)
        for part in parts:
            part = part.strip()
            if not part:
                continue
            if part[0].isdigit() and len(part.split()) >= 4:
                part += "."
            out.append(part)
    return out


def sentence_key(sentence: str) -> str:
    """What two sentences must share to count as the same: their words, lower case."""
    return " ".join(re.findall(r"\w+", sentence.lower()))


class Deduplicator:
    """Remembers the sentences of a page so that a repeated paragraph or sentence is dropped the second time."""

    MIN_WORDS = 6  # short sentences ("Not applicable.") may legitimately repeat
    GLUED_WORDS = 10  # most words a heading glued in front of a sentence adds

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._glued: list[str] = []

    def fresh(self, sentences: Iterable[str]) -> list[str]:
        """The sentences not seen before on this page (short ones always pass).

        A repeat counts when the whole sentence was seen, or when it was seen with a few words glued in front
        (extraction often glues a heading to the first sentence). A sentence that merely occurs inside a longer
        one, such as a list item naming an act that an earlier sentence also names, is kept.
        """
        out = []
        for sentence in sentences:
            key = sentence_key(sentence)
            size = len(key.split())
            if size >= self.MIN_WORDS:
                if key in self._seen or any(
                    seen.endswith(" " + key) and len(seen.split()) - size <= self.GLUED_WORDS for seen in self._glued
                ):
                    continue
                self._seen.add(key)
                self._glued.append(key)
            out.append(sentence)
        return out
