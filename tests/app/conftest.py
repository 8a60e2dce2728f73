"""Fixtures for the app: a small store (four bundled pages and a hostile page whose text carries HTML and script),
the handlers over it, and the whole app served on loopback with a staff login, for the API and browser tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assistant.service import Assistant
from common.settings import Settings
from ingest.sources import CORPUS_DIR
from tests.ingest.pages import ingest_into
from vectorstore.embeddings import Embedder
from vectorstore.store import Store
from webapp.chat import Chat
from webapp.feedback import FeedbackStore

BUNDLED_PAGES = ("eu-blue-card", "family-reunification", "asylum-border-procedure", "getting-official-help")
STAFF = ("staff", "test-password-1")
# Text that looks like markup: entities in the page's source, so that the parser keeps them as text in the chunks.
IMG = '<img src=x onerror="window.xssFired=1">'
SCRIPT = "<script>window.xssFired=2</script>"
HOSTILE_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Visa sticker notice &lt;img src=x onerror="window.xssFired=1"&gt;</title>
<meta name="euma:source" content="javascript:window.xssFired=3">
<meta name="euma:checked" content="2026-11-29"><meta name="euma:doctype" content="guide"></head>
<body><main><h1>Visa sticker notice</h1>
<script>window.xssFired = 4</script>
<p>This page explains how border guards check a Schengen visa sticker for forgery.</p>
<h2 id="sticker-forgery">Forged visa stickers &lt;script&gt;window.xssFired=2&lt;/script&gt;</h2>
<p>Border guards report every forged Schengen visa sticker to the national police at once.
Each forged Schengen visa sticker seen so far carries the printed marker &lt;img src=x onerror="window.xssFired=1"&gt;
in its lower corner. <img src=x onerror="window.xssFired=5">
The printed marker &lt;script&gt;window.xssFired=2&lt;/script&gt; appears on the back of each forged visa sticker.</p>
</main></body></html>
"""
HOSTILE_QUESTION = "Which printed marker does a forged Schengen visa sticker carry?"


@pytest.fixture(scope="session")
def app_settings(tmp_path_factory: pytest.TempPathFactory, bundled: Embedder) -> Settings:
    """A small store: four bundled pages (cited as corpus/pages/...) and the hostile page."""
    root = tmp_path_factory.mktemp("app")
    hostile = root / "pages" / "visa-sticker-notice.html"
    hostile.parent.mkdir()
    hostile.write_text(HOSTILE_PAGE, encoding="utf-8")
    settings = Settings(data_dir=root / "data")
    sources = [str(CORPUS_DIR / f"{name}.html") for name in BUNDLED_PAGES] + [str(hostile)]
    summary = ingest_into(settings, sources, embedder=bundled)
    assert not summary.skipped, summary.skipped
    return settings


@pytest.fixture(scope="session")
def app_assistant(app_settings: Settings, bundled: Embedder) -> Iterator[Assistant]:
    """One assistant over the small store, shared like the app shares it."""
    assistant = Assistant(app_settings, store=Store(app_settings, embedder=bundled))
    assistant.warm_up()
    yield assistant
    assistant.store.close()


@pytest.fixture
def feedback(tmp_path: Path) -> FeedbackStore:
    """An empty feedback store of the test's own."""
    return FeedbackStore(tmp_path / "feedback.sqlite3")


@pytest.fixture
def chat(app_assistant: Assistant, feedback: FeedbackStore) -> Chat:
    """The chat's handlers."""
    return Chat(app_assistant, feedback)


@dataclass(frozen=True)
class LiveApp:
    """The app served on loopback."""

    url: str
    settings: Settings
    feedback: FeedbackStore


@pytest.fixture(scope="session")
def live_app(
    app_settings: Settings, app_assistant: Assistant, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveApp]:
    """The whole app (API, pages, staff login) served by uvicorn in a thread on a free loopback port."""
    from tests.app.browser import served
    from webapp.server import create_app

    data = tmp_path_factory.mktemp("live")
    settings = app_settings.replace(
        data_dir=data, store_dir=app_settings.store_path, app_username=STAFF[0], app_password=STAFF[1]
    )
    with served(create_app(settings, app_assistant)) as url:
        yield LiveApp(url, settings, FeedbackStore(settings.feedback_path))


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A headless Debian Chromium for the session (the browser tests skip without it)."""
    from tests.app import browser

    reason = browser.missing()
    if reason:
        pytest.skip(reason)
    with browser.chromium() as instance:
        yield instance


@dataclass
class Tab:
    """A browser page of its own context (cookies, storage), with what it did that it should not."""

    page: Any
    watch: Any


@pytest.fixture
def open_tab(chromium: Any) -> Iterator[Callable[..., Tab]]:
    """Open pages in fresh contexts; afterwards, none may have sent a request off the machine, run an alert or
    thrown an uncaught error."""
    from tests.app.browser import DESKTOP, Watch

    contexts: list[Any] = []
    tabs: list[Tab] = []

    def opener(viewport: dict[str, int] | None = None) -> Tab:
        context = chromium.new_context(viewport=viewport or DESKTOP, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        tab = Tab(page, Watch(page))
        tabs.append(tab)
        return tab

    yield opener
    for context in contexts:
        context.close()
    for tab in tabs:
        assert tab.watch.outside == [], f"requests left the machine: {tab.watch.outside}"
        assert tab.watch.dialogs == [], f"the page opened dialogs: {tab.watch.dialogs}"
        assert tab.watch.errors == [], f"uncaught errors in the page: {tab.watch.errors}"
