"""One FastAPI app for everything: the JSON API, the bundled pages citations open, the public and staff pages.

Routes: ``POST /api/ask`` (OpenAPI at /openapi.json, docs at /docs), ``/corpus/pages/<file>`` (the bundled
corpus, served with a policy that lets no script run), ``/staff/`` (Helpdesk and Evaluate; with a login when
``app_username`` and ``app_password`` are set), and ``/`` (Chat and About), mounted last as it takes every other
path.

The app serves at once, even while the store is still being built (the first start ingests the corpus): until
``Startup`` says the assistant is ready, the API and ``/healthz`` answer 503 with how far the build has got and a
Retry-After header, and the pages say the same instead of answering.

Every response carries security headers (no sniffing, no referrer, no framing, no camera or microphone). Files the
staff pages make or receive (drafts, evaluation runs, uploads and Gradio's own copies) live in a private temporary
folder of the process (mode 0700) and are removed within the hour, and all of it when the app stops.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant import messages
from assistant.service import Assistant
from common.settings import Settings
from ingest.sources import CORPUS_DIR
from webapp import api
from webapp.about import overview_html
from webapp.chat import Chat
from webapp.corpus_pages import CorpusPages
from webapp.evaluate import Evaluation
from webapp.feedback import FeedbackStore
from webapp.helpdesk import Helpdesk
from webapp.render import CORPUS_ROUTE

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a citation opened on EUR-Lex does not learn which page or question led there
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
NO_FRAMING = "frame-ancestors 'none'"
MAX_BODY_BYTES = 16 * 1024 * 1024  # any request (a QA file upload is the largest); /api/ask has its own, smaller
RETRY_AFTER_SECONDS = 10  # how long a 503 during the start asks a client to wait before asking again
KEEP_FILES_SECONDS = 3000  # drafts, runs, uploads and Gradio's copies: removed 50 to 55 minutes after they are made
SWEEP_SECONDS = 300  # how often the private folder is swept


class Startup:
    """How far the app's start has got: the store being built (pages done of all), the assistant loading its model,
    ready, or failed. The thread that prepares the store writes it; requests read it and, until it is ready, say
    so instead of answering."""

    def __init__(self, *, ready: bool = False) -> None:
        # One tuple, replaced whole: a request on another thread never sees a count from one step and a stage from
        # another.
        self._state: tuple[str, int, int] = ("ready", 0, 0) if ready else ("starting", 0, 0)

    def building(self, done: int, total: int, *, update: bool = False) -> None:
        """``done`` of the corpus's ``total`` pages are in the store; ``update``: the store existed, it is being
        brought up to date."""
        self._state = ("updating" if update else "building", done, total)

    def loading(self) -> None:
        """The store is ready; the assistant is loading its model and indexes."""
        self._state = ("loading", 0, 0)

    def ready(self) -> None:
        """The assistant answers."""
        self._state = ("ready", 0, 0)

    def failed(self) -> None:
        """The store could not be built or opened: the app cannot answer until it is restarted."""
        self._state = ("failed", 0, 0)

    @property
    def is_ready(self) -> bool:
        return self._state[0] == "ready"

    def notice(self, language: str = "en") -> str | None:
        """What to tell a visitor instead of an answer, in ``language``; None once the assistant answers."""
        stage, done, total = self._state
        if stage == "ready":
            return None
        return messages.text(f"startup_{stage}", language).format(done=done, total=total)

    def retry_headers(self) -> dict[str, str]:
        """A Retry-After header while the start is under way (none after a failure: waiting will not help)."""
        return {} if self._state[0] in ("ready", "failed") else {"Retry-After": str(RETRY_AFTER_SECONDS)}


class SecurityHeaders:
    """Adds the security headers to every response, keeping any a route set itself (the corpus pages' policy)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                policy = headers.get("Content-Security-Policy")
                if not policy:
                    headers["Content-Security-Policy"] = NO_FRAMING
                elif "frame-ancestors" not in policy:
                    headers["Content-Security-Policy"] = f"{policy}; {NO_FRAMING}"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class TooLarge(HTTPException):
    """A request body over its limit, found while it is read (FastAPI passes HTTP errors on unchanged)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large_detail(limit))


def too_large_detail(limit: int) -> str:
    return f"the request is too large (at most {limit:,} bytes)"


class BodyLimit:
    """Refuses a request body over its path's limit with 413 before anything parses it: at once when Content-Length
    says so, else as soon as the bytes streamed in pass the limit."""

    def __init__(self, app: ASGIApp, *, limits: dict[str, int], default: int) -> None:
        self.app = app
        self.limits = limits  # path prefix: bytes
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = next((n for prefix, n in self.limits.items() if path.startswith(prefix)), self.default)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await JSONResponse({"detail": too_large_detail(limit)}, status_code=413)(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise TooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except TooLarge as exc:
            if started:
                raise
            await JSONResponse({"detail": exc.detail}, status_code=413)(scope, receive, send)


def private_folder(root: Path, name: str) -> Path:
    """A folder only this user can open (0700), made if missing."""
    folder = root / name
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # mkdir's mode is reduced by the umask, and an existing folder keeps its own
    return folder


def sweep(root: Path, *, max_age: float = KEEP_FILES_SECONDS, now: float | None = None) -> int:
    """Remove the files under ``root`` older than ``max_age`` seconds, then the old folders left empty (the top
    folders stay); returns how many files went. Another request may remove a file first, which is fine."""
    cutoff = (now if now is not None else time.time()) - max_age
    walked = list(os.walk(root, topdown=False))
    stale = set()  # folders old before this sweep: removing a file from one makes it look new
    for folder, _, _ in walked:
        try:
            if os.lstat(folder).st_mtime < cutoff:
                stale.add(folder)
        except OSError:
            continue
    removed = 0
    for folder, _, files in walked:
        for name in files:
            path = Path(folder, name)
            try:
                if path.lstat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except OSError:
                continue
        if folder in stale and Path(folder).parent != root and Path(folder) != root:
            try:
                os.rmdir(folder)  # only when empty
            except OSError:
                continue
    return removed


def temp_root() -> Path:
    """The app's private temporary folder (0700, its own per process) and Gradio's temporary folder inside it.

    ``GRADIO_TEMP_DIR`` is read when each Gradio app is built (uploads, the copies of files offered for
    download), so setting it here, before ``ui`` builds them, is early enough."""
    root = Path(tempfile.mkdtemp(prefix="euma-app-"))  # mkdtemp makes it 0700
    os.environ["GRADIO_TEMP_DIR"] = str(private_folder(root, "gradio"))
    return root


def quiet_environment() -> None:
    """No analytics, no calls home: Gradio's analytics off, the Hugging Face hub offline unless asked for."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def create_app(
    settings: Settings, assistant: Assistant, *, corpus_dir: Path = CORPUS_DIR, startup: Startup | None = None
) -> FastAPI:
    """The whole app over one shared assistant; ``startup`` says when it can answer (default: at once)."""
    quiet_environment()
    import gradio as gr

    from webapp import ui

    feedback = FeedbackStore(settings.feedback_path)
    root = temp_root()
    drafts_dir = private_folder(root, "drafts")
    runs_dir = private_folder(root, "eval-runs")
    staff_login = bool(settings.app_username and settings.app_password)
    startup = startup or Startup(ready=True)

    async def wait_for_startup() -> None:
        """Refuse with 503 and how far the start has got until the assistant can answer."""
        notice = startup.notice()
        if notice is not None:
            raise HTTPException(status_code=503, detail=notice, headers=startup.retry_headers())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def sweeper() -> None:
            while True:
                await asyncio.sleep(SWEEP_SECONDS)
                removed = await asyncio.to_thread(sweep, root)
                if removed:
                    log.info("removed %d temporary files older than an hour", removed)

        task = asyncio.create_task(sweeper())
        try:
            yield
        finally:
            task.cancel()
            shutil.rmtree(root, ignore_errors=True)

    app = FastAPI(
        title="EU Migration Assistant",
        version="0.1.0",
        description=(
            "Answers about EU migration and asylum policy from official EU sources, with verified [n] citations. "
            "General information, not legal advice. The web pages are at / (chat) and /staff/ (helpdesk)."
        ),
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.temp_dir = root
    app.add_middleware(SecurityHeaders)
    api.install_error_handlers(app)
    # Links in API answers start with the configured public address, never with the request's Host header.
    app.include_router(
        api.router(assistant, public_url=settings.public_url),
        dependencies=[Depends(wait_for_startup)],
        responses={
            503: {
                "model": api.ErrorOut,
                "description": (
                    "the app is starting (building its store, loading its model; see Retry-After), or its store "
                    "could not be built"
                ),
            }
        },
    )
    app.add_middleware(BodyLimit, limits={"/api/": api.MAX_BODY_BYTES}, default=MAX_BODY_BYTES)
    app.mount(CORPUS_ROUTE, CorpusPages(directory=corpus_dir), name="corpus")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        notice = startup.notice()
        if notice is None:
            return JSONResponse({"ok": True})
        return JSONResponse({"ok": False, "detail": notice}, status_code=503, headers=startup.retry_headers())

    common: dict[str, Any] = {
        "footer_links": ["api", "settings"],
        "run_history": False,
        "show_error": False,  # the handlers say what went wrong themselves; no traceback reaches a visitor
        "css": ui.CSS,
        "mcp_server": False,
        "pwa": False,
        "ssr_mode": False,
    }
    staff = ui.staff_blocks(
        Helpdesk(assistant, drafts_dir),
        Evaluation(assistant, runs_dir),
        settings,
        staff_login=staff_login,
        waiting=startup.notice,
    )
    staff.queue(default_concurrency_limit=settings.app_concurrency)
    gr.mount_gradio_app(
        app,
        staff,
        path="/staff",
        auth=(settings.app_username, settings.app_password) if staff_login else None,
        auth_message="Helpdesk and evaluation pages: log in with the staff account. The chat at / needs no login.",
        allowed_paths=[str(drafts_dir), str(runs_dir)],
        **common,
    )
    public = ui.public_blocks(
        Chat(assistant, feedback),
        assistant,
        lambda: overview_html(assistant.store),
        staff_login=staff_login,
        waiting=startup.notice,
    )
    public.queue(default_concurrency_limit=settings.app_concurrency)
    gr.mount_gradio_app(app, public, path="", **common)
    return app
