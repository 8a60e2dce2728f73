"""The first start: the app serves at once while its store is built in a thread; until the assistant is ready the
API answers 503 with how far the build has got (and Retry-After), the pages and handlers say the same, and then
the app answers without a restart. A build that fails says so, on the console and in the API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app import prepare
from assistant import messages
from assistant.service import Assistant
from common.settings import Settings
from ingest.sources import CORPUS_DIR
from tests.app.browser import served
from vectorstore.embeddings import Embedder
from webapp import render
from webapp.chat import Chat
from webapp.server import RETRY_AFTER_SECONDS, Startup
from webapp.ui import chat_turn

PAGES = [str(CORPUS_DIR / f"{name}.html") for name in ("eu-blue-card", "family-reunification")]
BLUE_CARD = "What salary do I need for an EU Blue Card?"
WAIT_SECONDS = 300  # a deadline for a step that should take seconds, generous for a loaded machine


class HeldStartup(Startup):
    """A start whose build stops at chosen page counts until the test lets it go on; it remembers every count."""

    def __init__(self, hold_at: tuple[int, ...]) -> None:
        super().__init__()
        self.counts: list[tuple[int, int]] = []
        self.reached = {n: threading.Event() for n in hold_at}
        self.released = {n: threading.Event() for n in hold_at}

    def building(self, done: int, total: int, *, update: bool = False) -> None:
        super().building(done, total, update=update)
        self.counts.append((done, total))
        if done in self.reached and not self.reached[done].is_set():
            self.reached[done].set()
            self.released[done].wait(WAIT_SECONDS)

    def held_at(self, done: int) -> None:
        assert self.reached[done].wait(WAIT_SECONDS), f"the build never reached {done} pages: {self.counts}"

    def go_on(self, done: int) -> None:
        self.released[done].set()


@dataclass
class Start:
    """The app served over an empty data folder, its store being built in a thread by app.prepare."""

    url: str
    startup: HeldStartup
    thread: threading.Thread
    outcome: list[bool]


@contextmanager
def first_start(settings: Settings, *, hold_at: tuple[int, ...] = ()) -> Iterator[Start]:
    """Serve the whole app over ``settings`` (no store yet) and build the store from PAGES meanwhile."""
    from webapp.server import create_app

    assistant = Assistant(settings)
    startup = HeldStartup(hold_at)
    outcome: list[bool] = []
    with served(create_app(settings, assistant, startup=startup)) as url:
        thread = threading.Thread(
            target=lambda: outcome.append(prepare(settings, assistant, startup, sources=PAGES)), daemon=True
        )
        thread.start()
        try:
            yield Start(url, startup, thread, outcome)
        finally:
            for done in hold_at:
                startup.go_on(done)
            thread.join(WAIT_SECONDS)
            assistant.store.close()


@pytest.fixture
def settings(tmp_path: Path, bundled: Embedder, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """An empty data folder (the bundled model already loaded); Gradio's temporary folder as it was afterwards."""
    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)  # create_app sets it; the session's app keeps its own
    return Settings(data_dir=tmp_path / "data")


def ask(url: str, question: str = BLUE_CARD) -> httpx.Response:
    return httpx.post(f"{url}/api/ask", json={"question": question}, timeout=60)


def test_while_the_store_is_built_the_api_says_how_far_it_got_then_answers(settings: Settings) -> None:
    from gradio_client import Client

    with first_start(settings, hold_at=(0, 2)) as start:
        start.startup.held_at(0)
        building = "The knowledge base is being built (0 of 2 pages)… Please try again in a minute."
        response = ask(start.url)
        assert response.status_code == 503 and response.json() == {"detail": building}
        assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
        assert response.headers["x-frame-options"] == "DENY"  # an app response like any other
        assert ask(start.url, "").status_code == 503  # refused before the body is judged
        health = httpx.get(f"{start.url}/healthz", timeout=10)
        assert health.status_code == 503 and health.json() == {"ok": False, "detail": building}
        assert httpx.get(f"{start.url}/", timeout=10).status_code == 200  # the page itself opens
        with pytest.raises(Exception, match=r"being built \(0 of 2 pages\)"):
            Client(f"{start.url}/", verbose=False).predict(BLUE_CARD, None, api_name="/ask")

        start.startup.go_on(0)
        start.startup.held_at(2)  # both pages stored; the assistant has not loaded its model yet
        assert ask(start.url).json()["detail"].startswith("The knowledge base is being built (2 of 2 pages)…")

        start.startup.go_on(2)
        start.thread.join(WAIT_SECONDS)
        assert start.outcome == [True] and start.startup.is_ready
        response = ask(start.url)
        assert response.status_code == 200 and "retry-after" not in response.headers
        assert response.json()["citations"][0]["url"].startswith("corpus/pages/eu-blue-card.html#")
        assert httpx.get(f"{start.url}/healthz", timeout=10).json() == {"ok": True}
    assert start.startup.counts[0] == (0, 2) and start.startup.counts[-1] == (2, 2)
    assert [done for done, _ in start.startup.counts] == sorted(done for done, _ in start.startup.counts)


def test_the_openapi_description_names_the_503(settings: Settings) -> None:
    with first_start(settings) as start:
        spec = httpx.get(f"{start.url}/openapi.json", timeout=10).json()
    answer = spec["paths"]["/api/ask"]["post"]["responses"]["503"]
    assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")


def test_a_build_that_fails_says_so_on_the_console_and_in_the_api(
    tmp_path: Path, bundled: Embedder, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)
    blocked = tmp_path / "store"
    blocked.write_text("a file where the store's folder should be")
    settings = Settings(data_dir=tmp_path / "data", store_dir=blocked)
    with first_start(settings) as start:
        start.thread.join(WAIT_SECONDS)
        assert start.outcome == [False]
        response = ask(start.url)
        assert response.status_code == 503 and "retry-after" not in response.headers  # waiting will not help
        assert response.json()["detail"].startswith("Sorry, the assistant cannot answer: its knowledge base could not")
        assert str(blocked) not in response.text  # the reason is for whoever runs the app, not for visitors
    console = capsys.readouterr().err.splitlines()
    assert console[-2:] == [
        f"error: [Errno 17] File exists: '{blocked}'",
        "the app cannot answer, and its pages say so; stop it (Ctrl+C), fix the above and start it again",
    ]


def test_the_chat_says_the_store_is_being_built_then_answers(chat: Chat) -> None:
    startup = Startup()
    startup.building(3, 46)
    turn = chat_turn(chat, startup.notice)
    shown, box, conversation, _ = list(turn(BLUE_CARD, None))[-1]
    notice = "The knowledge base is being built (3 of 46 pages)… Please try again in a minute."
    assert shown[-1] == {"role": "assistant", "content": render.text_md(notice)}
    assert box == BLUE_CARD and conversation.turns == []  # the question waits in the box; the assistant reads none
    startup.ready()
    shown, box, conversation, sources = list(turn(BLUE_CARD, conversation))[-1]
    assert box == "" and "[\\[1\\]](/corpus/pages/eu-blue-card.html#" in shown[-1]["content"]
    assert "eu-blue-card.html" in sources
    assert [m["role"] for m in shown] == ["user", "assistant", "user", "assistant"]
    assert [t.role for t in conversation.turns] == ["user", "assistant"]  # the answered turn only


@pytest.mark.unit
def test_what_each_stage_of_the_start_says() -> None:
    startup = Startup()
    assert startup.notice() == "The assistant is starting… Please try again in a moment."
    startup.building(5, 46, update=True)
    assert startup.notice() == "The knowledge base is being updated (5 of 46 pages)… Please try again in a minute."
    assert "(5 pages sur 46)" in str(startup.notice("fr")) and "(5 z 46 stron)" in str(startup.notice("pl"))
    for language in messages.languages():  # every language says how far the build has got
        assert "5" in str(startup.notice(language)) and "46" in str(startup.notice(language))
    assert startup.retry_headers() == {"Retry-After": str(RETRY_AFTER_SECONDS)}
    startup.loading()
    assert startup.notice() is not None and "loading its model" in startup.notice()
    startup.failed()
    assert startup.notice() is not None and "could not be built" in startup.notice()
    assert startup.retry_headers() == {} and not startup.is_ready
    startup.ready()
    assert startup.notice() is None and startup.retry_headers() == {} and startup.is_ready
    assert Startup(ready=True).notice() is None
