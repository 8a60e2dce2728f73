"""A scripted chat-model server on loopback, for testing the LLM composers through their real LangChain clients.

It speaks OpenAI's ``POST /v1/chat/completions`` (JSON, or Server-Sent Events with ``"stream": true``) and Ollama's
``POST /api/chat`` (newline-delimited JSON, or one JSON object with ``"stream": false``). Every request body is
recorded. Replies come from a script: a queue of ``Reply`` objects or functions of the ``Request``, then an optional
default responder. A reply can be slow, an HTTP error, empty, malformed or broken off halfway. A streamed reply is
cut into token-sized deltas (``" [", "1", "]"``), as a real model sends them.

``Request`` also reads the prompt the way a model would: the numbered sources and the question between delimiters,
so that tests can build replies from the passages actually sent rather than from answers known in advance.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OPENAI_PATH = "/v1/chat/completions"
OLLAMA_PATH = "/api/chat"
MALFORMED = "{this is not json"
_TOKEN = re.compile(r"\s*(?:\w+|[^\w\s])|\s+$")
_SOURCE_START = re.compile(r"^\[(\d+)\] ", re.MULTILINE)
_UPDATED = re.compile(r"\(updated ([^)]+)\)\s*$")


@dataclass(frozen=True)
class Reply:
    """What the server answers to one request."""

    text: str = ""
    status: int = 200  # anything else is an HTTP error with an error body
    delay: float = 0.0  # seconds to wait before sending anything
    malformed: bool = False  # a body the client cannot parse; a stream breaks off with it after the text
    whole: bool = False  # stream the text as one delta instead of token-sized ones


@dataclass(frozen=True)
class Source:
    """One numbered passage as the prompt shows it to the model."""

    n: int
    header: str  # "title — section (updated date)"
    text: str

    @property
    def updated(self) -> str:
        """The date in the header, if any."""
        match = _UPDATED.search(self.header)
        return match.group(1) if match else ""


@dataclass(frozen=True)
class Request:
    """A request the server received."""

    path: str
    body: dict[str, Any]

    @property
    def api(self) -> str:
        """``openai`` or ``ollama``."""
        return "ollama" if self.path == OLLAMA_PATH else "openai"

    @property
    def stream(self) -> bool:
        """Whether the client asked for a streamed reply (Ollama streams unless told not to)."""
        return bool(self.body.get("stream", self.api == "ollama"))

    def content(self, role: str) -> str:
        """The text of the messages of one role, joined."""
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []) if m.get("role") == role)

    @property
    def system(self) -> str:
        """The system message."""
        return self.content("system")

    @property
    def user(self) -> str:
        """The user message: the prompt with the sources and the question."""
        return self.content("user")

    @cached_property
    def sources(self) -> list[Source]:
        """The numbered passages between ``<sources>`` and ``</sources>``, in order."""
        match = re.search(r"<sources>\n(.*?)\n</sources>", self.user, re.DOTALL)
        if not match:
            return []
        parts = _SOURCE_START.split(match.group(1))
        out = []
        for number, block in zip(parts[1::2], parts[2::2], strict=True):
            header, _, text = block.strip().partition("\n")
            out.append(Source(int(number), header.strip(), text.strip()))
        return out

    @property
    def question(self) -> str:
        """The text between ``<question>`` and ``</question>``."""
        match = re.search(r"<question>\n(.*?)\n</question>", self.user, re.DOTALL)
        return match.group(1) if match else ""


Step = Reply | Callable[[Request], Reply]


def deltas(text: str, *, whole: bool = False) -> list[str]:
    """The text cut as a model streams it: a word or a punctuation mark at a time, with its leading space."""
    if whole or not text:
        return [text] if text else []
    return _TOKEN.findall(text)


class ScriptedServer:
    """An OpenAI- and Ollama-compatible chat server on 127.0.0.1 that replies from a script, in a thread."""

    model = "test-model"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Step] = deque()
        self._default: Step | None = None
        self._requests: list[Request] = []
        self.errors: list[Exception] = []  # raised by script functions; each was answered with HTTP 500
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.scripted = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="scripted-llm", daemon=True
        )

    @property
    def port(self) -> int:
        """The port the server listens on (chosen by the system, so it is free)."""
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The server's root address (what the Ollama client takes)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_url(self) -> str:
        """The OpenAI-compatible base address (what ChatOpenAI takes)."""
        return f"{self.url}/v1"

    @property
    def requests(self) -> list[Request]:
        """The requests received so far, in order."""
        with self._lock:
            return list(self._requests)

    def script(self, *steps: Step) -> None:
        """Queue replies for the next requests, one each, in order."""
        with self._lock:
            self._queue.extend(steps)

    def respond(self, step: Step) -> None:
        """Answer every request the queue does not cover with this reply or function."""
        with self._lock:
            self._default = step

    def start(self) -> ScriptedServer:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; slow replies still waiting give up at once."""
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _next(self, request: Request) -> Reply:
        with self._lock:
            self._requests.append(request)
            step = self._queue.popleft() if self._queue else self._default
        if step is None:
            return Reply(status=500, text="no scripted reply left")
        if not callable(step):
            return step
        try:
            return step(request)
        except Exception as exc:  # a broken script must show in the test, not hang or kill the server
            self.errors.append(exc)
            return Reply(status=500, text=f"the script failed: {exc!r}")


class _Handler(BaseHTTPRequestHandler):
    server_version = "ScriptedLLM/1.0"

    @property
    def scripted(self) -> ScriptedServer:
        return self.server.scripted  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""

    def do_POST(self) -> None:
        """Record the request, wait if the reply is slow, then answer in the API's format."""
        if self.path not in (OPENAI_PATH, OLLAMA_PATH):
            self._json(404, {"error": f"no route {self.path}"})
            return
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._json(400, {"error": "request body is not JSON"})
            return
        request = Request(self.path, body)
        reply = self.scripted._next(request)
        if reply.delay and self.scripted.stopping.wait(reply.delay):
            return
        try:
            if reply.status != 200:
                message = reply.text or "scripted failure"
                error = {"message": message, "type": "server_error"} if request.api == "openai" else message
                self._json(reply.status, {"error": error})
            elif request.api == "openai":
                self._openai(request, reply)
            else:
                self._ollama(request, reply)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout); nothing to answer

    # -- OpenAI ------------------------------------------------------------------------------------------------

    def _openai(self, request: Request, reply: Reply) -> None:
        model = request.body.get("model", ScriptedServer.model)
        created = int(time.time())
        if not request.stream:
            if reply.malformed:
                self._raw(200, "application/json", MALFORMED.encode())
                return
            self._json(
                200,
                {
                    "id": "chatcmpl-scripted",
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply.text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": _usage(request, reply),
                },
            )
            return

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": "chatcmpl-scripted",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        def events() -> Iterator[str]:
            yield json.dumps(chunk({"role": "assistant", "content": ""}))
            for piece in deltas(reply.text, whole=reply.whole):
                yield json.dumps(chunk({"content": piece}))
            if reply.malformed:
                yield MALFORMED
                return
            yield json.dumps(chunk({}, "stop"))
            if (request.body.get("stream_options") or {}).get("include_usage"):
                usage = {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": created}
                yield json.dumps({**usage, "model": model, "choices": [], "usage": _usage(request, reply)})
            yield "[DONE]"

        self._start_stream("text/event-stream")
        for data in events():
            self.wfile.write(f"data: {data}\n\n".encode())
            self.wfile.flush()

    # -- Ollama ------------------------------------------------------------------------------------------------

    def _ollama(self, request: Request, reply: Reply) -> None:
        model = request.body.get("model", ScriptedServer.model)

        def part(content: str, *, done: bool) -> dict[str, Any]:
            out: dict[str, Any] = {
                "model": model,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "message": {"role": "assistant", "content": content},
                "done": done,
            }
            if done:
                tokens = _usage(request, reply)
                out.update(
                    done_reason="stop",
                    total_duration=1_000_000,
                    load_duration=1_000,
                    prompt_eval_count=tokens["prompt_tokens"],
                    prompt_eval_duration=1_000,
                    eval_count=tokens["completion_tokens"],
                    eval_duration=1_000,
                )
            return out

        if not request.stream:
            if reply.malformed:
                self._raw(200, "application/json", MALFORMED.encode())
            else:
                self._json(200, part(reply.text, done=True))
            return
        self._start_stream("application/x-ndjson")
        lines = [json.dumps(part(p, done=False)) for p in deltas(reply.text, whole=reply.whole)]
        lines.append(MALFORMED if reply.malformed else json.dumps(part("", done=True)))
        for line in lines:
            self.wfile.write(f"{line}\n".encode())
            self.wfile.flush()

    # -- plumbing ----------------------------------------------------------------------------------------------

    def _start_stream(self, content_type: str) -> None:
        # HTTP/1.0 without a length: the body ends when the connection closes, after the last event.
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self._raw(status, "application/json", json.dumps(payload).encode())

    def _raw(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _usage(request: Request, reply: Reply) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", "")).split()) for m in request.body.get("messages", []))
    completion = len(reply.text.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
