"""``POST /api/ask``: the assistant's answer as JSON, for a helpdesk system; described at /openapi.json and /docs."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

from assistant.answer import Answer
from assistant.conversation import Turn
from assistant.errors import QuestionError
from assistant.service import Assistant
from webapp.render import href

log = logging.getLogger(__name__)

MAX_HISTORY = 40  # earlier turns accepted; the assistant reads only the last few (settings.history_turns)
MAX_TURN_CHARS = 4000  # characters in one earlier turn
MAX_HISTORY_CHARS = 20_000  # characters in all the earlier turns together
MAX_BODY_BYTES = 64 * 1024  # a request body to /api/ask; larger ones are refused (413) before they are parsed
MAX_ERRORS_SHOWN = 3  # validation errors named in a 422's detail
SERVER_ERROR = "the assistant could not answer because of an error on the server; try again later"


class TurnIn(BaseModel):
    """One earlier turn of the conversation."""

    role: Annotated[str, Field(pattern="^(user|assistant)$", description="user or assistant")]
    content: str = Field(
        max_length=MAX_TURN_CHARS, description=f"The turn's text (at most {MAX_TURN_CHARS:,} characters)."
    )


class AskRequest(BaseModel):
    """A question, with the earlier turns when it is a follow-up."""

    question: str = Field(
        description="The question, in plain text.", examples=["What salary do I need for a Blue Card?"]
    )
    history: list[TurnIn] = Field(
        default_factory=list,
        max_length=MAX_HISTORY,
        description=f"Earlier turns, oldest first (at most {MAX_HISTORY}, {MAX_HISTORY_CHARS:,} characters in all).",
    )
    language: str = Field(
        default="",
        max_length=2,
        description="The reader's language (ISO 639-1), used when the question's own is unclear; empty: detected.",
    )

    @model_validator(mode="after")
    def _history_fits(self) -> AskRequest:
        total = sum(len(turn.content) for turn in self.history)
        if total > MAX_HISTORY_CHARS:
            raise ValueError(f"the history is too long ({total:,} characters in all; at most {MAX_HISTORY_CHARS:,})")
        return self


class CitationOut(BaseModel):
    """The source behind a ``[n]`` marker of the answer."""

    n: int = Field(description="The number used in the answer's [n] markers.")
    title: str
    url: str = Field(description="The cited page and section as stored (bundled pages: corpus/pages/<file>#<section>).")
    link: str = Field(
        description=(
            "An address that opens the section: for the pages this app serves, under the configured public address"
            " (EUMA_PUBLIC_URL), else a path from the app's root (/corpus/pages/...); empty when none."
        )
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
    extract: str = Field(
        default="",
        description="When a language model's rewrite is the text: the verified quotes it was written from, with the "
        "same [n] markers.",
    )
    citations: list[CitationOut]
    trace: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Each stage of the pipeline: its decision, the rule behind it, details and milliseconds.",
    )

    @classmethod
    def of(cls, answer: Answer, base_url: str = "") -> AnswerOut:
        """The API's view of an answer; ``base_url`` (the configured public address) makes links to served pages
        absolute, else they stay paths from the app's root."""
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
            extract=answer.extract,
            citations=citations,
            trace=list(answer.trace),
        )


class ErrorOut(BaseModel):
    """Why a question was not answered."""

    detail: str


def validation_detail(exc: RequestValidationError) -> str:
    """One line naming what is wrong with a request, never the values sent (which may be huge or personal)."""
    parts = []
    for error in exc.errors()[:MAX_ERRORS_SHOWN]:
        loc = () if error.get("type") == "json_invalid" else error.get("loc", ())  # its loc is a character offset
        where = ".".join(str(p)[:40] for p in loc if p != "body") or "body"
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {message[:200]}")
    more = len(exc.errors()) - MAX_ERRORS_SHOWN
    return "invalid request: " + "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": validation_detail(exc)}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    """A bad body's 422 in the documented shape, ``{"detail": "<one line>"}`` (the server's BodyLimit refuses an
    over-large one, over ``MAX_BODY_BYTES``, with a 413 before it is parsed)."""
    app.add_exception_handler(RequestValidationError, _validation_error)


def router(assistant: Assistant, *, public_url: str = "") -> APIRouter:
    """The JSON API over a shared assistant; ``public_url`` is the address links to served pages start with."""
    api = APIRouter(prefix="/api", tags=["assistant"])

    @api.post(
        "/ask",
        response_model=AnswerOut,
        responses={
            413: {"model": ErrorOut, "description": f"a request body over {MAX_BODY_BYTES:,} bytes"},
            422: {"model": ErrorOut, "description": "an empty or over-long question, history or malformed body"},
            500: {"model": ErrorOut},
        },
        summary="Answer a question with verified citations",
    )
    def ask(body: AskRequest) -> AnswerOut:
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
        # Never the request's Host header: a forged Host would otherwise put its own address into the links.
        return AnswerOut.of(answer, public_url)

    return api
