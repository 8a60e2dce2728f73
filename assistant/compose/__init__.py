"""Answer composers: each turns a question and its retrieved passages into text with ``[n]`` markers.

``[n]`` refers to the n-th passage given. A composer yields text as it comes (a language model's tokens), or whole
``Cited`` sentences when it knows their sources exactly (the extractive composer). Whatever it yields is verified
afterwards (``assistant.verify``); a composer only proposes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from assistant.retrieve import Retrieval
from assistant.sentences import ChunkSentences
from assistant.verify import Cited


class Composer(Protocol):
    """Writes an answer from the passages; yields it in pieces as they come (a sentence, or a model's tokens)."""

    name: str

    def stream(
        self, question: str, retrieval: Retrieval, sentences: dict[str, ChunkSentences]
    ) -> Iterator[str | Cited]: ...


NOT_IN_SOURCES = "NOT_IN_SOURCES"  # what a composer yields (alone) when the passages do not answer
