"""The things a question names (ETIAS, Schengen, Eurodac, the Blue Card) and the passages that are about them.

A *name* is learnt from the sources, not listed here: a word that the pages write with a capital letter inside a
sentence (nearly always, and at least a few times), found on only some of the pages (a word on most pages, such as
"EU" or "Article", tells no page apart), mostly not beside a number (a month, an article), and not a place (a
country in a question is where the asker is: EU rules apply there too, see the country tables of ``scope.toml``).

When a question names some of these and at least one retrieved passage speaks of them, the passages that name none of
them are about something else: the extractive composer does not quote them (asked about the Schengen visa fee, it
does not answer with the ETIAS fee). When no retrieved passage names them, nothing is set aside.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from assistant import rules
from vectorstore.records import Chunk

MIN_CAPITALISED = 3  # occurrences with a capital inside a sentence before a word counts as a name
MIN_CAPITAL_SHARE = 0.9  # of its occurrences inside sentences
MAX_PAGE_SHARE = 0.4  # of the pages a name may appear on; above, it tells no page apart
MAX_BY_NUMBERS = 0.5  # share of its occurrences next to a number above which a word is part of a date or reference
SHORT_NAME = 3  # names of this many letters or fewer count in a question only in capitals
MIN_PAGES = 8  # with fewer pages every word is on a large share of them: the page share is not applied
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_NUMBER_NEAR = re.compile(r"\d[\s(]*$")
_NUMBER_NEAR_AFTER = re.compile(r"[\s(]{0,2}\d")
_ACRONYM = re.compile(r"((?:[\w'-]+\s+){1,9}?[\w'-]+)\s+\(([A-Z]{2,8})\)")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;•\n(\[\"“]\s*)$")
PLACE_TABLES = ("countries-eu-schengen", "countries-outside-eu")


def _places() -> frozenset[str]:
    words: set[str] = set()
    for rule_id in PLACE_TABLES:
        for key, value in rules.table(rule_id).items():
            words.update(key.lower().split())
            words.update(value.lower().split())
    return frozenset(words)


def expansions(text: str) -> dict[str, str]:
    """Acronyms a text spells out, "Asylum and Migration Management Regulation (AMMR)": acronym -> words, lowercase.
    The capitals of the words before the brackets must spell the acronym."""
    out = {}
    for match in _ACRONYM.finditer(text):
        acronym = match.group(2)
        words = match.group(1).split()
        capitals = [w for w in words if w[0].isupper()]
        for start in range(len(capitals)):
            if "".join(w[0] for w in capitals[start:]).upper() == acronym.upper():
                first = words.index(capitals[start]) if capitals[start] in words else 0
                out[acronym.lower()] = " ".join(words[first:]).lower()
                break
    return out


@dataclass(frozen=True)
class Names:
    """The names learnt from a store's chunks, and the words some of them (acronyms) stand for."""

    words: frozenset[str]
    spelt_out: dict[str, str] = field(default_factory=dict)

    def named(self, text: str) -> frozenset[str]:
        """The names ``text`` holds: in any case (people type "etias" and "schengen"), except short ones, which must
        be in capitals ("UN", "EES": "un" is a word in other languages)."""
        found = set()
        for match in _WORD.finditer(text):
            word = match.group(0)
            key = word.lower()
            if key in self.words and (len(key) > SHORT_NAME or word.isupper()):
                found.add(key)
        return frozenset(found)

    def mentions(self, chunk: Chunk, names: Iterable[str]) -> bool:
        """Whether the chunk (its title, headings or text) holds any of ``names``, or the words an acronym among them
        stands for."""
        text = f"{chunk.title} {chunk.heading_path} {chunk.text}"
        held = {m.group(0).lower() for m in _WORD.finditer(text)}
        lowered = " ".join(text.lower().split())
        return any(n in held or (n in self.spelt_out and self.spelt_out[n] in lowered) for n in names)

    def off_target(self, question: str, chunks: Sequence[Chunk]) -> tuple[frozenset[str], tuple[int, ...]]:
        """What the question names, and the indexes of the chunks about something else (see the module's text)."""
        named = self.named(question)
        if not named:
            return named, ()
        about = [self.mentions(c, named) for c in chunks]
        if not any(about):
            return named, ()
        return named, tuple(i for i, a in enumerate(about) if not a)


def learn(chunks: Iterable[Chunk]) -> Names:
    """The names of a collection of chunks (see the module's text)."""
    capital: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    by_number: Counter[str] = Counter()  # "1 January 2024", "Article 17", "COM(2020) 609"
    pages: dict[str, set[str]] = {}
    all_pages: set[str] = set()
    spelt_out: dict[str, str] = {}
    for chunk in chunks:
        all_pages.add(chunk.doc_id)
        text = chunk.text
        spelt_out.update(expansions(text))
        for match in _WORD.finditer(text):
            word = match.group(0)
            key = word.lower()
            pages.setdefault(key, set()).add(chunk.doc_id)
            if _NUMBER_NEAR.search(text[max(0, match.start() - 3) : match.start()]) or _NUMBER_NEAR_AFTER.match(
                text, match.end()
            ):
                by_number[key] += 1
            if _SENTENCE_START.search(text[max(0, match.start() - 3) : match.start()]):
                continue  # a capital at the start of a sentence or an item says nothing
            if word[0].isupper():
                capital[key] += 1
            else:
                lower[key] += 1
    places = _places()
    limit = MAX_PAGE_SHARE * len(all_pages) if len(all_pages) >= MIN_PAGES else float("inf")
    words = {
        key
        for key, count in capital.items()
        if count >= MIN_CAPITALISED
        and count / (count + lower[key]) >= MIN_CAPITAL_SHARE
        and len(pages[key]) <= limit
        and by_number[key] <= MAX_BY_NUMBERS * (count + lower[key])
        and key not in places
        and len(key) > 1
    }
    return Names(frozenset(words), {a: w for a, w in spelt_out.items() if a in words})


class NameBook:
    """The names of a store, learnt once per state of its collection (another ingest learns them again)."""

    def __init__(self, store: object) -> None:
        self.store = store
        self._names: Names | None = None
        self._generation: object = None
        self._lock = threading.Lock()

    def get(self) -> Names:
        store = self.store
        generation = store.generation()  # type: ignore[attr-defined]
        with self._lock:
            if self._names is None or generation != self._generation:
                ids = store.all_chunk_ids()  # type: ignore[attr-defined]
                chunks: list[Chunk] = []
                for start in range(0, len(ids), 1000):
                    chunks.extend(store.get_chunks(ids[start : start + 1000]))  # type: ignore[attr-defined]
                self._names, self._generation = learn(chunks), generation
            return self._names
