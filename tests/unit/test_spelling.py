"""Typo repair against a small vocabulary built here: misspelt words repaired, known words and names left alone."""

from __future__ import annotations

import pytest

from assistant.spelling import edit_distance, repair

pytestmark = pytest.mark.unit

# Stemmed store terms and how many chunks hold each, as the lexical index reports them.
VOCABULARY = {
    "screen": 5,
    "border": 7,
    "procedur": 3,
    "applic": 9,
    "asylum": 12,
    "permit": 4,
    "visa": 8,
    "detent": 6,
    "2024": 30,
}


def test_misspelt_words_become_the_close_store_terms() -> None:
    repaired, fixes = repair("who carries out the scrreening of people crossing the boarder", VOCABULARY)
    assert fixes == {"scrreening": "screen", "boarder": "border"}
    assert repaired == "who carries out the screen of people crossing the border"


def test_a_long_word_may_be_two_edits_away_a_short_one_only_one() -> None:
    assert repair("the assyllum", VOCABULARY)[1] == {"assyllum": "asylum"}  # eight letters, two edits: repaired
    assert repair("the asilumm", VOCABULARY) == ("the asilumm", {})  # seven letters, two edits: left alone
    assert repair("the asilum", VOCABULARY)[1] == {"asilum": "asylum"}  # one edit is enough for a short word


def test_swapped_neighbours_count_as_one_edit() -> None:
    assert repair("a vsia for a short stay", VOCABULARY)[1] == {"vsia": "visa"}
    assert edit_distance("vsia", "visa", 2) == 1
    assert edit_distance("abc", "xyz", 1) == 2  # past the limit: limit + 1


def test_words_the_store_holds_are_not_touched() -> None:
    question = "asylum border procedure"
    assert repair(question, VOCABULARY) == (question, {})


def test_dictionary_words_are_never_repaired() -> None:
    # "boarder" is a real word: with it in the dictionary, it stays even though "border" is one edit away.
    assert repair("the boarder", VOCABULARY, frozenset({"boarder"})) == ("the boarder", {})
    assert repair("the boarder", VOCABULARY, frozenset())[1] == {"boarder": "border"}


def test_capitalised_words_are_names_and_stay() -> None:
    repaired, fixes = repair("Boarder wrote about an asylm claim", VOCABULARY)
    assert fixes == {"asylm": "asylum"}
    assert repaired.startswith("Boarder ")


def test_short_words_are_not_repaired() -> None:
    assert repair("vsa", {"visa": 8, "vsb": 8}) == ("vsa", {})


def test_numbers_are_not_repaired() -> None:
    assert repair("visa rules for 2025", VOCABULARY) == ("visa rules for 2025", {})


def test_words_with_an_apostrophe_are_left_alone() -> None:
    repaired, fixes = repair("the boarder's permt", VOCABULARY)
    assert fixes == {"permt": "permit"}
    assert repaired == "the boarder's permit"


def test_a_rare_term_is_not_offered_as_a_repair() -> None:
    assert repair("the boarder", {"border": 1}) == ("the boarder", {})


def test_among_equally_close_terms_the_one_in_most_chunks_wins() -> None:
    assert repair("permot", {"permit": 3, "permat": 9})[1] == {"permot": "permat"}
    assert repair("permot", {"permit": 9, "permat": 3})[1] == {"permot": "permit"}


def test_a_closer_term_beats_a_more_common_one() -> None:
    # "procedrue" -> "procedur" is one edit; "procedxx" is two edits away but in far more chunks.
    assert repair("procedrue", {"procedur": 2, "procedxx": 50})[1] == {"procedrue": "procedur"}


def test_every_occurrence_of_a_repaired_word_is_replaced_and_only_whole_words() -> None:
    repaired, _ = repair("asylm or asylm, not asylmx", {"asylum": 4})
    assert repaired == "asylum or asylum, not asylmx"


def test_no_vocabulary_means_no_repair() -> None:
    assert repair("the boarder", {}) == ("the boarder", {})
