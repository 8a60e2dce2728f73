"""Everyday words people type, mapped to the words the policy pages use for the same thing.

People ask "I lost my papers", "will they lock me up?", "can my wife come?"; the pages say documents, detention,
spouse. A word the pages never use matches nothing lexically and, being rare, weighs most in the word-coverage
share that decides whether a passage answers at all. So retrieval also searches for the policy words, and a
passage or sentence that holds them is credited for the everyday word (``Alternatives``).

The list (``assistant/rules/lexicon.toml``) is general vocabulary of the field, written once for every question,
not answers to particular ones.
A phrase is matched on whole words, case-insensitively; the longest phrase wins where two overlap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from assistant import rules
from common.text import terms

# The theme tables of rules/lexicon.toml: everyday phrase -> policy words (space-separated).
THEMES = (
    "lay-documents-and-status",
    "lay-asylum-and-protection",
    "lay-people",
    "lay-moving-and-returning",
    "lay-work-and-daily-life",
    "lay-travel-and-procedures",
)


@cache
def lay_terms() -> dict[str, str]:
    """Every everyday phrase (lower case) with its policy words, from all the themes."""
    return {phrase: words for theme in THEMES for phrase, words in rules.table(theme).items()}


_NORMALISE = re.compile(r"[^\w\s-]+")


@dataclass(frozen=True)
class Alternatives:
    """The everyday words found in a question, each with the stemmed policy words that stand in for it."""

    by_term: Mapping[str, frozenset[str]] = field(default_factory=dict)  # everyday stem -> policy stems
    extra: str = ""  # the policy words, to search for alongside the question

    def held(self, term: str, present: set[str] | frozenset[str]) -> bool:
        """Whether ``term`` (a question stem) is present in a text, itself or through a policy word."""
        return term in present or bool(self.by_term.get(term, frozenset()) & present)


@cache
def _pattern() -> re.Pattern[str]:
    phrases = sorted(lay_terms(), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(p) for p in phrases) + r")(?![\w-])", re.IGNORECASE)


def alternatives(question: str) -> Alternatives:
    """The everyday phrases of ``question`` and their policy words."""
    text = _NORMALISE.sub(" ", question.lower())
    by_term: dict[str, set[str]] = {}
    extra: list[str] = []
    for match in _pattern().finditer(text):
        official = lay_terms()[match.group(1).lower()]
        stems = set(terms(official))
        extra.append(official)
        for stem in terms(match.group(1)):
            by_term.setdefault(stem, set()).update(stems - {stem})
    return Alternatives({t: frozenset(s) for t, s in by_term.items() if s}, " ".join(extra))
