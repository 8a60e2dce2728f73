"""Text normalisation, index terms and sentence splitting, shared by ingest and retrieval."""

from __future__ import annotations

import pytest

from common.text import normalize, terms
from vectorstore.sentences import answer_units, split_sentences

pytestmark = pytest.mark.unit


def test_normalize_unifies_quotes_dashes_and_spaces() -> None:
    raw = "  The applicant\u2019s \u201cfile\u201d\u00a0\u2014 complete\n\tand   signed  "
    assert normalize(raw) == 'The applicant\'s "file" - complete and signed'


def test_normalize_folds_compatibility_characters() -> None:
    assert normalize("\uff25\uff35 \ufb01ngerprints") == "EU fingerprints"  # full-width letters, the "fi" ligature
    assert normalize(" \n ") == ""


def test_terms_are_stemmed_lower_case_without_accents_or_stop_words() -> None:
    assert terms("The Applicants applied for asylum") == ["applic", "appli", "asylum"]
    assert terms("Österreich") == terms("osterreich") == ["osterreich"]
    assert terms("the and of which") == []
    assert terms("") == []


def test_terms_keep_numbers_and_join_apostrophes() -> None:
    assert terms("Regulation 2024/1351") == ["regul", "2024", "1351"]
    assert terms("the applicant\u2019s right") == terms("the applicant's right") == ["applic", "right"]


def test_question_and_passage_wording_meet_on_the_same_terms() -> None:
    assert set(terms("Are spouses allowed to work?")) <= set(terms("A spouse is allowed working rights."))


def test_sentences_end_at_full_stops_question_and_exclamation_marks() -> None:
    text = "The directive applies from June. Does it cover students? It does!"
    assert split_sentences(text) == ["The directive applies from June.", "Does it cover students?", "It does!"]


def test_abbreviations_initials_and_point_labels_do_not_end_sentences() -> None:
    text = (
        "See Art. 6 and p. 12, e.g. the annex. Dr. Weber and J. Smith signed it. 1. Applicants register. 2. They wait."
    )
    assert split_sentences(text) == [
        "See Art. 6 and p. 12, e.g. the annex.",
        "Dr. Weber and J. Smith signed it.",
        "1. Applicants register.",
        "2. They wait.",
    ]


def test_a_lower_case_start_is_no_new_sentence() -> None:
    assert split_sentences("It ends here. and goes on.") == ["It ends here. and goes on."]


def test_a_newline_is_always_a_boundary_and_blank_lines_vanish() -> None:
    assert split_sentences("Legal pathways\n\nFacilitating study and research\n") == [
        "Legal pathways",
        "Facilitating study and research",
    ]
    assert split_sentences("") == []


def test_sentences_are_normalised() -> None:
    assert split_sentences("A  \u201cquoted\u201d   word. Next") == ['A "quoted" word.', "Next"]


def test_a_closing_quote_stays_with_its_sentence() -> None:
    assert split_sentences('The Council said "Agreed." Then it voted.') == [
        'The Council said "Agreed."',
        "Then it voted.",
    ]


def test_a_lead_in_keeps_its_list_items() -> None:
    sentences = ["Member States shall ensure that:", "(a) applicants are informed;", "(b) they have access.", "Next."]
    assert answer_units(sentences) == [
        "Member States shall ensure that: (a) applicants are informed; (b) they have access.",
        "Next.",
    ]


def test_a_lower_case_sentence_continues_the_one_before() -> None:
    assert answer_units(["The fee is EUR 80.", "for children under twelve it is lower.", "Apply online."]) == [
        "The fee is EUR 80. for children under twelve it is lower.",
        "Apply online.",
    ]


def test_a_sentence_ending_with_a_comma_or_semicolon_goes_on_in_the_next() -> None:
    assert answer_units(["Under the directive,", "Member States decide.", "They may refuse;", "Others accept."]) == [
        "Under the directive, Member States decide.",
        "They may refuse; Others accept.",
    ]


def test_units_joined_give_back_the_joined_sentences() -> None:
    sentences = ["First point:", "one,", "two.", "Second point.", "Third point;", "last."]
    assert " ".join(answer_units(sentences)) == " ".join(sentences)
    assert answer_units([]) == []
