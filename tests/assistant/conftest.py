"""Fixtures for the assistant: the bundled corpus ingested once per session with the real model, and an assistant."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.service import Assistant
from ingest.pipeline import Ingestor
from vectorstore.embeddings import Embedder
from vectorstore.settings import Settings
from vectorstore.store import Store


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
