"""The default composer: quotes the sentences of the retrieved passages that best answer the question.

Offline, deterministic and fast: the sentence vectors were computed at ingest (each sentence with its section's
name), so composing is a few matrix products. Each sentence is scored by its cosine similarity to the question, the
share of the question's words it (or its section heading) contains, each word weighted by its rarity in the store
(an everyday word counting when the pages' word for it is there, see ``assistant.lexicon``),
and its passage's similarity to the question, with a small bonus for numbers when the question asks for a figure or
a date, and for sentences naming the term a definition question asks about ("what does 'first country of asylum'
mean?"). The best sentence must clear ``ANSWER_FLOOR``; a few more that score close to it join, unless they repeat
one already taken. A sentence that opens by referring back ("It", "This", "They") brings the sentence before it.
For a follow-up, searched together with the earlier question, the follow-up's own words and vector count as much
as the whole search, so that "and how long is it valid?" after a question on the Blue Card salary quotes the
validity, not the salary again. Sentences are given in the order of their passages, and within a passage in
reading order.

A compound question ("what does ETIAS cost, and how long is it valid?") first gets the best sentence for each of
its asks, scored the same way against that ask alone, so that the second ask is not crowded out by the first.
There is no answer when the best sentence is the corpus saying it lacks the information, or when a "how many X?"
question gets sentences with no number of X (``assistant.scope``). Pointers to other pages ("See the single
permit.") are never quoted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from assistant.compose import NOT_IN_SOURCES
from assistant.retrieve import Retrieval, word_share
from assistant.scope import states_a_gap, unanswered_count
from assistant.sentences import ChunkSentences
from assistant.verify import Cited
from vectorstore.text import terms

ANSWER_FLOOR = 0.20  # least cosine similarity between the question and the best sentence
MARGIN = 0.12  # a further sentence joins when its score is within this of the best one
MAX_SENTENCES = 4
MAX_SENTENCES_LIST = 5
MAX_WORDS = 130
DUPLICATE_COSINE = 0.9
FOLLOW_UP_CONTEXT = 0.5  # in a follow-up, the weight of the earlier questions against the follow-up itself
WEIGHTS = (0.40, 0.40, 0.20)  # sentence similarity, share of the question's words (by rarity), passage similarity
GAP_ON_POINT = 0.2  # least share of the question's words (by rarity) in a sentence saying the sources lack it

_FIGURE_QUESTION = re.compile(
    r"\b(how (many|much|long|old|often|soon|far)|when|what (date|year|age|amount|fee|salary|percentage)|"
    r"which (date|year)|deadline|until|since|number of|figure|threshold|minimum|maximum|limit|duration|cost|fee)\b",
    re.IGNORECASE,
)
_LIST_QUESTION = re.compile(r"\b(which|what are|list|name the|main|types of|kinds of|who are)\b", re.IGNORECASE)
_REFERS_BACK = re.compile(
    r"^(it|its|this|these|those|they|their|such|there|he|she|that|the same|however|in that case|in this case|"
    r"otherwise|also|then|both|each of them)\b",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
# "What is X?", "What does 'X' mean?", "X meaning", "define X": the term asked about.
_QUOTED_TERM = re.compile(r"['\"“‘]([^'\"”’]{3,60})['\"”’]")
_DEFINITION = re.compile(
    r"^(?:.*?\s(?:-|–|:)\s*)?(?:what\s+(?:is|are|does|do)\s+(?:an?\s+|the\s+)?(?P<a>[^?,]+?)(?:\s+mean|\s+exactly|"
    r"\s+in\s+eu\s+law|\s+in\s+the\s+eu)?\s*(?:[?,]|$)|(?:define|meaning\s+of|definition\s+of)\s+(?:an?\s+|the\s+)?"
    r"(?P<b>[^?,]+?)\s*(?:[?,]|$)|(?P<c>[^?,]+?)\s+(?:meaning|definition)\s*\?*\s*$)",
    re.IGNORECASE,
)
_PRONOUNS = frozenset("it that this they these those".split())
MAX_TERM_WORDS = 5
# A pointer to another page ("See the single permit.", "For the steps of the procedure, see asylum in the EU."):
# it names where the answer is without giving it.
_POINTER = re.compile(r"^(for [^,]{0,80}, )?see\b", re.IGNORECASE)
POINTER_WORDS = 20
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")


@dataclass(frozen=True)
class Candidate:
    """A sentence of a passage with its score."""

    passage: int  # index into retrieval.passages
    position: int  # index of the sentence within the passage
    text: str
    score: float
    similarity: float


@dataclass
class ExtractiveComposer:
    """Quotes the best-matching sentences of the passages, each with its ``[n]``."""

    name: str = "extractive"
    floor: float = ANSWER_FLOOR
    margin: float = MARGIN
    max_sentences: int = MAX_SENTENCES
    max_sentences_list: int = MAX_SENTENCES_LIST
    max_words: int = MAX_WORDS
    weights: tuple[float, float, float] = WEIGHTS
    figure_bonus: float = 0.05
    definition_bonus: float = 0.05

    def candidates(
        self,
        question: str,
        retrieval: Retrieval,
        sentences: dict[str, ChunkSentences],
        *,
        ask: tuple[str, np.ndarray] | None = None,
    ) -> list[Candidate]:
        """Every sentence of the passages, scored against the question (or one ``ask`` of it), best first."""
        wanted = set(terms(ask[0] if ask else retrieval.query or question))
        weight = {t: retrieval.term_weights.get(t, 1.0) for t in wanted}
        vector = retrieval.vector if ask is None else ask[1]
        if retrieval.focus_vector is not None and ask is None:
            # A follow-up: the passages are on the earlier topic already; what is asked now decides the sentences.
            focus = set(terms(retrieval.focus_query))
            weight = {t: w * (1.0 if t in focus else FOLLOW_UP_CONTEXT) for t, w in weight.items()}
            vector = FOLLOW_UP_CONTEXT * retrieval.vector + (1 - FOLLOW_UP_CONTEXT) * retrieval.focus_vector
        alts = retrieval.alternatives
        figure = bool(_FIGURE_QUESTION.search(question))
        term = defined_term(retrieval.focus_query or question) if ask is None and not figure else ""
        out: list[Candidate] = []
        w_sim, w_words, w_passage = self.weights
        for index, passage in enumerate(retrieval.passages):
            entry = sentences.get(passage.chunk.id)
            if entry is None or not entry.sentences:
                continue
            similarities = retrieval.similarities(entry.vectors @ vector)
            heading_terms = set(terms(passage.chunk.heading_path))
            for position, (text, similarity) in enumerate(zip(entry.sentences, similarities, strict=True)):
                if not _SENTENCE_END.search(text):
                    continue  # a heading, a link's text or a list without its lead-in: not a statement to quote
                if _POINTER.match(text) and len(text.split()) <= POINTER_WORDS:
                    continue
                share = word_share(weight, set(terms(text)) | heading_terms, alts)
                score = w_sim * float(similarity) + w_words * share + w_passage * passage.relevance
                if figure and _DIGIT.search(text):
                    score += self.figure_bonus
                if term and term in text.lower():
                    score += self.definition_bonus
                out.append(Candidate(index, position, text, score, float(similarity)))
        return sorted(out, key=lambda c: c.score, reverse=True)

    def select(self, question: str, retrieval: Retrieval, sentences: dict[str, ChunkSentences]) -> list[Candidate]:
        """The sentences of the answer in the order they are given; empty when none is close enough."""
        ranked = self.candidates(question, retrieval, sentences)
        if not ranked or ranked[0].similarity < self.floor or self._gap_on_point(ranked[0].text, retrieval):
            return []
        limit = self.max_sentences_list if _LIST_QUESTION.search(question) else self.max_sentences
        best = ranked[0].score
        # A compound question: the best sentence for each of its asks comes first, whatever its overall rank.
        by_place = {(c.passage, c.position): c for c in ranked}
        wanted: list[Candidate] = []
        for part in retrieval.parts:
            top = self.candidates(question, retrieval, sentences, ask=part)[:1]
            if top and top[0].similarity >= self.floor:
                wanted.append(by_place[(top[0].passage, top[0].position)])
        chosen: list[Candidate] = []
        words = 0
        for cand in [*dict.fromkeys(wanted), *ranked]:
            if any((c.passage, c.position) == (cand.passage, cand.position) for c in chosen):
                continue
            if cand not in wanted and (
                len(chosen) >= limit or cand.score < best - self.margin or cand.similarity < self.floor
            ):
                break
            vector = sentences[retrieval.passages[cand.passage].chunk.id].vectors[cand.position]
            if any(
                float(
                    retrieval.similarities(
                        vector @ sentences[retrieval.passages[c.passage].chunk.id].vectors[c.position]
                    )
                )
                > DUPLICATE_COSINE
                for c in chosen
            ):
                continue
            group = [cand]
            if _REFERS_BACK.match(cand.text) and cand.position > 0:
                entry = sentences[retrieval.passages[cand.passage].chunk.id]
                before = Candidate(cand.passage, cand.position - 1, entry.sentences[cand.position - 1], cand.score, 0)
                if not any((c.passage, c.position) == (before.passage, before.position) for c in chosen):
                    group.insert(0, before)
            size = sum(len(c.text.split()) for c in group)
            if chosen and words + size > self.max_words:
                continue
            chosen.extend(group)
            words += size
        asked = retrieval.focus_query or question
        quoted = " ".join(c.text for c in chosen)
        if unanswered_count(asked, quoted, retrieval.alternatives):
            return []  # "how many X?" and no number of X among the sentences: not an answer
        first_seen: dict[int, int] = {}
        for c in chosen:
            first_seen.setdefault(c.passage, len(first_seen))
        return sorted(chosen, key=lambda c: (first_seen[c.passage], c.position))

    @staticmethod
    def _gap_on_point(text: str, retrieval: Retrieval) -> bool:
        """Whether a sentence says the sources lack the information, in the question's own telling words."""
        return states_a_gap(text) and word_share(retrieval.term_weights, set(terms(text))) >= GAP_ON_POINT

    def stream(
        self, question: str, retrieval: Retrieval, sentences: dict[str, ChunkSentences]
    ) -> Iterator[str | Cited]:
        """The answer, one cited sentence at a time."""
        chosen = self.select(question, retrieval, sentences)
        if not chosen:
            yield NOT_IN_SOURCES
            return
        for cand in chosen:
            yield Cited(cand.text, (cand.passage + 1,))


def defined_term(question: str) -> str:
    """The term a definition question asks about, lower case ("what does 'first country of asylum' mean?" ->
    "first country of asylum"); '' for other questions."""
    match = _DEFINITION.match(question.strip())
    if match is None:
        return ""
    quoted = _QUOTED_TERM.search(question)
    term = quoted.group(1) if quoted else next(g for g in match.group("a", "b", "c") if g)
    term = term.strip(" '\"“”‘’").lower()
    return term if 0 < len(term.split()) <= MAX_TERM_WORDS and term not in _PRONOUNS else ""
