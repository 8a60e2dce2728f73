"""Helpdesk drafts: a message read into asks, context and signed name; a reply composed from hand-built answers."""

from __future__ import annotations

import pytest

from assistant import messages
from assistant.answer import NO_MATCH, Answer, AnswerSentence, Citation
from assistant.draft import AskAnswer, Message, make_draft, read_message, source_line
from assistant.errors import QuestionError

pytestmark = pytest.mark.unit

MAX = 4000


def read(message: str) -> Message:
    return read_message(message, max_chars=MAX)


# --- reading a message -------------------------------------------------------------------------------------------


def test_the_greeting_is_removed_and_each_question_is_an_ask() -> None:
    message = read(
        "Hello,\n\nCan a researcher bring her partner? Does the partner get a work permit?\n\nThanks,\nIrena"
    )
    assert message.asks == ["Can a researcher bring her partner?", "Does the partner get a work permit?"]
    assert "Hello" not in message.body
    assert message.name == "Irena"


def test_requests_written_as_statements_are_asks_but_statements_are_not() -> None:
    message = read(
        "Good morning,\nI study in Lisbon. I would like to know whether I can stay after graduating. "
        "Please tell me which permit covers a job search."
    )
    assert message.asks == [
        "I would like to know whether I can stay after graduating.",
        "Please tell me which permit covers a job search.",
    ]


def test_an_ask_that_refers_back_keeps_the_sentence_before_as_context() -> None:
    message = read("Hi,\nMy brother is a recognised refugee in Belgium. Can he travel to Italy for a week?")
    ask = "Can he travel to Italy for a week?"
    assert message.asks == [ask]
    assert message.context == {ask: "My brother is a recognised refugee in Belgium."}


def test_an_ask_that_stands_alone_has_no_context() -> None:
    message = read("Hi,\nI arrived last month. What does a long-stay visa cost?")
    assert message.context == {}


def test_the_countries_the_message_names_are_kept() -> None:
    assert read("Hello,\nI live in Portugal. Can my cousin visit me?").countries == ["Portugal"]


@pytest.mark.parametrize(
    ("signature", "name"),
    [
        ("Kind regards,\nMarta Nowak", "Marta"),
        ("Best, Luis", "Luis"),
        ("Cheers - Sam", "Sam"),
        ("Thanks in advance,\n\nOmar", "Omar"),
        ("Cordialement,\nÉlodie Martin", "Élodie"),
        ("Mit freundlichen Grüßen\nJürgen Weiß", "Jürgen"),
        ("Saludos cordiales,\nLucía", "Lucía"),
        ("Z poważaniem\nAnna Kowalska", "Anna"),
        ("Grazie mille\nGiulia", "Giulia"),
        ("Peter Novak", "Peter"),  # a name alone on the last line
    ],
)
def test_the_first_name_is_read_from_the_signature(signature: str, name: str) -> None:
    message = read(f"Hello,\nHow long is a residence permit for studies valid?\n{signature}")
    assert message.name == name
    assert message.asks == ["How long is a residence permit for studies valid?"]
    assert name not in message.body


@pytest.mark.parametrize(
    "signature",
    ["Kind regards,\nsent from my phone", "Regards", "", "Best wishes,\nthe applicant"],
)
def test_no_name_when_the_message_is_not_signed_with_one(signature: str) -> None:
    message = read(f"Dear helpdesk,\nWhat is the fee for a Schengen visa?\n{signature}")
    assert message.name == ""
    assert message.asks == ["What is the fee for a Schengen visa?"]


def test_a_message_without_a_question_is_one_ask() -> None:
    message = read("Dear team,\nI need help with my situation.\nKind regards")
    assert message.asks == ["I need help with my situation."]


def test_an_empty_message_is_refused() -> None:
    with pytest.raises(QuestionError):
        read("   \n  ")


def test_a_question_after_a_line_of_thanks_is_still_an_ask() -> None:
    message = read("Hello,\nThank you for your earlier reply.\nHow long is a Schengen visa valid?")
    assert message.asks == ["How long is a Schengen visa valid?"]


# --- numbered sources ----------------------------------------------------------------------------------------------


def citation(n: int, chunk_id: str, **fields: str) -> Citation:
    values = {
        "title": "EU Blue Card",
        "url": "https://example.eu/blue-card#salary",
        "section": "Salary threshold",
        "snippet": "The salary must be at least ...",
        "last_updated": "2024-05-01",
    }
    values.update(fields)
    return Citation(n=n, chunk_id=chunk_id, **values)  # type: ignore[arg-type]


def test_a_source_line_names_section_page_date_and_address() -> None:
    assert source_line(citation(3, "a")) == (
        "[3] Salary threshold (EU Blue Card) (last updated 2024-05-01): https://example.eu/blue-card#salary"
    )


def test_a_source_line_prefers_the_official_page() -> None:
    line = source_line(
        citation(
            1, "a", source_url="https://eur-lex.europa.eu/eli/dir/2021/1883/oj", source_title="Directive 2021/1883"
        )
    )
    assert line == (
        "[1] Salary threshold (EU Blue Card) (last updated 2024-05-01); Directive 2021/1883: "
        "https://eur-lex.europa.eu/eli/dir/2021/1883/oj"
    )
    untitled = source_line(citation(1, "a", source_url="https://eur-lex.europa.eu/x"))
    assert untitled.endswith("; EU Blue Card: https://eur-lex.europa.eu/x")


def test_a_source_line_never_shows_a_local_address() -> None:
    line = source_line(citation(2, "a", url="/pages/blue-card#salary", last_updated=""))
    assert line == "[2] Salary threshold (EU Blue Card)"


def test_a_section_named_like_its_page_is_not_repeated() -> None:
    line = source_line(citation(1, "a", section="EU Blue Card", last_updated=""))
    assert line == "[1] EU Blue Card: https://example.eu/blue-card#salary"


# --- composing a draft ---------------------------------------------------------------------------------------------

ASK_1 = "What salary does a Blue Card need?"
ASK_2 = "Can my spouse work?"
ASK_3 = "What is the fee in Austria?"


def answered(question: str, sentences: list[AnswerSentence], citations: list[Citation]) -> Answer:
    return Answer(
        question=question, text="", citations=citations, sentences=sentences, composer="extractive", seconds=1.0
    )


def refused(question: str) -> Answer:
    return Answer(question=question, text="", refused=True, reason=NO_MATCH, rule="relevance_floor", seconds=0.5)


def first_answer() -> Answer:
    return answered(
        ASK_1,
        [AnswerSentence("The salary must reach a threshold.", (1,)), AnswerSentence("Member States set it.", (2, 1))],
        [citation(1, "chunk-a"), citation(2, "chunk-b", section="Amount")],
    )


def second_answer() -> Answer:
    # Its [1] is the first answer's [2] (the same passage); its [2] is new.
    return answered(
        ASK_2,
        [AnswerSentence("Family members may work.", (1, 2))],
        [citation(1, "chunk-b", section="Amount"), citation(2, "chunk-c", section="Family")],
    )


def message(name: str = "", countries: list[str] | None = None, asks: list[str] | None = None) -> Message:
    asks = asks or [ASK_1, ASK_2]
    return Message(asks=asks, context={}, name=name, countries=countries or [], body=" ".join(asks))


def test_citations_are_numbered_once_across_the_asks() -> None:
    draft = make_draft(
        message(), [AskAnswer(ASK_1, first_answer()), AskAnswer(ASK_2, second_answer())], tone="formal", signoff="Desk"
    )
    assert [(c.n, c.chunk_id) for c in draft.answer.citations] == [(1, "chunk-a"), (2, "chunk-b"), (3, "chunk-c")]
    assert [s.citations for s in draft.answer.sentences] == [(1,), (2, 1), (2, 3)]
    assert "Family members may work. [2][3]" in draft.body
    assert draft.sources.splitlines() == [source_line(c) for c in draft.answer.citations]
    assert not draft.answer.refused
    assert draft.answer.seconds == pytest.approx(2.0)


def test_several_asks_are_headed_by_their_wording() -> None:
    draft = make_draft(
        message(), [AskAnswer(ASK_1, first_answer()), AskAnswer(ASK_2, second_answer())], tone="formal", signoff="Desk"
    )
    assert f"1. “{ASK_1}”" in draft.body
    assert f"2. “{ASK_2}”" in draft.body
    single = make_draft(message(asks=[ASK_1]), [AskAnswer(ASK_1, first_answer())], tone="formal", signoff="Desk")
    assert ASK_1 not in single.body


def test_an_uncovered_ask_is_named_with_the_authority_of_the_country_it_names() -> None:
    draft = make_draft(
        message(asks=[ASK_1, ASK_3]),
        [AskAnswer(ASK_1, first_answer()), AskAnswer(ASK_3, refused(ASK_3))],
        tone="formal",
        signoff="Desk",
    )
    authority = messages.text("national_authority", "en", country="Austria")
    assert messages.text("not_covered", "en", ask=f"“{ASK_3}”", authority=authority) in draft.body
    assert messages.text("eu_rules_note", "en") in draft.body
    assert len(draft.answer.citations) == 2  # the refused ask adds no source


def test_an_uncovered_ask_without_a_country_falls_back_to_the_messages_country_or_a_generic_authority() -> None:
    answers = [AskAnswer(ASK_1, first_answer()), AskAnswer(ASK_2, refused(ASK_2))]
    lives_in = make_draft(message(countries=["Finland"]), answers, tone="formal", signoff="Desk")
    assert messages.text("national_authority", "en", country="Finland") in lives_in.body
    nowhere = make_draft(message(), answers, tone="formal", signoff="Desk")
    assert messages.text("national_authority_generic", "en") in nowhere.body


def test_the_greeting_uses_the_signed_name_in_the_chosen_tone() -> None:
    answers = [AskAnswer(ASK_1, first_answer())]
    named = make_draft(message(name="Irena", asks=[ASK_1]), answers, tone="friendly", signoff="Desk")
    assert named.greeting == messages.text("greeting_named_friendly", "en", name="Irena")
    assert "Irena" in named.greeting
    anonymous = make_draft(message(asks=[ASK_1]), answers, tone="formal", signoff="Desk")
    assert anonymous.greeting == messages.text("greeting_formal", "en")
    assert anonymous.closing == messages.text("closing_formal", "en")


def test_the_text_holds_every_part_in_order() -> None:
    draft = make_draft(
        message(name="Irena", asks=[ASK_1]),
        [AskAnswer(ASK_1, first_answer())],
        tone="formal",
        signoff="The EU helpdesk",
    )
    text = draft.text
    positions = [
        text.index(part) for part in (draft.greeting, draft.body, "Sources:", draft.sources, "The EU helpdesk")
    ]
    assert positions == sorted(positions)
    assert text.endswith(f"{draft.closing}\nThe EU helpdesk")


def test_a_draft_with_no_answered_ask_is_a_polite_refusal() -> None:
    draft = make_draft(message(asks=[ASK_3]), [AskAnswer(ASK_3, refused(ASK_3))], tone="friendly", signoff="Desk")
    assert draft.answer.refused
    assert draft.answer.reason == NO_MATCH
    assert draft.answer.rule == "relevance_floor"
    assert draft.answer.citations == []
    assert draft.sources == ""
    assert draft.body.startswith(messages.text("refusal_opening_friendly", "en"))
    assert messages.text("official_channels", "en") in draft.body
    assert messages.text("eu_rules_note", "en") not in draft.body
    assert "Sources:" not in draft.text


def test_a_draft_in_another_language_uses_that_languages_messages() -> None:
    draft = make_draft(
        message(name="Jürgen", asks=[ASK_1, ASK_3]),
        [AskAnswer(ASK_1, first_answer()), AskAnswer(ASK_3, refused(ASK_3))],
        tone="formal",
        signoff="Desk",
        language="de",
    )
    assert draft.language == "de"
    assert draft.greeting == messages.text("greeting_named_formal", "de", name="Jürgen")
    assert draft.greeting != messages.text("greeting_named_formal", "en", name="Jürgen")
    opening = f"{messages.text('opening_formal', 'de')} {messages.text('quoted_in_english', 'de')}"
    assert draft.body.startswith(opening)
    authority = messages.text("national_authority", "de", country="Austria")
    assert messages.text("not_covered", "de", ask=f"“{ASK_3}”", authority=authority) in draft.body
    assert messages.text("eu_rules_note", "de") in draft.body
    assert f"{messages.text('sources_title', 'de')}:\n" in draft.text
    assert draft.closing == messages.text("closing_formal", "de")
    assert "The salary must reach a threshold. [1]" in draft.body  # the quoted sentences stay in English
    assert draft.answer.language == "de"


def test_a_refusal_in_another_language_points_to_the_official_channels_in_it() -> None:
    draft = make_draft(
        message(asks=[ASK_3]), [AskAnswer(ASK_3, refused(ASK_3))], tone="friendly", signoff="Desk", language="fr"
    )
    assert draft.greeting == messages.text("greeting_friendly", "fr")
    assert draft.body.startswith(messages.text("refusal_opening_friendly", "fr"))
    assert draft.body.endswith(messages.text("official_channels", "fr"))
    assert messages.text("official_channels", "fr") != messages.text("official_channels", "en")
    authority = messages.text("national_authority", "fr", country="Austria")
    assert messages.text("not_covered", "fr", ask=f"“{ASK_3}”", authority=authority) in draft.body
    assert messages.text("quoted_in_english", "fr") not in draft.body  # nothing is quoted
