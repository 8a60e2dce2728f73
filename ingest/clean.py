"""Clean extracted text: normalise it, repair run-together sentences, split sentences, drop repeats."""

from __future__ import annotations

import re
from collections.abc import Iterable

from vectorstore.text import normalize

# Words that end with a full stop without ending a sentence.
ABBREVIATIONS = frozenset(
    """art arts no nos nr p pp para paras e.g i.e etc cf vs mr mrs ms dr prof st ibid approx ca fig figs vol eds ed
    jan feb mar apr jun jul aug sep sept oct nov dec co ltd inc dept min max oj reg dir""".split()
)
# Compound words written in camel case on purpose; never split at their inner capital.
CAMEL_WORDS = frozenset(
    "youtube linkedin github javascript powerpoint iphone ipad whatsapp wordpress paypal facebook chatgpt".split()
)

_CAMEL_JOIN = re.compile(r"\b([A-Za-z]*?[a-z]{4,})([A-Z][a-z]+[A-Za-z]*)\b")
_ACRONYM_THEN_WORD = re.compile(r"\b([A-Z]{2,})([A-Z][a-z]{2,})\b")
_PUNCT_JOIN = re.compile(r"([a-z0-9\)\]’”\"'%][.!?])([A-Z][a-z])")
_DIGIT_JOIN = re.compile(r"\b([a-z]{4,})(\d)")
_CLOSE_JOIN = re.compile(r"([a-z]{3,}\))(\d)")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")


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


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph; a repaired join (newline) is always a boundary, abbreviations never are."""
    sentences: list[str] = []
    for line in text.split("\n"):
        line = normalize(line)
        if not line:
            continue
        start = 0
        for match in _SENTENCE_END.finditer(line):
            before = line[start : match.start()]
            last = before.rsplit(" ", 1)[-1].lower().rstrip(".!?\"'”’)]")
            if last in ABBREVIATIONS or re.fullmatch(r"[a-z]", last) or re.fullmatch(r"\(?\d+\)?|[ivxlc]+", last):
                continue  # "Art. 5", "p. 3", "e.g. X", a numbered point "1. The ..." or "(iv). X"
            sentences.append(line[start : match.start()].strip())
            start = match.end()
        tail = line[start:].strip()
        if tail:
            sentences.append(tail)
    return [s for s in sentences if s]


def sentence_key(sentence: str) -> str:
    """What two sentences must share to count as the same: their words, lower case."""
    return " ".join(re.findall(r"\w+", sentence.lower()))


class Deduplicator:
    """Remembers the sentences of a page so that a repeated paragraph or sentence is dropped the second time."""

    MIN_WORDS = 6  # short sentences ("Not applicable.") may legitimately repeat

    def __init__(self) -> None:
        self._seen: list[str] = []

    def fresh(self, sentences: Iterable[str]) -> list[str]:
        """The sentences not seen before on this page, whole or inside a longer one (short ones always pass)."""
        out = []
        for sentence in sentences:
            key = sentence_key(sentence)
            if len(key.split()) >= self.MIN_WORDS:
                # Extraction often glues a heading to the first sentence, so the repeat may sit inside it.
                if any(key in seen for seen in self._seen):
                    continue
                self._seen.append(key)
            out.append(sentence)
        return out
