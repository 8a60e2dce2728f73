"""Ingest benchmark: cold ingest, re-ingest with nothing changed, and throughput against raw model encoding.

``python -m bench.ingest_bench`` prints a Markdown table and writes bench/results/ingest.json. The ratio
column compares the whole pipeline's embedded tokens per second with ``SentenceTransformer.encode`` on the same
texts, same model, same precision, in the same run: the physical limit of this machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import pact
from common.settings import BUNDLED_MODEL, Settings
from ingest.chunk import chunk
from ingest.pipeline import Ingestor
from ingest.sources import CORPUS_DIR, default_url, expand, read_file, to_page
from vectorstore.embeddings import SentenceTransformerEmbedder, cpu_flags, cpu_supports_bf16
from vectorstore.multilingual import MultilingualEncoder, VectorCache
from vectorstore.records import Chunk
from vectorstore.store import Store

RESULTS = Path(__file__).resolve().parent / "results"
MULTILINGUAL_SAMPLE = 300  # sentences the multilingual model encodes raw, to compare with what ingest took


def _texts(sources: list[str], embedder: SentenceTransformerEmbedder, chunk_tokens: int) -> list[str]:
    return [c.embed_text for c in _chunks(sources, embedder, chunk_tokens)]


def _chunks(sources: list[str], embedder: SentenceTransformerEmbedder, chunk_tokens: int) -> list[Chunk]:
    items, _ = expand(sources)
    out: list[Chunk] = []
    for item in items:
        page = to_page(read_file(item, 10**8), location=item.location, url=default_url(item))
        out += chunk(
            page, count_tokens=embedder.count_tokens, max_tokens=embedder.max_tokens, chunk_tokens=chunk_tokens
        )
    return out


def _raw_encode(embedder: SentenceTransformerEmbedder, texts: list[str]) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    vectors = embedder.embed(texts)
    return time.perf_counter() - start, vectors


def run_set(name: str, sources: list[str], precision: str) -> dict[str, object]:
    """Cold ingest, unchanged re-ingest and raw encoding of one set of sources."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), embedding_precision=precision)
        embedder = SentenceTransformerEmbedder(name=BUNDLED_MODEL, precision=precision)
        embedder.embed(["warm up the model and its kernels"] * 8)
        store = Store(settings, embedder=embedder)
        cold = Ingestor(settings, store=store).run(sources, progress=False)
        warm = Ingestor(settings, store=store).run(sources, progress=False)
        store.close()
        encoded_multilingual = store.encoder.encoded if store.has_multilingual else 0
        texts = _texts(sources, embedder, settings.chunk_tokens)
        raw_seconds, _ = _raw_encode(embedder, texts)
        tokens = sum(min(n, embedder.max_tokens) for n in embedder.count_tokens(texts))
        multilingual: dict[str, object] = {}
        if store.has_multilingual:
            # The multilingual model raw, on a sample of the same sentences, without the shipped vectors.
            sentences = [c.sentence_in_context(t) for c in _chunks(sources, embedder, settings.chunk_tokens)
                         for t in c.sentences][:MULTILINGUAL_SAMPLE]  # fmt: skip
            raw = MultilingualEncoder(cache=VectorCache(Path(tmp) / "none.npz"))
            raw.passage(sentences[:4])
            start = time.perf_counter()
            raw.passage(sentences)
            multilingual = {
                "multilingual_encoded_in_ingest": encoded_multilingual,
                "raw_multilingual_sentences_per_s": round(len(sentences) / (time.perf_counter() - start), 1),
            }
        return multilingual | {
            "set": name,
            "precision": "bf16" if embedder.use_bf16 else "fp32",
            "pages": cold.pages_total,
            "chunks": cold.chunks_total,
            "tokens": cold.tokens_embedded,
            "cold_ingest_s": round(cold.seconds, 2),
            "reingest_unchanged_s": round(warm.seconds, 2),
            "reingest_embedded": warm.chunks_embedded,
            "ingest_tokens_per_s": round(cold.tokens_embedded / cold.seconds),
            "raw_encode_s": round(raw_seconds, 2),
            "raw_tokens_per_s": round(tokens / raw_seconds),
            "ratio_to_raw": round((cold.tokens_embedded / cold.seconds) / (tokens / raw_seconds), 3),
        }


def precision_check(texts: list[str]) -> dict[str, object]:
    """Raw encoding speed in fp32 and bf16 on the same texts, and how close the vectors are."""
    out: dict[str, object] = {"cpu_bf16": cpu_supports_bf16(), "amx": "amx_bf16" in cpu_flags()}
    fp32 = SentenceTransformerEmbedder(name=BUNDLED_MODEL, precision="fp32")
    fp32.embed(texts[:16])
    seconds32, v32 = _raw_encode(fp32, texts)
    out["fp32_texts_per_s"] = round(len(texts) / seconds32, 1)
    if cpu_supports_bf16():
        bf16 = SentenceTransformerEmbedder(name=BUNDLED_MODEL, precision="bf16")
        bf16.embed(texts[:16])
        seconds16, v16 = _raw_encode(bf16, texts)
        out["bf16_texts_per_s"] = round(len(texts) / seconds16, 1)
        out["bf16_speedup"] = round(seconds32 / seconds16, 2)
        out["min_cosine_bf16_vs_fp32"] = round(float((v32 * v16).sum(axis=1).min()), 5)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"))
    args = parser.parse_args()
    rows = [run_set("bundled corpus", [str(CORPUS_DIR)], args.precision)]
    with tempfile.TemporaryDirectory() as tmp:
        if pact.available():
            paths = pact.write_markdown(Path(tmp) / "pact")
            rows.append(run_set("nine Pact acts", [str(p) for p in paths], args.precision))
        embedder = SentenceTransformerEmbedder(name=BUNDLED_MODEL, precision="fp32")
        sample = _texts([str(CORPUS_DIR)], embedder, 200)
        precision = precision_check(sample)
    result = {"machine": platform.processor() or platform.machine(), "rows": rows, "precision": precision}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ingest.json").write_text(json.dumps(result, indent=2) + "\n")
    columns = ("set", "precision", "pages", "chunks", "tokens", "cold_ingest_s", "reingest_unchanged_s",
               "ingest_tokens_per_s", "raw_tokens_per_s", "ratio_to_raw", "multilingual_encoded_in_ingest",
               "raw_multilingual_sentences_per_s")  # fmt: skip
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for r in rows:
        print("| " + " | ".join(str(r.get(c, "")) for c in columns) + " |")
    print(json.dumps(precision, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
