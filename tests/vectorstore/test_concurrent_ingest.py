"""The store can change under a running assistant: an ingest in another process never makes a question fail, and
the page it adds is found afterwards without a restart."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assistant.service import Assistant
from common.settings import Settings
from ingest.pipeline import Ingestor
from ingest.sources import CORPUS_DIR

pytestmark = pytest.mark.slow

PAGES = ("etias", "schengen-area", "eu-blue-card", "frontex", "eurodac-regulation", "family-reunification")
NEW_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Harbour pilot permits</title></head><body><main>
<h1>Harbour pilot permits</h1>
<h2 id="who">Who needs a harbour pilot permit</h2>
<p>A harbour pilot permit is needed by every ship master who steers a vessel longer than 80 metres into the Zorvan
harbour of the test union. The permit costs 45 tokens and lasts {years} years.</p>
</main></body></html>
"""


def ingest_process(settings: Settings, sources: list[str]) -> subprocess.Popen[bytes]:
    """``python -m ingest`` into the assistant's store, as an operator would run it beside the app."""
    return subprocess.Popen(
        [sys.executable, "-m", "ingest", *sources, "--data-dir", str(settings.data_dir), "--embedding-model", "hash",
         "--multilingual", "off"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip


def test_questions_keep_being_answered_while_another_process_ingests(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", embedding_model="hash", multilingual="off")
    Ingestor(settings).run([str(CORPUS_DIR / f"{name}.html") for name in PAGES], progress=False)
    assistant = Assistant(settings)
    assistant.ask("How much does ETIAS cost?")
    errors: list[str] = []
    asked = 0
    stop = threading.Event()

    def ask_continuously() -> None:
        nonlocal asked
        questions = ["How much does ETIAS cost?", "What does Frontex do?", "harbour pilot permit cost"]
        while not stop.is_set():
            try:
                assistant.ask(questions[asked % len(questions)])
            except Exception as exc:  # any failure is what the test is about
                errors.append(f"{type(exc).__name__}: {exc}")
            asked += 1

    worker = threading.Thread(target=ask_continuously)
    worker.start()
    try:
        page = tmp_path / "harbour-pilot-permits.html"
        for years in (3, 4, 5):  # add the page, then change it twice: chunks are added and deleted each time
            page.write_text(NEW_PAGE.format(years=years), encoding="utf-8")
            process = ingest_process(settings, [str(page)])
            _, stderr = process.communicate(timeout=300)
            assert process.returncode == 0, stderr.decode()
            time.sleep(0.2)
    finally:
        stop.set()
        worker.join(timeout=60)
    assert asked > 10
    assert errors == []
    # The new page, as last written, is found without a restart.
    found = assistant.retriever.retrieve("harbour pilot permit tokens years").passages
    assert any("45 tokens" in p.chunk.text and "5 years" in p.chunk.text for p in found)
    assert not any("3 years" in p.chunk.text for p in found)
