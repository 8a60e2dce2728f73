"""One FastAPI app for everything: the JSON API, the bundled pages citations open, the public and staff pages.

Routes: ``POST /api/ask`` (OpenAPI at /openapi.json, docs at /docs), ``/corpus/pages/<file>`` (the bundled
corpus, served with a policy that lets no script run), ``/staff/`` (Helpdesk and Evaluate; with a login when
``app_username`` and ``app_password`` are set), and ``/`` (Chat and About), mounted last as it takes every other
path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

from assistant.service import Assistant
from ingest.sources import CORPUS_DIR
from vectorstore.settings import Settings
from webapp import api
from webapp.about import overview_html
from webapp.chat import Chat
from webapp.evaluate import Evaluation
from webapp.feedback import FeedbackStore
from webapp.helpdesk import Helpdesk
from webapp.render import CORPUS_ROUTE

PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:"


class CorpusFiles(StaticFiles):
    """The bundled pages, with headers that keep any script in them from running."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Content-Security-Policy"] = PAGE_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def quiet_environment() -> None:
    """No analytics, no calls home: Gradio's analytics off, the Hugging Face hub offline unless asked for."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def create_app(settings: Settings, assistant: Assistant, *, corpus_dir: Path = CORPUS_DIR) -> FastAPI:
    """The whole app over one shared assistant (its store opened, its model loaded on first use)."""
    quiet_environment()
    import gradio as gr

    from webapp import ui

    feedback = FeedbackStore(settings.feedback_path)
    drafts_dir = settings.data_dir / "app" / "drafts"
    runs_dir = settings.data_dir / "eval-runs"
    for folder in (drafts_dir, runs_dir):
        folder.mkdir(parents=True, exist_ok=True)
    staff_login = bool(settings.app_username and settings.app_password)

    app = FastAPI(
        title="EU Migration Assistant",
        version="0.1.0",
        description=(
            "Answers about EU migration and asylum policy from official EU sources, with verified [n] citations. "
            "General information, not legal advice. The web pages are at / (chat) and /staff/ (helpdesk)."
        ),
        redoc_url=None,
    )
    app.include_router(api.router(assistant))
    app.mount(CORPUS_ROUTE, CorpusFiles(directory=corpus_dir), name="corpus")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, Any]:
        return {"ok": True}

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
        Helpdesk(assistant, drafts_dir), Evaluation(assistant, runs_dir), settings, staff_login=staff_login
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
        Chat(assistant, feedback), assistant, lambda: overview_html(assistant.store), staff_login=staff_login
    )
    public.queue(default_concurrency_limit=settings.app_concurrency)
    gr.mount_gradio_app(app, public, path="", **common)
    return app
