"""Text normalisation shared by ingest and retrieval, so that questions and passages meet on equal terms."""

from __future__ import annotations

import re
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


def terms(text: str) -> list[str]:
    """Lexical index terms: lower-cased, accents removed, stop words dropped, Snowball-stemmed."""
    words = [_strip_accents(w).lower().replace("'", "").replace("’", "") for w in _WORD.findall(normalize(text))]
    words = [w for w in words if w and w not in STOPWORDS]
    return list(_stemmer().stemWords(words))
