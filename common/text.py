"""Text normalisation shared by ingest and retrieval, so that questions and passages meet on equal terms."""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import cache

import snowballstemmer

_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_QUOTES = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "\u00a0": " ", "\u2011": "-", "\u2013": "-", "\u2014": "-"}
)

# Words too common to help a lexical match; kept short on purpose (legal words like "shall" stay out).
STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being it its this that these
    those there their they them he she his her we you your i me my do does did can could would should will may might
    what which who whom whose when where why how not no so than too very into about over under up out also any all
    such other only own same just then once here more most some each both few nor""".split()
)

# Distinct word forms remembered with their terms. A corpus has tens of thousands; past the bound the memory is
# simply emptied, which costs a few re-stemmings and keeps a long-running process from growing without end.
TERM_CACHE_SIZE = 200_000


_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def safe_text(text: str) -> str:
    """Text that can be stored, shown and sent as UTF-8: a lone surrogate (half of a broken emoji) becomes the
    replacement character, control characters other than tab and newline become spaces, and the form is NFC."""
    text = _LONE_SURROGATE.sub("\ufffd", text)
    return unicodedata.normalize("NFC", _CONTROL.sub(" ", text))


def normalize(text: str) -> str:
    """Unicode NFKC, one kind of quote and dash, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return _SPACE.sub(" ", text).strip()


def _strip_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")


# A Snowball stemmer keeps the word it works on in itself, so two threads must not stem at once.
_stem_lock = threading.Lock()


class _TermCache(dict[str, str]):
    """Word as the word pattern finds it in normalised text -> its index term ('' for a stop word)."""

    def __missing__(self, word: str) -> str:
        folded = _strip_accents(word).lower().replace("'", "").replace("’", "")
        if not folded or folded in STOPWORDS:
            term = ""
        else:
            with _stem_lock:
                term = _stemmer().stemWord(folded)
        if len(self) >= TERM_CACHE_SIZE:
            self.clear()
        self[word] = term
        return term


_term_cache = _TermCache()


def terms(text: str) -> list[str]:
    """Lexical index terms: lower-cased, accents removed, stop words dropped, Snowball-stemmed."""
    # Only the words matter here, so the spacing clean-up of normalize() is skipped; ASCII text is its own NFKC
    # form and holds none of the quotes and dashes to unify.
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return list(filter(None, map(_term_cache.__getitem__, _WORD.findall(text))))
