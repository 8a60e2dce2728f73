"""Word coverage: the share of a question's weighted words a passage holds, with everyday words' stand-ins."""

from __future__ import annotations

import pytest

from assistant.lexicon import Alternatives
from assistant.retrieve import coverage, word_share
from vectorstore.records import Chunk

pytestmark = pytest.mark.unit

# Question stems weighted by rarity (idf): the rare one counts three times as much.
WEIGHTS = {"wife": 3.0, "join": 1.0}
SPOUSE = Alternatives({"wife": frozenset({"spous"})}, "spouse")


def chunk(text: str, *, title: str = "Family reunification", heading_path: str = "") -> Chunk:
    return Chunk(
        id="c1", doc_id="d1", text=text, title=title, url="https://example.eu/p", link="/p", heading_path=heading_path
    )


def test_the_share_is_weighted_by_each_words_weight() -> None:
    assert word_share(WEIGHTS, {"join"}) == pytest.approx(0.25)
    assert word_share(WEIGHTS, {"wife"}) == pytest.approx(0.75)
    assert word_share(WEIGHTS, {"wife", "join", "other"}) == pytest.approx(1.0)
    assert word_share(WEIGHTS, set()) == 0.0


def test_a_policy_word_stands_in_for_an_everyday_word() -> None:
    assert word_share(WEIGHTS, {"spous", "join"}) == pytest.approx(0.25)
    assert word_share(WEIGHTS, {"spous", "join"}, SPOUSE) == pytest.approx(1.0)
    # The stand-in only counts for the word it stands in for.
    assert word_share({"husband": 1.0}, {"spous"}, SPOUSE) == 0.0


def test_alternatives_held_checks_the_word_itself_or_a_stand_in() -> None:
    assert SPOUSE.held("wife", {"wife"})
    assert SPOUSE.held("wife", {"spous"})
    assert not SPOUSE.held("wife", {"partner"})
    assert not Alternatives().held("wife", {"spous"})


def test_no_words_or_only_zero_weights_give_zero() -> None:
    assert word_share({}, {"anything"}) == 0.0
    assert word_share({"visa": 0.0, "fee": 0.0}, {"visa", "fee"}) == 0.0


def test_a_zero_weight_word_does_not_change_the_share() -> None:
    assert word_share({"visa": 2.0, "the": 0.0}, {"visa"}) == pytest.approx(1.0)


def test_coverage_reads_the_chunks_text_headings_and_title_as_stems() -> None:
    weights = {"spous": 1.0, "famili": 1.0, "come": 1.0, "sponsor": 1.0}
    # "spouses" and "sponsors" meet the question's stems; "family" is in the title, "come" in the heading path.
    passage = chunk("Spouses may join their sponsors.", heading_path="Who can come")
    assert coverage(weights, passage) == pytest.approx(1.0)
    assert coverage(weights, chunk("Spouses may join their sponsors.", title="Overview")) == pytest.approx(0.5)


def test_coverage_credits_stand_ins() -> None:
    passage = chunk("A spouse may join the sponsor.", title="Overview")
    assert coverage(WEIGHTS, passage) == pytest.approx(0.25)
    assert coverage(WEIGHTS, passage, SPOUSE) == pytest.approx(1.0)
