"""Shared fixtures: every data folder in tmp_path, the real bundled model loaded once, the bundled corpus ingested
once (for the assistant's, the evaluation's and the app's tests), a Chroma server on demand."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.service import Assistant
from common.settings import Settings
from ingest.pipeline import Ingestor
from vectorstore.embeddings import Embedder, HashEmbedder, get_embedder
from vectorstore.store import Store

SHARED = Path(__file__).resolve().parents[2] / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(autouse=True)
def _data_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point every data folder at the test's own tmp_path, and clear settings the developer may have set."""
    for name in list(os.environ):
        if name.startswith("EUMA_") and name != "EUMA_TEST_CHROMA_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("EUMA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


@pytest.fixture(scope="session")
def bundled() -> Embedder:
    """The real bundled all-MiniLM-L6-v2, loaded once for the session."""
    embedder = get_embedder(Settings(data_dir=Path("/nonexistent")))
    embedder.embed(["warm up"])
    return embedder


@pytest.fixture
def hash_embedder() -> Embedder:
    """The deterministic fake embedder, for tests about bookkeeping rather than meaning."""
    return HashEmbedder()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with the store in tmp_path and the bundled model."""
    return Settings(data_dir=tmp_path / "data")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(address: str, proc: subprocess.Popen[Any], *, seconds: float, name: str) -> None:
    """Wait until ``address`` answers 200; fail the test if ``proc`` stops or ``seconds`` pass first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(address, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            pytest.fail(f"{name} stopped with exit code {proc.returncode}")
        time.sleep(0.2)
    pytest.fail(f"{name} did not start in {seconds:g} s")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Address of a real Chroma server on loopback: the one .ci/run started, or one started here."""
    url = os.environ.get("EUMA_TEST_CHROMA_URL")
    if url:
        yield url
        return
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    if chroma is None:
        pytest.skip("the chroma command is not installed")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("w")
    proc = subprocess.Popen(
        [chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path / "db")], stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/api/v2/heartbeat", proc, seconds=20, name="the Chroma server")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory, bundled: Embedder) -> Settings:
    """Settings of a store holding the bundled corpus (ingested once, with the bundled model)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("corpus-store"))
    store = Store(settings, embedder=bundled)
    try:
        summary = Ingestor(settings, store=store).run(None, progress=False)
    finally:
        store.close()
    assert not summary.skipped, summary.skipped
    return settings


@pytest.fixture
def corpus_assistant(corpus_settings: Settings, bundled: Embedder) -> Iterator[Assistant]:
    """An assistant over the bundled corpus with the default (extractive) composer."""
    assistant = Assistant(corpus_settings, store=Store(corpus_settings, embedder=bundled))
    yield assistant
    assistant.store.close()
