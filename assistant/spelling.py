"""Typo repair for questions: a word the store has never seen is replaced by a close word it has.

"is a health check part of the scrrening at the boarder" finds nothing under "scrren" and "boarder"; the store's own
vocabulary (stemmed index terms) knows "screen" and "border". A word is repaired only when the store does not hold
it, the embedding model's vocabulary does not know it as a word either (so "wife" or "recipe" stay as they are),
it is not capitalised (names stay), it has at least ``MIN_LENGTH`` letters, and a term of the store lies within
one edit (two for words of ``LONG_WORD`` letters or more; a swap of neighbouring letters is one edit); among
several, the one in most chunks wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set

from assistant import rules
from common.text import terms

MIN_LENGTH = rules.count("spelling-min-length")
LONG_WORD = rules.count("spelling-long-word")
MIN_CHUNKS = rules.count("spelling-min-chunks")  # a term must be in this many chunks to be offered as a repair
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def edit_distance(a: str, b: str, limit: int) -> int:
    """Edits (insert, delete, replace, swap neighbours) from ``a`` to ``b``; ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1] if previous[-1] <= limit else limit + 1


def repair(question: str, vocabulary: Mapping[str, int], words: Set[str] = frozenset()) -> tuple[str, dict[str, str]]:
    """The question with unknown words replaced by close known terms, and what was replaced by what.

    ``vocabulary`` holds the store's terms with the number of chunks holding each; ``words`` is a dictionary of
    correctly spelt words (lower case) that are never repaired.
    """
    if not vocabulary:
        return question, {}
    fixes: dict[str, str] = {}
    for word in set(_WORD.findall(question)):
        stems = terms(word)
        if (
            len(word) < MIN_LENGTH
            or len(stems) != 1
            or stems[0] in vocabulary
            or word[:1].isupper()
            or "'" in word
            or "’" in word
            or word.lower() in words
        ):
            continue
        stem = stems[0]
        limit = 2 if len(word) >= LONG_WORD else 1
        best: tuple[int, int, str] | None = None
        for known, chunks in vocabulary.items():
            if chunks < MIN_CHUNKS or abs(len(known) - len(stem)) > limit or known[:1] != stem[:1]:
                continue
            distance = edit_distance(stem, known, limit)
            if distance <= limit and (best is None or (distance, -chunks) < (best[0], -best[1])):
                best = (distance, chunks, known)
        if best is not None:
            fixes[word] = best[2]
    if not fixes:
        return question, {}
    repaired = _WORD.sub(lambda m: fixes.get(m.group(0), m.group(0)), question)
    return repaired, fixes
