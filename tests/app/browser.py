"""Driving Debian's Chromium with Playwright's Python package (its own browser download is never used)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

CHROMIUM = os.environ.get("EUMA_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ANSWER_TIMEOUT_MS = 60_000


@contextmanager
def served(app: Any) -> Iterator[str]:
    """An ASGI app served by uvicorn in a thread on a free loopback port; yields its base address."""
    import threading
    import time

    import uvicorn

    from tests.conftest import free_port

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="served-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)"
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


class Watch:
    """What a page did that it should not: requests leaving the machine, dialogs (alert), uncaught errors."""

    def __init__(self, page: Any) -> None:
        self.outside: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("request", self._request)
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _request(self, request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in ("127.0.0.1", "localhost"):
            self.outside.append(request.url)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


def ask(page: Any, question: str) -> None:
    """Type a question in the chat and send it with the Enter key; wait until its sources are shown."""
    answers = page.locator("[data-testid=bot]").count()
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    # The first update shows the question and empties the sources panel; the last one fills it: so once the answer
    # has appeared, the panel's placeholder going away means the turn is over.
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=bot]').length > n", arg=answers, timeout=ANSWER_TIMEOUT_MS
    )
    page.wait_for_function(
        "() => !document.querySelector('#sources').innerText.includes('appear here')", timeout=ANSWER_TIMEOUT_MS
    )


def log_in(page: Any, base: str, user: str, password: str, path: str = "/staff/") -> None:
    """Open a staff page through Gradio's login form."""
    page.goto(base + path)
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    page.get_by_role("tab", name="Helpdesk").wait_for(timeout=30_000)
