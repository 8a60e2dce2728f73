"""Follow-up questions: whether one refers back, what is searched for it, and the asks of a compound question."""

from __future__ import annotations

import pytest

from assistant.conversation import Turn, is_follow_up, question_parts, search_query

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "question",
    [
        "and for seasonal workers?",
        "What about researchers?",
        "How long does that take?",
        "Can they appeal against it?",
        "But what if the permit expires",
    ],
)
def test_questions_that_refer_back_are_follow_ups(question: str) -> None:
    assert is_follow_up(question)


@pytest.mark.parametrize(
    "question",
    [
        "Which documents does a student visa application need?",
        "Who decides on an application for international protection?",
        "Thatcher and Android are not pronouns",  # words that merely start like "that" or "and"
    ],
)
def test_questions_that_stand_alone_are_not_follow_ups(question: str) -> None:
    assert not is_follow_up(question)


HISTORY = [
    Turn("user", "Who can apply for a single permit?"),
    Turn("assistant", "Third-country nationals who want to work in a Member State."),
]


def test_a_follow_up_is_searched_with_the_previous_user_question() -> None:
    assert (
        search_query("how many years does it last?", HISTORY)
        == "Who can apply for a single permit? how many years does it last?"
    )


def test_a_question_that_stands_alone_is_searched_as_it_is() -> None:
    question = "Which countries issue the EU Blue Card?"
    assert search_query(question, HISTORY) == question


def test_the_callers_decision_overrides_the_words() -> None:
    assert search_query("how many years does it last?", HISTORY, follow_up=False) == "how many years does it last?"
    forced = search_query("Is a medical check required", HISTORY, follow_up=True)
    assert forced == "Who can apply for a single permit? Is a medical check required"


def test_no_earlier_user_question_means_the_question_alone() -> None:
    assert search_query("and for children?", []) == "and for children?"
    only_assistant = [Turn("assistant", "Hello, ask me about EU migration."), Turn("user", "   ")]
    assert search_query("and for children?", only_assistant) == "and for children?"


def test_when_the_previous_question_was_a_follow_up_the_one_before_joins_too() -> None:
    history = [*HISTORY, Turn("user", "and for seasonal workers?"), Turn("assistant", "They need a permit too.")]
    assert search_query("how long does that take?", history) == (
        "Who can apply for a single permit? and for seasonal workers? how long does that take?"
    )


def test_only_user_turns_count_as_earlier_questions() -> None:
    history = [Turn("user", "What is the EES?"), Turn("assistant", "And what about ETIAS then?")]
    assert search_query("and who runs it?", history) == "What is the EES? and who runs it?"


def test_a_compound_question_is_split_into_its_asks() -> None:
    parts = question_parts("How much does a Schengen visa cost, and what documents must travellers show?")
    assert parts == ["How much does a Schengen visa cost", "what documents must travellers show"]
    parts = question_parts("Where is Eurodac data stored or who may consult the fingerprints?")
    assert parts == ["Where is Eurodac data stored", "who may consult the fingerprints"]


def test_a_second_sentence_is_a_second_ask() -> None:
    parts = question_parts("What is the salary threshold for a Blue Card? Can family members work straight away?")
    assert parts == ["What is the salary threshold for a Blue Card", "Can family members work straight away"]


def test_an_ask_that_refers_back_is_read_with_the_one_before() -> None:
    parts = question_parts("What does a long-stay visa cost? How long would that take to process?")
    assert parts == [
        "What does a long-stay visa cost",
        "What does a long-stay visa cost How long would that take to process",
    ]


def test_a_single_ask_or_asks_too_thin_to_search_give_no_parts() -> None:
    assert question_parts("What does the Blue Card directive require from employers?") == []
    assert question_parts("Can I work and study?") == []  # "and" before a verb, not before a question word
    assert question_parts("What is the fee? Why?") == []  # "Why" alone has no content word
    assert question_parts("What is the fee? Is it refundable?") == []  # one content word each is too thin
