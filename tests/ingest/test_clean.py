"""Cleaning real extracted text: run-together sentences repaired, repeated paragraphs dropped."""

from __future__ import annotations

import pytest

from ingest.clean import Deduplicator, repair_joins, split_sentences
from tests.conftest import SHARED

SEED = SHARED / "seed" / "eu-migration-and-asylum-overview.txt"


def test_run_together_sentences_are_separated() -> None:
    text = "Borders matter for everyone.The Union agreed new rules in 2024.Member States apply them."
    assert split_sentences(repair_joins(text)) == [
        "Borders matter for everyone.",
        "The Union agreed new rules in 2024.",
        "Member States apply them.",
    ]


def test_heading_glued_to_sentence_is_separated() -> None:
    assert split_sentences(repair_joins("Legal pathwaysFacilitating study and research")) == [
        "Legal pathways",
        "Facilitating study and research",
    ]
    assert split_sentences(repair_joins("registered in 2023, compared to 12 legal entries11.2 million workers")) == [
        "registered in 2023, compared to 12 legal entries",
        "11.2 million workers",
    ]


def test_abbreviations_and_numbers_do_not_end_sentences() -> None:
    text = "See Art. 5 of Regulation (EU) No. 604/2013, e.g. for transfers. Next point follows."
    assert split_sentences(text) == [
        "See Art. 5 of Regulation (EU) No. 604/2013, e.g. for transfers.",
        "Next point follows.",
    ]


def test_camel_case_brands_are_left_alone() -> None:
    assert repair_joins("Follow us on LinkedIn and YouTube") == "Follow us on LinkedIn and YouTube"


def test_repeated_sentences_are_dropped_even_inside_longer_ones() -> None:
    dedup = Deduplicator()
    first = dedup.fresh(["Heading words Member States will support each other using a solidarity mechanism."])
    again = dedup.fresh(["Member States will support each other using a solidarity mechanism.", "Short one."])
    assert len(first) == 1
    assert again == ["Short one."]


def test_a_sentence_inside_a_longer_one_is_not_a_repeat() -> None:
    dedup = Deduplicator()
    dedup.fresh(["The Single Permit Directive (EU) 2024/1233 sets one procedure for work and residence, and more."])
    item = ["the Single Permit Directive (EU) 2024/1233;"]
    assert dedup.fresh(item) == item
    opening = "A designation can leave out parts of a country or groups of its people"
    dedup.fresh([f"{opening}, and it is reviewed every year by the Commission with the agencies concerned."])
    assert dedup.fresh([f"{opening}."]) == [f"{opening}."]


@pytest.mark.skipif(not SEED.exists(), reason="shared seed text not present")
def test_seed_text_comes_out_separated_and_without_repeats() -> None:
    from ingest.parse_text import parse_text

    page = parse_text(SEED.read_text(encoding="utf-8"), "https://example.org/seed", markdown=False)
    sentences = [s for block in page.blocks for s in block.sentences]
    # Sentences that the extraction glued together now stand apart.
    assert any(s.startswith("The EU's approach to managing migration") for s in sentences)
    assert any(s.startswith("Improving security at external borders") for s in sentences)
    assert any(s.startswith("In January 2026, the Commission presented a five-year strategy") for s in sentences)
    # Each paragraph the page repeats survives once.
    for fragment in ("Member States will support each other", "The Commission also presented the EU's first-ever visa"):
        assert sum(fragment in s for s in sentences) == 1, fragment
    assert page.updated == "2026-02-05"


def test_a_run_of_figures_becomes_one_statement_per_figure() -> None:
    from ingest.clean import figure_statements

    run = (
        "Key numbers at a glance 4.2 million Residents from outside the union in the region (8% of all people)"
        "120 300 Arrivals recorded in 2025, against 2 100 000 visits"
    )
    sentences = figure_statements(split_sentences(repair_joins(run)))
    assert sentences == [
        "Key numbers at a glance",
        "4.2 million Residents from outside the union in the region (8% of all people).",
        "120 300 Arrivals recorded in 2025, against 2 100 000 visits.",
    ]
    clean = ["The fee is EUR 20 for 3 Member States.", "It applies from 2026."]
    assert figure_statements(clean) == clean  # sentences that end as sentences are left alone
