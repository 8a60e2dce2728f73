"""Sentence splitting shared by ingest (repeat removal, chunking) and the assistant (answer sentences)."""

from __future__ import annotations

import re

from common.text import normalize

# Words that end with a full stop without ending a sentence.
ABBREVIATIONS = frozenset(
    """art arts no nos nr p pp para paras e.g i.e etc cf vs mr mrs ms dr prof st ibid approx ca fig figs vol eds ed
    jan feb mar apr jun jul aug sep sept oct nov dec co ltd inc dept min max oj reg dir""".split()
)
_SENTENCE_END = re.compile(r"(?<=[.!?])(?P<closing>[\"'”’)\]]*)\s+(?=[\"'“‘(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph; a repaired join (newline) is always a boundary, abbreviations never are."""
    sentences: list[str] = []
    for line in text.split("\n"):
        line = normalize(line)
        if not line:
            continue
        start = 0
        for match in _SENTENCE_END.finditer(line):
            end = match.start() + len(match.group("closing"))  # a closing quote or bracket stays with its sentence
            before = line[start:end]
            last = before.rsplit(" ", 1)[-1].lower().rstrip(".!?\"'”’)]")
            if last in ABBREVIATIONS or re.fullmatch(r"[a-z]", last):
                continue  # "Art. 5", "p. 3", "e.g. X"
            if re.fullmatch(r"\(?(\d+|[ivxlc]+)\)?\.?", before.strip().lower()):
                continue  # the label of a numbered point: "1. The ..." or "(iv). X"
            sentences.append(before.strip())
            start = match.end()
        tail = line[start:].strip()
        if tail:
            sentences.append(tail)
    return [s for s in sentences if s]


def answer_units(sentences: list[str]) -> list[str]:
    """Sentences regrouped so that each reads on its own: a list's lead-in ("...provides that:") keeps its items.

    A sentence starts a new unit unless the previous one ends with a colon, semicolon or comma, or it starts in
    lower case (a list item or a continuation). Joined with single spaces, the units give back the joined input.
    """
    units: list[str] = []
    for sentence in sentences:
        if units and (units[-1].endswith((":", ";", ",")) or sentence[:1].islower()):
            units[-1] = f"{units[-1]} {sentence}"
        else:
            units.append(sentence)
    return units


def unit_ends(text: str, units: list[str]) -> str:
    """The end offsets of ``units`` in ``text`` (their join), comma-separated, as stored with a chunk."""
    ends: list[int] = []
    position = 0
    for unit in units:
        start = text.find(unit, position)
        if start < 0:
            return ""
        position = start + len(unit)
        ends.append(position)
    return ",".join(map(str, ends))


def units_from_ends(text: str, ends: str) -> list[str]:
    """The units of a chunk from its stored end offsets (the inverse of ``unit_ends``)."""
    out: list[str] = []
    start = 0
    for end in (int(e) for e in ends.split(",") if e):
        piece = text[start:end].strip()
        if piece:
            out.append(piece)
        start = end
    return out
