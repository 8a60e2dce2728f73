"""The default composer: quotes the sentences of the retrieved passages that best answer the question.

Offline, deterministic and fast: the sentence vectors were computed at ingest (each sentence with its section's
name), so composing is a few matrix products. Each sentence is scored by its cosine similarity to the question, the
share of the question's words it (or its section heading) contains, each word weighted by its rarity in the store
(an everyday word counting when the pages' word for it is there, see ``assistant.lexicon``),
and its passage's similarity to the question, with a small bonus for numbers when the question asks for a figure or
a date, and for sentences naming the term a definition question asks about ("what does 'safe third country'
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

from assistant import classify, rules
from assistant.classify import defined_term
from assistant.compose import NOT_IN_SOURCES
from assistant.retrieve import Retrieval, word_share
from assistant.scope import states_a_gap, unanswered_count
from assistant.sentences import ChunkSentences
from assistant.verify import Cited
from common.text import terms

ANSWER_FLOOR = rules.value("answer-floor")  # least cosine similarity between the question and the best sentence
MARGIN = rules.value("answer-margin")  # a further sentence joins when its score is within this of the best one
MAX_SENTENCES = rules.count("max-sentences")
MAX_SENTENCES_LIST = rules.count("max-sentences-list")
MAX_WORDS = rules.count("max-answer-words")
DUPLICATE_COSINE = rules.value("duplicate-cosine")
FOLLOW_UP_CONTEXT = rules.value("follow-up-context")  # in a follow-up, the earlier questions' weight
# Sentence similarity, share of the question's words (by rarity), passage similarity.
WEIGHTS = (
    rules.value("weight-sentence-similarity"),
    rules.value("weight-word-share"),
    rules.value("weight-passage-similarity"),
)
GAP_ON_POINT = rules.value("gap-on-point")  # least word share of a sentence saying the sources lack it
POINTER_WORDS = rules.count("pointer-words")
_DIGIT = re.compile(r"\d")


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
    figure_bonus: float = rules.value("figure-bonus")
    definition_bonus: float = rules.value("definition-bonus")
    off_target_penalty: float = rules.value("off-target-penalty")

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
        figure = "figure" in classify.kinds(question)
        term = defined_term(retrieval.focus_query or question) if ask is None and not figure else ""
        out: list[Candidate] = []
        w_sim, w_words, w_passage = self.weights
        statement_end, pointer = rules.pattern("statement-end"), rules.pattern("pointer")
        about_page = rules.pattern("about-the-page")
        for index, passage in enumerate(retrieval.passages):
            entry = sentences.get(passage.chunk.id)
            if entry is None or not entry.sentences:
                continue
            # About another thing than the one the question names: quoted only when nothing on target comes close.
            penalty = self.off_target_penalty if index in retrieval.off_target else 0.0
            similarities = retrieval.similarities(entry.vectors @ vector)
            heading_terms = set(terms(passage.chunk.heading_path))
            for position, (text, similarity) in enumerate(zip(entry.sentences, similarities, strict=True)):
                if not statement_end.search(text):
                    continue  # a heading, a link's text or a list without its lead-in: not a statement to quote
                if pointer.match(text) and len(text.split()) <= POINTER_WORDS:
                    continue
                if about_page.search(text):
                    continue  # "This page explains ...", "(see below)": about the page, not the policy
                share = word_share(weight, set(terms(text)) | heading_terms, alts)
                score = w_sim * float(similarity) + w_words * share + w_passage * passage.relevance - penalty
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
        limit = self.max_sentences_list if "list" in classify.kinds(question) else self.max_sentences
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
            depends = rules.pattern("sentence-refers-back").match(cand.text) or rules.pattern(
                "sentence-refers-back-inside"
            ).search(cand.text)
            if depends and cand.position > 0:
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
