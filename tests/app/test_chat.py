"""The Chat page's handlers as plain functions: a turn, a follow-up, errors, a new chat, feedback."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from assistant.service import Assistant
from tests.app.conftest import HOSTILE_QUESTION, IMG, SCRIPT
from webapp.chat import FRIENDLY_ERROR, Chat, Conversation
from webapp.feedback import FeedbackStore

BLUE_CARD = "What salary do I need for an EU Blue Card?"


def last(updates: Iterator[Any]) -> Any:
    return list(updates)[-1]


def test_a_turn_streams_the_answer_then_shows_it_with_linked_citations_and_sources(chat: Chat) -> None:
    updates = list(chat.respond(BLUE_CARD, Conversation()))
    assert len(updates) >= 3  # the question at once, the answer as it is verified, then the finished answer
    first_messages = updates[0][0]
    assert first_messages == [{"role": "user", "content": BLUE_CARD}]
    partials = [u[0][-1]["content"] for u in updates[1:-1]]
    assert partials and all(u[0][-1]["role"] == "assistant" for u in updates[1:-1])

    messages, box, conv, sources = updates[-1]
    assert box == ""
    answer = conv.last.answer
    assert not answer.refused and answer.citations
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert "](/corpus/pages/eu-blue-card.html#" in messages[1]["content"]  # [n] opens the cited section
    cited = answer.citations[0]
    assert cited.title in sources and cited.last_updated in sources and cited.snippet[:40] in sources
    assert [t.role for t in conv.turns] == ["user", "assistant"] and conv.turns[0].content == BLUE_CARD


def test_a_follow_up_is_answered_in_the_light_of_the_earlier_turn(chat: Chat, app_assistant: Assistant) -> None:
    follow_up = "And for how long is it valid?"
    conv = last(chat.respond(BLUE_CARD, Conversation()))[2]
    messages, _, conv, _ = last(chat.respond(follow_up, conv))
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert BLUE_CARD in conv.last.answer.search_query  # retrieval searched with the earlier question
    assert any("eu-blue-card.html" in c.url for c in conv.last.answer.citations)
    alone = app_assistant.ask(follow_up)
    assert alone.search_query == follow_up  # without the history, the same words are searched alone
    assert len(conv.turns) == 4


def test_two_visitors_keep_their_own_conversations(chat: Chat) -> None:
    first = last(chat.respond(BLUE_CARD, Conversation()))[2]
    second = last(chat.respond("How long can the asylum border procedure last?", Conversation()))[2]
    assert [t.content for t in first.turns if t.role == "user"] == [BLUE_CARD]
    assert [t.content for t in second.turns if t.role == "user"] == ["How long can the asylum border procedure last?"]
    assert first.last.answer.citations[0].url != second.last.answer.citations[0].url


def test_an_over_long_question_is_refused_with_a_message(chat: Chat, app_assistant: Assistant) -> None:
    question = "Blue Card " * 400
    messages, _, conv, _ = last(chat.respond(question, Conversation()))
    reply = messages[-1]["content"]
    assert messages[-1]["role"] == "assistant" and "too long" in reply
    assert f"{app_assistant.settings.max_question_chars:,}" in reply
    assert len(messages[0]["content"]) < 600  # the question is shown cut
    assert conv.turns == [] and conv.last is None


def test_an_empty_question_changes_nothing(chat: Chat) -> None:
    messages, box, conv, _ = last(chat.respond("   ", Conversation()))
    assert messages == [] and box == "" and conv.turns == []


class Failing:
    """An assistant whose pipeline breaks on the first question, then works again."""

    def __init__(self, real: Assistant) -> None:
        self.real = real
        self.failures = 1

    def stream(self, question: str, **kwargs: Any) -> Iterator[Any]:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the store went away")
        yield from self.real.stream(question, **kwargs)


def test_an_error_in_the_pipeline_is_logged_apologised_for_and_the_chat_goes_on(
    app_assistant: Assistant, feedback: FeedbackStore, caplog: Any
) -> None:
    chat = Chat(Failing(app_assistant), feedback)  # type: ignore[arg-type]
    messages, _, conv, _ = last(chat.respond(BLUE_CARD, Conversation()))
    assert "store went away" not in messages[-1]["content"]
    assert messages[-1]["content"].startswith("Sorry, something went wrong on our side")
    assert FRIENDLY_ERROR.startswith("Sorry")
    assert any("could not answer" in r.message and r.exc_info for r in caplog.records)
    assert conv.turns == []
    messages, _, conv, _ = last(chat.respond(BLUE_CARD, conv))
    assert not conv.last.answer.refused and len(messages) == 4


def test_html_and_script_in_the_question_and_the_page_are_escaped(chat: Chat) -> None:
    question = f"{IMG} {SCRIPT} {HOSTILE_QUESTION}"
    messages, _, conv, sources = last(chat.respond(question, Conversation()))
    answer = conv.last.answer
    assert not answer.refused and IMG in answer.text  # the page's text reached the answer...
    shown = messages[0]["content"] + messages[1]["content"] + sources
    assert "<img" not in shown and "<script" not in shown  # ...but never as markup
    assert "&lt;img src=x onerror=" in messages[1]["content"] and "&lt;script&gt;" in sources
    assert "file://" not in messages[1]["content"]  # a local file is not linked


def test_new_chat_forgets_the_conversation(chat: Chat) -> None:
    conv = last(chat.respond(BLUE_CARD, Conversation()))[2]
    messages, box, fresh, sources, comment, status = chat.new_chat()
    assert messages == [] and box == "" and comment == "" and status == ""
    assert fresh.turns == [] and fresh.last is None and conv.turns  # the old state object is not reused
    assert "appear here" in sources


def test_feedback_is_stored_with_question_answer_citations_and_nothing_personal(
    chat: Chat, feedback: FeedbackStore
) -> None:
    conv = last(chat.respond(BLUE_CARD, Conversation()))[2]
    status, conv = chat.rate_up(conv, "  Clear and short.  ")
    assert "saved" in status
    rows = feedback.rows()
    assert len(rows) == 1
    row = rows[0]
    assert row["question"] == BLUE_CARD and row["answer"] == conv.last.answer.text
    assert row["rating"] == 1 and row["comment"] == "Clear and short."
    assert row["citations"][0]["url"] == conv.last.answer.citations[0].url
    assert len(row["created_on"]) == 10  # the date only
    with sqlite3.connect(feedback.path) as db:
        columns = {r[1] for r in db.execute("PRAGMA table_info(feedback)")}
    assert columns == {"id", "created_on", "question", "answer", "refused", "citations", "rating", "comment"}

    status, conv = chat.rate_down(conv, "")  # changing one's mind updates the same row
    assert [(r["rating"], r["comment"]) for r in feedback.rows()] == [(-1, "")]


def test_feedback_before_any_answer_or_with_an_over_long_comment_is_refused(
    chat: Chat, feedback: FeedbackStore
) -> None:
    status, _ = chat.rate_up(Conversation(), "")
    assert "Ask a question first" in status
    conv = last(chat.respond(BLUE_CARD, Conversation()))[2]
    status, _ = chat.rate_up(conv, "x" * 5000)
    assert "too long" in status and 'role="alert"' in status
    assert feedback.rows() == []


def test_a_broken_emoji_in_a_question_still_gets_a_reply_the_page_can_send(chat: Chat) -> None:
    *_, (shown, _, conv, _) = list(chat.respond("What salary do I need for an EU Blue Card? \ud83d", None))
    for message in shown:
        message["content"].encode("utf-8")  # raises on a lone surrogate: the page could not be sent
    assert conv.last is not None and not conv.last.answer.refused
