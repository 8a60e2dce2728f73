"""The trace of an answer, follow-ups decided by whether a question stands alone, and helpdesk messages read as
messages."""

from __future__ import annotations

import json

import pytest

from assistant.__main__ import main
from assistant.conversation import Turn
from assistant.draft import read_message
from assistant.service import Assistant
from common.settings import Settings

STAGES = ["guard", "language", "instructions", "follow-up", "retrieve", "scope", "compose", "checks"]


def test_ask_json_carries_the_trace_of_an_answer_and_of_a_refusal(
    corpus_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "How much does ETIAS cost?", "--json", "--data-dir", str(corpus_settings.data_dir)]) == 0
    answered = json.loads(capsys.readouterr().out)
    assert [s["stage"] for s in answered["trace"]] == STAGES
    assert all(s["ms"] >= 0 for s in answered["trace"]) and answered["rule"] == ""
    assert main(["ask", "Who won the football world cup in 2022?", "--json", "--data-dir",
                 str(corpus_settings.data_dir)]) == 0  # fmt: skip
    refused = json.loads(capsys.readouterr().out)
    assert refused["refused"] and refused["rule"] == "relevance-floor"
    scope = next(s for s in refused["trace"] if s["stage"] == "scope")
    assert scope["decision"] == "refuse" and scope["rule"] == "relevance-floor"
    assert scope["details"]["best_match"] < scope["details"]["floor"]
    assert "compose" not in [s["stage"] for s in refused["trace"]]


BORDER = [Turn("user", "How long can the asylum border procedure last?"), Turn("assistant", "Up to 12 weeks.")]


@pytest.mark.parametrize(
    ("question", "page"),
    [
        ("What is Eurodac?", "eurodac-regulation"),
        ("etias cost?", "etias"),
        ("which countries are in schengen", "schengen"),
    ],
)
def test_a_short_new_question_in_a_chat_gets_a_fresh_answer(
    corpus_assistant: Assistant, question: str, page: str
) -> None:
    answer = corpus_assistant.ask(question, history=BORDER)
    step = next(s for s in answer.trace if s["stage"] == "follow-up")
    assert step["decision"] == "stands alone" and step["rule"] == "new-topic"
    assert answer.search_query == question
    assert page in answer.citations[0].url


def test_a_real_follow_up_keeps_its_topic(corpus_assistant: Assistant) -> None:
    answer = corpus_assistant.ask("and for children?", history=BORDER)
    step = next(s for s in answer.trace if s["stage"] == "follow-up")
    assert step["decision"] == "follow-up" and step["rule"] == "refers-back"
    assert "border procedure" in answer.search_query


def test_a_message_is_read_into_asks_context_and_signed_name() -> None:
    message = (
        "Hi there,\n\nWe are a Canadian family living in Toronto and we got married in 2015. We plan a trip to "
        "Belgium next summer with our two kids. Do the children need ETIAS too? And what does it cost? "
        "We look forward to the trip!\n\nThanks a lot,\nLuis"
    )
    read = read_message(message, max_chars=8000)
    assert read.name == "Luis"
    assert read.asks == ["Do the children need ETIAS too?", "And what does it cost?"]
    assert read.countries == ["Belgium"]


def test_a_helpdesk_draft_answers_each_ask_and_names_what_is_not_covered(corpus_assistant: Assistant) -> None:
    message = (
        "Dear Sir or Madam,\nI am Canadian and I live in Germany with my wife. We want to visit Italy with our "
        "son, who is 16. How much does ETIAS cost for him? Also, how many days does the German immigration office "
        "in Munich need to renew my residence card?\nBest regards,\nAmira"
    )
    draft = corpus_assistant.draft(message)
    assert draft.greeting == "Dear Amira,"
    assert "EUR 20" in draft.body
    assert len(draft.asks) == 2 and not draft.asks[0].answer.refused and draft.asks[1].answer.refused
    assert "do not cover" in draft.body and "Germany" in draft.body
    assert "corpus/pages" not in draft.text
    assert "[1]" in draft.sources and "https://" in draft.sources
