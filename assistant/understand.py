"""Understanding a question before it is searched: its language, whether it follows up on earlier turns, and what
retrieval searches for. The result is a ``Query``, the value every later stage reads.

A question in a conversation is a follow-up when it refers back in its words ("and for children?"), when alone it
finds nothing, or when alone it finds the pages the previous question found (then it is on the same topic, and
searching it together with that question loses nothing). A question that names another topic and does not refer
back is answered on its own, however short. The trace records which rule decided.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant import classify
from assistant.conversation import Turn, earlier_questions, is_follow_up, question_parts, search_query
from assistant.errors import ComposerError
from assistant.language import SOURCE_LANGUAGE, Detected, detect
from assistant.retrieve import Filters, Retrieval, Retriever
from assistant.scope import tries_to_instruct

log = logging.getLogger(__name__)

TOPIC_PAGES = 3  # a question alone and the one before are on one topic when their best passages share a page

Condense = Callable[[str, Sequence[Turn]], str]  # a language model's rewrite of a follow-up that stands alone


@dataclass(frozen=True)
class Query:
    """A question as understood: cleaned text, language, follow-up decision and what retrieval searches for."""

    question: str
    language: str
    detected: Detected
    space: str  # "en": searched with the English model; "multilingual": with the multilingual model
    follow_up: bool = False
    follow_up_rule: str = ""
    search: str = ""
    kinds: frozenset[str] = frozenset()  # what it asks for (assistant.classify): figure, date, list, ...
    parts: tuple[str, ...] = ()  # the separate asks of a compound question

    @property
    def focus(self) -> str:
        """For a follow-up searched with earlier questions: the follow-up alone, which says what is asked now."""
        return self.question if self.search != self.question else ""


def understood(question: str, detected: Detected, *, space: str, follow_up: bool, rule: str, search: str) -> Query:
    """The ``Query`` every later stage reads, with what the question asks for and its separate asks."""
    asked = question  # the kind and the asks are the question's own, not those of the earlier turns it is joined to
    return Query(
        question, detected.code, detected, space, follow_up, rule, search,
        kinds=classify.kinds(asked), parts=tuple(question_parts(asked)),
    )  # fmt: skip


def language_of(question: str, history: Sequence[Turn], hint: str = "") -> Detected:
    """The question's language; when detection is unsure, the hint (the app's choice) or the conversation's."""
    if not hint:
        earlier = earlier_questions(history)
        if earlier:
            found = detect(earlier[-1])
            hint = found.code if found.by == "detected" else ""
    return detect(question, hint=hint)


def resolve(
    question: str,
    history: Sequence[Turn],
    retriever: Retriever,
    *,
    floor: Callable[[Retrieval], float],
    language: str = SOURCE_LANGUAGE,
    filters: Filters | None = None,
    vector: np.ndarray | None = None,
) -> tuple[bool, str, Retrieval | None]:
    """Whether a question follows up on the history, the rule that decided, and the search of the question alone
    (which is the answer's search when it stands alone)."""
    earlier = earlier_questions(history)
    if not earlier:
        return False, "", None
    if language == SOURCE_LANGUAGE and is_follow_up(question):
        return True, "refers-back", None
    alone = retriever.retrieve(question, filters=filters, vector=vector, language=language)
    if alone.best_match < floor(alone):
        return True, "finds-nothing-alone", alone
    before = retriever.retrieve(earlier[-1], k=TOPIC_PAGES, filters=filters, language=language)
    pages = {p.chunk.doc_id for p in alone.passages[:TOPIC_PAGES]}
    if pages & {p.chunk.doc_id for p in before.passages}:
        return True, "same-pages-as-before", alone
    return False, "new-topic", alone


def search_for(
    question: str, history: Sequence[Turn], *, follow_up: bool, condense: Condense | None, max_chars: int
) -> str:
    """What retrieval searches for: the question, or the follow-up made to stand alone (by the language model when
    there is one, else joined with the earlier questions)."""
    if not follow_up or not earlier_questions(history):
        return question
    if condense is not None:
        try:
            condensed = condense(question, history)
            if condensed and len(condensed) <= max_chars and not tries_to_instruct(condensed):
                return condensed
        except ComposerError as exc:
            log.warning("%s; resolving the follow-up without it", exc)
    return search_query(question, history, follow_up=True)
