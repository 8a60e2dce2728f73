"""``POST /api/ask``: the assistant's answer as JSON, for a helpdesk system; described at /openapi.json and /docs."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from assistant.answer import Answer
from assistant.conversation import Turn
from assistant.errors import QuestionError
from assistant.service import Assistant
from webapp.render import href

log = logging.getLogger(__name__)

MAX_HISTORY = 40  # earlier turns accepted; the assistant reads only the last few (settings.history_turns)
SERVER_ERROR = "the assistant could not answer because of an error on the server; try again later"


class TurnIn(BaseModel):
    """One earlier turn of the conversation."""

    role: Annotated[str, Field(pattern="^(user|assistant)$", description="user or assistant")]
    content: str


class AskRequest(BaseModel):
    """A question, with the earlier turns when it is a follow-up."""

    question: str = Field(
        description="The question, in plain text.", examples=["What salary do I need for a Blue Card?"]
    )
    history: list[TurnIn] = Field(
        default_factory=list, max_length=MAX_HISTORY, description="Earlier turns, oldest first."
    )
    language: str = Field(
        default="",
        max_length=2,
        description="The reader's language (ISO 639-1), used when the question's own is unclear; empty: detected.",
    )


class CitationOut(BaseModel):
    """The source behind a ``[n]`` marker of the answer."""

    n: int = Field(description="The number used in the answer's [n] markers.")
    title: str
    url: str = Field(description="The cited page and section as stored (bundled pages: corpus/pages/<file>#<section>).")
    link: str = Field(
        description="An address that opens the section: absolute for the pages this app serves; empty when none."
    )
    section: str
    snippet: str = Field(description="The start of the cited passage.")
    last_updated: str = Field(description="When the page was last updated (YYYY-MM-DD), if known.")
    source_url: str = Field(description="The official page or legal act the passage summarises.")
    source_title: str


class AnswerOut(BaseModel):
    """The verified answer: text with [n] markers and its citations, or a refusal pointing to official channels."""

    question: str
    text: str
    refused: bool
    reason: str = Field(description="Why the assistant did not answer: no_match, out_of_scope, instructions, ...")
    rule: str = Field(default="", description="For a refusal: the rule that decided it.")
    language: str = Field(default="en", description="The question's language; the assistant's own words are in it.")
    note: str = Field(default="", description="A line in that language to show above the answer, if any.")
    citations: list[CitationOut]
    trace: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Each stage of the pipeline: its decision, the rule behind it, details and milliseconds.",
    )

    @classmethod
    def of(cls, answer: Answer, base_url: str = "") -> AnswerOut:
        """The API's view of an answer; ``base_url`` makes the links to served pages absolute."""
        citations = []
        for c in answer.citations:
            target = href(c.url) or ""
            if target.startswith("/"):
                target = base_url.rstrip("/") + target
            citations.append(
                CitationOut(
                    n=c.n,
                    title=c.title,
                    url=c.url,
                    link=target,
                    section=c.section,
                    snippet=c.snippet,
                    last_updated=c.last_updated,
                    source_url=c.source_url,
                    source_title=c.source_title,
                )
            )
        return cls(
            question=answer.question,
            text=answer.text,
            refused=answer.refused,
            reason=answer.reason,
            rule=answer.rule,
            language=answer.language,
            note=answer.note,
            citations=citations,
            trace=list(answer.trace),
        )


class ErrorOut(BaseModel):
    """Why a question was not answered."""

    detail: str


def router(assistant: Assistant) -> APIRouter:
    """The JSON API over a shared assistant."""
    api = APIRouter(prefix="/api", tags=["assistant"])

    @api.post(
        "/ask",
        response_model=AnswerOut,
        responses={422: {"model": ErrorOut, "description": "empty or over-long question"}, 500: {"model": ErrorOut}},
        summary="Answer a question with verified citations",
    )
    def ask(body: AskRequest, request: Request) -> AnswerOut:
        """Answer a question about EU migration and asylum policy from the ingested sources."""
        # A plain function: FastAPI runs it in its thread pool, so slow answers do not block other requests.
        history = [Turn(t.role, t.content) for t in body.history]
        try:
            answer = assistant.ask(body.question, history=history, language=body.language)
        except QuestionError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        except Exception:
            log.exception("the API could not answer a question")
            raise HTTPException(status_code=500, detail=SERVER_ERROR) from None
        return AnswerOut.of(answer, str(request.base_url))

    return api
