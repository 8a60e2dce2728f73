"""Extracted-text repairs: glued sentences pulled apart, unpunctuated runs of figures cut into statements."""

from __future__ import annotations

import pytest

from ingest.clean import figure_statements, repair_joins

pytestmark = pytest.mark.unit


def test_a_full_stop_without_a_space_is_a_break() -> None:
    assert repair_joins("Checks apply.Travellers register.") == "Checks apply.\nTravellers register."
    assert repair_joins("Is it free?Yes it is.") == "Is it free?\nYes it is."


def test_an_abbreviation_before_a_capital_is_no_break() -> None:
    assert repair_joins("see p.A of the annex") == "see p.A of the annex"
    assert repair_joins("for example e.g.Member States") == "for example e.g.Member States"


def test_a_heading_glued_to_a_sentence_is_separated() -> None:
    assert repair_joins("Family reunificationSpouses may join") == "Family reunification\nSpouses may join"


def test_an_acronym_glued_to_a_word_is_separated() -> None:
    assert repair_joins("The EUAA and FRONTEXGuidance") == "The EUAA and FRONTEX\nGuidance"


def test_a_word_glued_to_a_number_is_separated() -> None:
    assert repair_joins("irregular crossings4.2 million") == "irregular crossings\n4.2 million"
    assert repair_joins("(see annex)3 routes") == "(see annex)\n3 routes"


def test_camel_case_brands_and_ordinary_text_are_left_alone() -> None:
    for text in ("Share it on WhatsApp or LinkedIn", "Use PowerPoint slides", "Regulation (EU) 2024/1351 applies."):
        assert repair_joins(text) == text


def test_short_lower_case_runs_are_not_split() -> None:
    # Only a word of four letters or more running into a capital is taken for a glued heading.
    assert repair_joins("the eID card and McDonald") == "the eID card and McDonald"


def test_an_unpunctuated_run_of_figures_becomes_one_statement_per_figure() -> None:
    run = "Key figures 2.1 million Residence permits issued for work 950 000 Students enrolled in the EU"
    assert figure_statements([run]) == [
        "Key figures",
        "2.1 million Residence permits issued for work.",
        "950 000 Students enrolled in the EU.",
    ]


def test_percentages_and_brackets_start_and_end_statements() -> None:
    run = "Non-EU citizens (of the population) 6% Foreign Born residents in the EU"
    assert figure_statements([run]) == ["Non-EU citizens (of the population)", "6% Foreign Born residents in the EU."]


def test_a_sentence_that_already_ends_is_left_as_it_is() -> None:
    sentences = ["In 2023, 4 million people Moved here.", "Numbers such as 12 Member States: see below:"]
    assert figure_statements(sentences) == sentences


def test_a_short_figure_gets_no_full_stop_and_plain_text_stays() -> None:
    assert figure_statements(["Totals 12 Member States"]) == ["Totals", "12 Member States"]
    assert figure_statements(["A heading without numbers"]) == ["A heading without numbers"]
    assert figure_statements([]) == []


def test_a_number_followed_by_a_lower_case_word_does_not_start_a_statement() -> None:
    text = "Applications rose to 12 thousand applications in the year"
    assert figure_statements([text]) == [text]
