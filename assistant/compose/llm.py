"""Composers that ask a chat model through LangChain: any OpenAI-compatible server, Ollama, or a local GGUF file.

The model sees the numbered passages and the question inside delimiters, with rules (``assistant/prompts``) to
answer only from them and cite ``[n]`` after every sentence. Whatever it writes is verified afterwards; this module
only talks to the model and turns its failures into ``ComposerError``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from typing import Any

from assistant import prompts
from assistant.conversation import Turn
from assistant.errors import ComposerError, ConfigError
from assistant.language import ENGLISH_NAMES, SOURCE_LANGUAGE, detect
from assistant.retrieve import Retrieval
from assistant.sentences import ChunkSentences
from common.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
_DELIMITERS = re.compile(r"<\s*/?\s*(sources|source|question|conversation)\s*>", re.IGNORECASE)


def _as_data(text: str) -> str:
    """Text placed between the prompt's delimiters, unable to close them."""
    return _DELIMITERS.sub(" ", text)


def chat_model(settings: Settings) -> Any:
    """The chat model the settings name: LangChain's for openai and ollama, an in-process GGUF model for llamacpp."""
    kind = settings.composer
    if kind == "openai":
        from langchain_openai import ChatOpenAI

        if not settings.llm_model:
            raise ConfigError("the openai composer needs a model name: set EUMA_LLM_MODEL or --llm-model")
        return ChatOpenAI(
            model=settings.llm_model,
            base_url=settings.llm_base_url or None,
            api_key=settings.llm_api_key or "not-needed",  # type: ignore[arg-type]
            timeout=settings.llm_timeout,
            max_retries=0,
            temperature=0,
            max_completion_tokens=settings.llm_max_tokens,
        )
    if kind == "ollama":
        from langchain_ollama import ChatOllama

        if not settings.llm_model:
            raise ConfigError("the ollama composer needs a model name: set EUMA_LLM_MODEL or --llm-model")
        return ChatOllama(
            model=settings.llm_model,
            base_url=settings.llm_base_url or DEFAULT_OLLAMA_URL,
            temperature=0,
            num_predict=settings.llm_max_tokens,
            client_kwargs={"timeout": settings.llm_timeout},
        )
    if kind == "llamacpp":
        from assistant.compose.local import LocalChatModel

        return LocalChatModel(
            settings.llm_model,
            threads=settings.llm_threads,
            context=settings.llm_context,
            max_tokens=settings.llm_max_tokens,
            timeout=settings.llm_timeout,
        )
    raise ConfigError(f"composer {kind!r} is not a language model composer")


def format_sources(retrieval: Retrieval) -> str:
    """The numbered passages as the model sees them."""
    blocks = []
    for n, passage in enumerate(retrieval.passages, start=1):
        chunk = passage.chunk
        where = f"{chunk.title} — {chunk.section}" if chunk.section else chunk.title
        dated = f" (updated {chunk.updated})" if chunk.updated else ""
        blocks.append(f"[{n}] {_as_data(where)}{dated}\n{_as_data(chunk.text)}")
    return "\n\n".join(blocks)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # some providers send content blocks
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content or "")


class LLMComposer:
    """Asks a chat model for a cited answer, streaming its reply."""

    def __init__(self, settings: Settings, *, model: Any = None) -> None:
        if model is None and settings.composer in ("openai", "ollama") and not settings.llm_model:
            raise ConfigError(f"the {settings.composer} composer needs a model name: set EUMA_LLM_MODEL or --llm-model")
        self.settings = settings
        self.name = settings.composer
        self._model = model

    @property
    def model(self) -> Any:
        """The chat model, created on first use."""
        if self._model is None:
            self._model = chat_model(self.settings)
        return self._model

    def _messages(self, system: str, user: str) -> list[Any]:
        from langchain_core.messages import HumanMessage, SystemMessage

        return [SystemMessage(content=system), HumanMessage(content=user)]

    def stream(self, question: str, retrieval: Retrieval, sentences: dict[str, ChunkSentences]) -> Iterator[str]:
        """The model's reply as it comes; ComposerError if the model cannot be reached or fails."""
        messages = self._messages(
            prompts.load("answer_system"),
            prompts.load("answer_user").format(
                sources=format_sources(retrieval),
                question=_as_data(question),
                language=ENGLISH_NAMES.get(detect(question).code, ENGLISH_NAMES[SOURCE_LANGUAGE]),
            ),
        )
        wrote = False
        try:
            for piece in self.model.stream(messages):
                text = _text(getattr(piece, "content", piece))
                if text:
                    wrote = wrote or bool(text.strip())
                    yield text
        except ConfigError:
            raise
        except Exception as exc:  # network errors, timeouts, HTTP errors, bad payloads: all end this composer
            raise ComposerError(f"the {self.name} model failed: {type(exc).__name__}: {exc}") from exc
        if not wrote:
            raise ComposerError(f"the {self.name} model sent an empty reply")

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """The follow-up rewritten by the model to stand alone; ComposerError on failure."""
        conversation = "\n".join(f"{t.role}: {_as_data(t.content)}" for t in history)
        messages = self._messages(
            prompts.load("condense_system"),
            prompts.load("condense_user").format(history=conversation, question=_as_data(question)),
        )
        try:
            reply = _text(self.model.invoke(messages).content)
        except ConfigError:
            raise
        except Exception as exc:
            raise ComposerError(f"the {self.name} model failed: {type(exc).__name__}: {exc}") from exc
        line = reply.strip().splitlines()[0].strip() if reply.strip() else ""
        return line
