"""The Chat page's handlers: a turn streamed as it is verified, follow-ups, a new chat, thumbs up/down.

Each visitor's conversation lives in a ``Conversation`` held in their own Gradio session state; the assistant is
shared. Whatever goes wrong in a turn ends as a message in the chat: a question that cannot be taken says why, an
error inside the pipeline is logged and apologised for, and the app keeps serving.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from assistant.answer import Answer
from assistant.conversation import Turn
from assistant.errors import QuestionError
from assistant.service import Assistant, Final, Partial
from common.text import safe_text
from webapp import render
from webapp.feedback import FeedbackError, FeedbackStore

log = logging.getLogger(__name__)

OFFICIAL_HELP = (
    "For your own situation, the official channels are the EU Immigration Portal "
    "(https://immigration-portal.ec.europa.eu/) and the immigration or asylum authority of the EU country concerned."
)
FRIENDLY_ERROR = (
    "Sorry, something went wrong on our side and I could not answer. Please try again in a moment. " + OFFICIAL_HELP
)
EXAMPLES = (
    "What salary do I need for an EU Blue Card?",
    "How long can the asylum border procedure last?",
    "Can my family join me if I have refugee status?",
    "Where can I get official help with my case?",
)

Message = dict[str, str]


@dataclass
class Exchange:
    """The last question and its answer, which the feedback buttons rate."""

    question: str
    answer: Answer
    feedback_id: int | None = None


@dataclass
class Conversation:
    """One visitor's conversation: turns for the assistant, messages as shown, the answer to rate."""

    turns: list[Turn] = field(default_factory=list)
    shown: list[Message] = field(default_factory=list)
    last: Exchange | None = None


ChatUpdate = tuple[list[Message], str, Conversation, str]  # chatbot messages, question box, state, sources panel


class Chat:
    """The chat's handlers over one shared assistant and feedback store."""

    def __init__(self, assistant: Assistant, feedback: FeedbackStore) -> None:
        self.assistant = assistant
        self.feedback = feedback

    def respond(self, question: str, conversation: Conversation | None, language: str = "") -> Iterator[ChatUpdate]:
        """One turn: the visitor's question, then the answer as it is verified, then its sources. ``language``: the
        language chosen on the page (empty: the question's own), in which the assistant writes its own words."""
        conv = conversation if conversation is not None else Conversation()
        question = safe_text(question or "")  # a broken emoji must not stop the page from showing the reply
        if not question.strip():
            yield list(conv.shown), "", conv, render.sources_html(conv.last.answer if conv.last else None)
            return
        shown = [*conv.shown, {"role": "user", "content": render.question_md(question)}]
        yield shown, "", conv, render.sources_html(None)
        try:
            answer = None
            for event in self.assistant.stream(question, history=conv.turns, language=language or ""):
                if isinstance(event, Partial):
                    partial = [*shown, {"role": "assistant", "content": render.partial_md(event.note, event.text)}]
                    yield partial, "", conv, render.sources_html(None)
                elif isinstance(event, Final):
                    answer = event.answer
        except QuestionError as exc:
            reply = f"Sorry, {exc}."
            conv.shown = [*shown, {"role": "assistant", "content": render.text_md(reply)}]
            yield conv.shown, "", conv, render.sources_html(None)
            return
        except Exception:
            log.exception("the chat could not answer a question")
            conv.shown = [*shown, {"role": "assistant", "content": render.text_md(FRIENDLY_ERROR)}]
            yield conv.shown, "", conv, render.sources_html(None)
            return
        if answer is None:  # pragma: no cover - the assistant's stream always ends in Final
            raise AssertionError("the assistant's stream ended without an answer")
        conv.turns = [*conv.turns, Turn("user", answer.question), Turn("assistant", answer.text)]
        conv.shown = [*shown, {"role": "assistant", "content": render.answer_md(answer)}]
        conv.last = Exchange(answer.question, answer)
        yield conv.shown, "", conv, render.sources_html(answer)

    def new_chat(self) -> tuple[list[Message], str, Conversation, str, str, str]:
        """An empty conversation: chat, question box, state, sources panel, comment box, feedback status."""
        return [], "", Conversation(), render.sources_html(None), "", ""

    def rate(self, conversation: Conversation | None, rating: int, comment: str) -> tuple[str, Conversation]:
        """Store a thumbs up (1) or down (-1) on the last answer, with the optional comment; a status line."""
        conv = conversation if conversation is not None else Conversation()
        if conv.last is None:
            return render.message_html("Ask a question first; then you can rate the answer."), conv
        try:
            if conv.last.feedback_id is None:
                conv.last.feedback_id = self.feedback.add(conv.last.question, conv.last.answer, rating, comment or "")
            else:
                self.feedback.update(conv.last.feedback_id, rating, comment or "")
        except FeedbackError as exc:
            return render.message_html(f"Sorry, {exc}.", kind="error"), conv
        except Exception:
            log.exception("feedback could not be stored")
            return render.message_html("Sorry, your feedback could not be saved.", kind="error"), conv
        verdict = "helpful" if rating > 0 else "not helpful"
        return render.message_html(f"Thank you: your rating ({verdict}) of the last answer was saved."), conv

    def rate_up(self, conversation: Conversation | None, comment: str) -> tuple[str, Conversation]:
        """The thumbs-up button."""
        return self.rate(conversation, 1, comment)

    def rate_down(self, conversation: Conversation | None, comment: str) -> tuple[str, Conversation]:
        """The thumbs-down button."""
        return self.rate(conversation, -1, comment)
