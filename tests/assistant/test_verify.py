"""Citation parsing and checking, with the real embedding model."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.retrieve import Passage
from assistant.sentences import ChunkSentences
from assistant.verify import Checker, Cited, Verifier, numbers_in, parse_citations, render
from vectorstore.embeddings import Embedder
from vectorstore.records import Chunk

FEE = [
    "The ETIAS fee is EUR 20 per application.",
    "Applicants under 18 or over 70 do not pay the fee.",
]
BORDER = [
    "The asylum border procedure lasts at most 12 weeks from registration.",
    "Unaccompanied children are placed in it only for security reasons.",
]


def test_markers_are_read_wherever_they_stand() -> None:
    text = "First claim [1]. Second claim. [2][3] Third claim [1, 4].\n- A listed claim [2]\nNo marker here."
    assert parse_citations(text) == [
        Cited("First claim.", (1,)),
        Cited("Second claim.", (2, 3)),
        Cited("Third claim.", (1, 4)),
        Cited("A listed claim", (2,)),
        Cited("No marker here.", ()),
    ]


def test_a_sentence_ending_in_a_parenthesis_is_still_a_sentence() -> None:
    cited = parse_citations("It ends after 15 months (Article 37). [5] A return decision follows (Article 37). [1]")
    assert [c.citations for c in cited] == [(5,), (1,)]


def test_numbers_ignore_thousands_separators() -> None:
    assert numbers_in("30,000 places, 30 000 or 30000; EUR 7.50") == {"30000", "7.50"}
    assert numbers_in("no figures") == set()


def _sources(embedder: Embedder, *groups: list[str]) -> list[ChunkSentences]:
    return [ChunkSentences(list(g), embedder.embed(list(g))) for g in groups]


def test_support_accepts_quotes_and_paraphrases_and_rejects_changed_facts(bundled: Embedder) -> None:
    verifier = Verifier(bundled, threshold=0.62)
    fee, border = _sources(bundled, FEE, BORDER)
    assert verifier.support(FEE[0], [fee]).score == 1.0
    assert verifier.supports("An ETIAS application costs a fee of EUR 20.", [fee])
    assert not verifier.supports("The ETIAS fee is EUR 35 per application.", [fee])  # a figure the source lacks
    assert not verifier.supports("The ETIAS fee is EUR 20 per application.", [border])  # another source
    assert not verifier.supports("Applicants under 18 or over 70 do pay the fee.", [fee])  # negation dropped
    flipped = verifier.support("Unaccompanied children are not placed in it only for security reasons.", [border])
    assert not flipped.passes(0.62)
    assert not verifier.supports("Visas for students are free everywhere in the world.", [fee, border])


def _passages(*groups: list[str]) -> list[Passage]:
    return [
        Passage(
            chunk=Chunk(
                id=f"c{i}",
                doc_id=f"d{i}",
                text=" ".join(g),
                title=f"Page {i}",
                url=f"corpus/pages/p{i}.html",
                link=f"corpus/pages/p{i}.html#s{i}",
                section=f"Section {i}",
                updated="2026-01-01",
            ),
            score=1.0,
            relevance=0.8,
        )
        for i, g in enumerate(groups, start=1)
    ]


@pytest.fixture
def checker(bundled: Embedder) -> Checker:
    passages = _passages(FEE, BORDER)
    sentences = {p.chunk.id: s for p, s in zip(passages, _sources(bundled, FEE, BORDER), strict=True)}
    return Checker(passages, sentences, Verifier(bundled, threshold=0.62))


def test_checker_keeps_supported_recites_misattributed_and_drops_the_rest(checker: Checker) -> None:
    kept = checker.add(
        [
            Cited(BORDER[0], (2,)),  # right source
            Cited("The ETIAS fee is EUR 20 per application.", (9,)),  # invented [9], supported by [1]
            Cited("Applicants under 18 or over 70 do not pay the fee.", ()),  # no marker, supported by [1]
            Cited("The border procedure lasts 40 weeks.", (2,)),  # unsupported figure
            Cited("Travel insurance is compulsory for every visitor.", (7,)),  # invented and unsupported
        ]
    )
    # Renumbered by first appearance: the border page is [1], the fee page [2].
    assert [(s.text, s.citations) for s in kept] == [
        (BORDER[0], (1,)),
        (FEE[0], (2,)),
        (FEE[1], (2,)),
    ]
    assert [c.url for c in checker.citations()] == ["corpus/pages/p2.html#s2", "corpus/pages/p1.html#s1"]
    assert [c.n for c in checker.citations()] == [1, 2]
    reasons = {d.text: d.reason for d in checker.dropped}
    assert reasons["The border procedure lasts 40 weeks."] == "not supported by [2]"
    assert "[7]" in reasons["Travel insurance is compulsory for every visitor."]
    assert "[9]" not in render(checker.kept) and "[7]" not in render(checker.kept)


def test_checker_cites_only_the_sources_that_support_a_sentence(checker: Checker) -> None:
    (kept,) = checker.add([Cited(FEE[0], (1, 2))])
    assert kept.citations == (1,)
    assert len(checker.citations()) == 1


def test_render_puts_markers_after_each_sentence(checker: Checker) -> None:
    checker.add([Cited(FEE[0], (1,)), Cited(BORDER[0], (2,))])
    assert render(checker.kept) == f"{FEE[0]} [1] {BORDER[0]} [2]"
    assert np.isclose(checker.kept[0].support, 1.0)
