"""The optional cross-encoder reranker: loaded from a local folder, it reorders the fused candidates."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.retrieve import Retriever
from common.settings import Settings
from vectorstore.embeddings import Embedder, bundled_model_path
from vectorstore.store import Store


@pytest.fixture(scope="module")
def cross_encoder_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cross-encoder made offline from the bundled MiniLM weights (its scoring head is untrained: this checks the
    plumbing, not the quality; no package ships trained reranker weights)."""
    from sentence_transformers import CrossEncoder

    folder = tmp_path_factory.mktemp("cross-encoder")
    CrossEncoder(str(bundled_model_path()), device="cpu", local_files_only=True).save(str(folder))
    return folder


def test_the_reranker_orders_the_passages_by_its_scores(
    corpus_settings: Settings, bundled: Embedder, cross_encoder_folder: Path
) -> None:
    settings = dataclasses.replace(corpus_settings, reranker=str(cross_encoder_folder))
    store = Store(settings, embedder=bundled)
    try:
        plain = Retriever(store, corpus_settings).retrieve("How long can the border procedure last?")
        reranked = Retriever(store, settings).retrieve("How long can the border procedure last?")
    finally:
        store.close()
    scores = [p.rerank_score for p in reranked.passages]
    assert all(s is not None for s in scores) and len(scores) == settings.top_k
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    assert all(p.rerank_score is None for p in plain.passages)


def test_a_reranker_that_cannot_be_loaded_is_named(
    corpus_settings: Settings, bundled: Embedder, tmp_path: Path
) -> None:
    settings = dataclasses.replace(corpus_settings, reranker=str(tmp_path / "no-such-model"))
    store = Store(settings, embedder=bundled)
    try:
        with pytest.raises(ConfigError, match="cannot load the reranker"):
            Retriever(store, settings).retrieve("What is ETIAS?")
    finally:
        store.close()
