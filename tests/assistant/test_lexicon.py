"""Everyday words stand in for the pages' words: in the table, in word coverage, and in answers on the real corpus."""

from __future__ import annotations

import pytest

from assistant.lexicon import Alternatives, alternatives, lay_terms
from assistant.retrieve import coverage
from assistant.service import Assistant
from common.text import terms
from vectorstore.records import Chunk


def test_an_everyday_word_gets_the_policy_words_as_alternatives() -> None:
    alts = alternatives("I lost all my papers. Can they lock me up?")
    (paper,) = terms("papers")
    assert set(terms("documents")) <= alts.by_term[paper]
    (lock,) = terms("lock")
    assert set(terms("detention")) <= alts.by_term[lock]
    assert "documents" in alts.extra and "detention" in alts.extra


def test_the_longest_phrase_wins_and_words_inside_other_words_do_not_match() -> None:
    # "without papers" (irregular) rather than "papers" (documents); "kidney" holds "kid" but is not it.
    alts = alternatives("Came here without papers, my kidney hurts")
    (paper,) = terms("papers")
    assert set(terms("irregular")) <= alts.by_term[paper]
    assert not set(terms("documents")) & alts.by_term[paper]
    assert "child" not in alts.extra


def test_a_question_in_the_pages_own_words_has_no_alternatives() -> None:
    assert alternatives("What is the duration of the asylum border procedure?") == Alternatives()


def test_every_entry_is_lower_case_and_maps_to_other_words() -> None:
    bad = [
        lay for lay, official in lay_terms().items() if lay != lay.lower() or not official.strip() or lay == official
    ]
    assert not bad


def test_word_coverage_credits_the_everyday_word_when_the_policy_word_is_there() -> None:
    chunk = Chunk(
        id="c1",
        doc_id="d1",
        text="Applicants without identity documents must make a genuine effort to substantiate their claim.",
        title="Asylum procedure",
        url="https://example.eu/p",
        link="https://example.eu/p#evidence",
        heading_path="Asylum procedure > Evidence",
    )
    question = "I lost my papers, what now?"
    weights = {t: 1.0 for t in terms(question)}
    assert coverage(weights, chunk, alternatives(question)) > coverage(weights, chunk)


@pytest.mark.parametrize(
    ("question", "page"),
    [
        ("I lost all my papers on the way here. Will they throw out my claim?", "qualification-regulation.html"),
        ("Can they lock up my kids while we wait for a decision?", "children-and-vulnerable-people.html"),
    ],
)
def test_a_question_in_everyday_words_is_answered_from_the_page_in_policy_words(
    corpus_assistant: Assistant, question: str, page: str
) -> None:
    answer = corpus_assistant.ask(question)
    assert not answer.refused, answer.text
    assert any(page in c.url for c in answer.citations), [c.url for c in answer.citations]
