"""Question latency: retrieval alone and the whole extractive answer, on the bundled corpus and on 100,000 chunks.

``python -m bench.latency_bench [--chunks 100000] [--questions N] [--skip-synthetic] [--torch-threads 0 1]``
ingests the bundled corpus into a temporary store with the real pipeline, then builds a synthetic store of
``--chunks`` chunks beside it, and times the questions of tests/data/qa.jsonl on each (warm: a few questions are
asked first, then each question once for retrieval alone, ``Assistant.retriever.retrieve``, and once for the whole
``Assistant.ask`` with the extractive composer). It prints a Markdown table and writes bench/results/latency.json.
Nothing is asserted.

Each store is served by a fresh process (this module with ``--serve``), so its memory (VmRSS) is the serving
process's, not the builder's; by default twice, with torch's default threads and with one thread. Questions are
asked from a worker thread, as the app's server asks them: torch's thread setting holds for the thread that made it,
and the multilingual model's engine shares torch's OpenMP runtime, so asking from the main thread would time that
engine on one thread, which no served question runs with. Where each
question's time goes is read from its answer's trace (the pipeline's stages). The questions of the 24-language QA
sets are then timed too, by language.

The synthetic store is built without the model: its chunks recombine runs of the corpus's own answer sentences
(4 to 8 per chunk, 150 words or a little more) under varied headings, each sentence keeps its real stored vectors
(the English model's, and the multilingual model's, so that questions in other languages search 100,000 chunks too),
and the chunk's vector is the normalised mean of them. They are written with the Store API (sentence vectors, then
chunks, in batches), so Chroma and the lexical index are filled as ingest fills them. The real corpus chunks are
written too, so that real questions have real answers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]
QA = ROOT / "tests" / "data" / "qa.jsonl"
WARMUP = 10  # questions asked before timing starts
LANGUAGE_SETS = ("qa_languages_major.jsonl", "qa_languages_other.jsonl")  # timed per language
BATCH = 5_000  # synthetic chunks per write
SYNTHETIC_HOST = "https://example.org/synthetic/"
AIM_MS = {"p50": 50.0, "p95": 150.0}  # for retrieval with the extractive answer, warm


# -- measuring -------------------------------------------------------------------------------------------------------
def rss_mb() -> float:
    """This process's resident memory (VmRSS) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def folder_mb(path: Path, *, lexical: bool) -> float:
    """Size on disk of the store folder's Chroma files (``lexical=False``) or of its lexical index files."""
    total = 0
    for file in path.rglob("*"):
        if file.is_file() and file.name.startswith("lexical-") == lexical:
            total += file.stat().st_size
    return round(total / 1e6, 1)


def spread(values: Sequence[float], *, digits: int = 1) -> dict[str, float | None]:
    """p50, p95, mean and max of some times (p95 by the nearest rank below); None for each when there are none."""
    if not values:
        return {"p50": None, "p95": None, "mean": None, "max": None}
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), digits),
        "p95": round(ordered[int(0.95 * (len(ordered) - 1))], digits),
        "mean": round(statistics.mean(ordered), digits),
        "max": round(ordered[-1], digits),
    }


def machine() -> dict[str, object]:
    """CPU model and count, memory, the date and the versions that matter."""
    import chromadb
    import torch

    cpuinfo = Path("/proc/cpuinfo").read_text()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")]
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kb = next((int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:")), 0)
    return {
        "cpu": models[0] if models else platform.processor(),
        "cpus": len(models) or os.cpu_count(),
        "memory_gib": round(total_kb / 1024**2, 1),
        "bf16": any(flag in cpuinfo for flag in ("avx512_bf16", "amx_bf16")),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "chromadb": chromadb.__version__,
        "torch_threads": torch.get_num_threads(),
    }


def stage_summary(traces: list[list[dict[str, Any]]], totals_ms: list[float]) -> dict[str, dict[str, float]]:
    """Per stage of the answers' traces: mean, p50 and p95 in ms over the questions, and its share of the mean
    total (a stage that did not run for a question counts 0 there)."""
    names = list(dict.fromkeys(step["stage"] for trace in traces for step in trace))
    columns = {name: [sum(s["ms"] for s in trace if s["stage"] == name) for trace in traces] for name in names}
    columns["(outside the stages)"] = [
        t - sum(s["ms"] for s in trace) for t, trace in zip(totals_ms, traces, strict=True)
    ]
    mean_total = statistics.mean(totals_ms)
    out = {}
    for name, values in columns.items():
        figures, mean = spread(values), statistics.mean(values)
        out[name] = {"mean": round(mean, 2), "p50": figures["p50"], "p95": figures["p95"]}
        out[name]["share"] = round(mean / mean_total, 3)
    return out


# -- serving (the child process) ---------------------------------------------------------------------------------------
def language_questions() -> list[tuple[str, str]]:
    """(language, question) of the QA sets in the 24 official languages."""
    out = []
    for name in LANGUAGE_SETS:
        for line in (QA.parent / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.append((str(row["language"]), str(row["question"])))
    return out


def questions(limit: int | None) -> list[str]:
    """The questions of the QA set, in file order (the first ``limit``)."""
    lines = [line for line in QA.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [str(json.loads(line)["question"]) for line in lines][:limit]


def serve(folder: Path, limit: int | None, threads: int | None) -> dict[str, object]:
    """Open the store in ``folder`` as the app would, warm up, then time every question twice (see the module).

    ``threads`` sets torch's intra-op threads first (None leaves torch's default, one per core).
    """
    import torch

    from assistant.service import Assistant
    from common.settings import Settings

    if threads:
        torch.set_num_threads(threads)
    asked = questions(limit)
    rss = {"start": rss_mb()}
    assistant = Assistant(Settings(data_dir=folder))
    assistant.store.embedder.embed(["warm up"])
    rss["model loaded"] = rss_mb()
    start = time.perf_counter()
    assistant.warm_up()
    open_s = time.perf_counter() - start
    rss["store open"] = rss_mb()
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="question")

    def retrieve(question: str) -> Any:
        return worker.submit(assistant.retriever.retrieve, question).result()

    def ask(question: str) -> Any:
        return worker.submit(assistant.ask, question).result()

    # Retrieval first, so that the memory of what answering alone reads (sentence vectors) shows apart.
    for question in asked[:WARMUP]:
        retrieve(question)
    rss["after retrieval warm-up"] = rss_mb()
    for question in asked[:WARMUP]:
        ask(question)
    rss["after answer warm-up"] = rss_mb()
    load = [os.getloadavg()[0]]
    retrieval_ms: list[float] = []
    for question in asked:
        start = time.perf_counter()
        retrieve(question)
        retrieval_ms.append((time.perf_counter() - start) * 1000)
    answer_ms, answer_cpu_ms = [], []
    traces: list[list[dict[str, Any]]] = []
    answered, synthetic, passages = 0, 0, 0
    for question in asked:
        start, cpu = time.perf_counter(), time.process_time()
        answer = ask(question)
        answer_ms.append((time.perf_counter() - start) * 1000)
        answer_cpu_ms.append((time.process_time() - cpu) * 1000)
        traces.append(answer.trace)
        answered += not answer.refused
        passages += len(answer.passages)
        synthetic += sum(p.url.startswith(SYNTHETIC_HOST) for p in answer.passages)
    by_language: dict[str, list[float]] = defaultdict(list)
    for language, question in language_questions():
        start = time.perf_counter()
        ask(question)
        by_language[language].append((time.perf_counter() - start) * 1000)
    worker.shutdown()
    load.append(os.getloadavg()[0])
    rss["after the timed run"] = rss_mb()
    store = assistant.store
    return {
        "chunks": store.count(),
        "sentence_vectors": int(store.sentences_collection.count()),
        "pages": len(store.lexical.doc_ids_matching()),
        "questions": len(asked),
        "warmup_questions": min(WARMUP, len(asked)),
        "open_and_warm_up_s": round(open_s, 2),
        "retrieval_ms": spread(retrieval_ms),
        "answer_ms": spread(answer_ms),
        "answer_cpu_ms": spread(answer_cpu_ms),
        "answered": answered,
        "refused": len(asked) - answered,
        "synthetic_share_of_passages": round(synthetic / passages, 3) if passages else 0.0,
        "answer_stages_ms": stage_summary(traces, answer_ms),
        "answer_ms_by_language": {code: spread(ms) for code, ms in sorted(by_language.items())},
        "rss_mb": rss,
        "disk_mb": {
            "chroma": folder_mb(store.settings.store_path, lexical=False),
            "lexical": folder_mb(store.settings.store_path, lexical=True),
        },
        "load_average_1min": [round(x, 2) for x in load],
        "torch_threads": torch.get_num_threads(),
    }


def serve_in_child(folder: Path, limit: int | None, threads: int | None) -> dict[str, Any]:
    """``serve`` in a fresh process, so that its memory is the serving process's alone."""
    command = [sys.executable, "-m", "bench.latency_bench", "--serve", str(folder)]
    if limit is not None:
        command += ["--questions", str(limit)]
    if threads:
        command += ["--torch-threads", str(threads)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"serving {folder} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- building --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Material:
    """The stored corpus: chunks with their vectors, and every answer sentence with its vector, in reading order."""

    chunks: list[Any]
    vectors: np.ndarray
    sentence_vectors: list[np.ndarray]
    sentences: list[str]
    sentence_rows: np.ndarray
    documents: list[Any]
    multilingual_rows: np.ndarray | None = None  # the multilingual model's vector of each sentence, when stored


def read_material(store: Any) -> Material:
    """Everything the synthetic store reuses from the ingested corpus."""
    ids = store.all_chunk_ids()
    pairs = store.get_chunks_with_vectors(ids)
    chunks = sorted((c for c, _ in pairs), key=lambda c: (c.doc_id, c.position))
    by_id = {c.id: v for c, v in pairs}
    stored = store.sentence_vectors(chunks)
    sentence_vectors = [stored[c.id] for c in chunks]
    multilingual = store.multilingual_vectors(chunks) if store.has_multilingual else {}
    complete = bool(multilingual) and all(c.id in multilingual for c in chunks)
    return Material(
        chunks=chunks,
        vectors=np.vstack([by_id[c.id] for c in chunks]),
        sentence_vectors=sentence_vectors,
        sentences=[s for c in chunks for s in c.sentences],
        sentence_rows=np.vstack(sentence_vectors),
        documents=store.list_documents(),
        multilingual_rows=np.vstack([multilingual[c.id] for c in chunks]) if complete else None,
    )


def _hex(text: str, size: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def synthetic_pages(
    material: Material, n: int, seed: int
) -> Iterator[tuple[list[Any], np.ndarray, list[Any], list[Any]]]:
    """Pages of 4 to 16 synthetic chunks until ``n`` chunks: (chunks, their vectors, their sentence matrices, their
    multilingual sentence matrices: empty when the corpus store has none).

    A chunk takes runs of one to four consecutive corpus sentences from random places until it holds at least four
    sentences and about 150 words (at most eight sentences). A page takes its title and metadata from a real page
    and its section names from real sections elsewhere, so heading paths vary.
    """
    from vectorstore.records import Chunk
    from vectorstore.sentences import unit_ends

    rng = np.random.default_rng(seed)
    total = len(material.sentences)
    words = np.array([len(s.split()) for s in material.sentences])
    made, page = 0, 0
    while made < n:
        model = material.chunks[rng.integers(len(material.chunks))]
        doc_id = f"synthetic-{page:06d}"
        url = f"{SYNTHETIC_HOST}{page}"
        chunks, vectors, matrices, multilingual = [], [], [], []
        for position in range(min(int(rng.integers(4, 17)), n - made)):
            picked: list[int] = []
            while len(picked) < 4 or (len(picked) < 8 and words[picked].sum() < 150):
                start = int(rng.integers(total))
                picked += list(range(start, min(total, start + int(rng.integers(1, 5)))))[: 8 - len(picked)]
            units = [material.sentences[i] for i in picked]
            matrix = material.sentence_rows[picked]
            if material.multilingual_rows is not None:
                multilingual.append(material.multilingual_rows[picked])
            mean = matrix.mean(axis=0)
            text = " ".join(units)
            section = material.chunks[rng.integers(len(material.chunks))].section or model.title
            anchor = f"s{position}-{_hex(section, 6)}"
            chunks.append(
                Chunk(
                    id=_hex(f"synthetic {page} {position}", 24),
                    doc_id=doc_id,
                    text=text,
                    title=f"{model.title} ({page})",
                    url=url,
                    link=f"{url}#{anchor}",
                    section=section,
                    heading_path=f"{model.title} ({page}) > {section}",
                    anchor=anchor,
                    source_url=model.source_url,
                    source_title=model.source_title,
                    updated=model.updated,
                    checked=model.checked,
                    tags=model.tags,
                    doctype=model.doctype,
                    language=model.language or "en",
                    position=position,
                    doc_hash=_hex(doc_id, 64),
                    sentence_ends=unit_ends(text, units),
                )
            )
            vectors.append(mean / np.linalg.norm(mean))
            matrices.append(matrix)
        made += len(chunks)
        page += 1
        yield chunks, np.asarray(vectors, dtype=np.float32), matrices, multilingual


def build_synthetic(folder: Path, material: Material, n: int, embedder: Any, seed: int) -> dict[str, object]:
    """Write the corpus chunks and ``n`` synthetic ones into a new store in ``folder``; return how long it took.

    The corpus pages' registry records are copied; the synthetic pages get none (no question reads them, and one
    Chroma write per page would take minutes).
    """
    from common.settings import Settings
    from vectorstore.store import Store

    store = Store(Settings(data_dir=folder), embedder=embedder)
    store.open(create=True)
    store.lexical  # noqa: B018 - in step before the first write, as ingest does
    seconds: dict[str, float] = defaultdict(float)

    def write(chunks: list[Any], vectors: np.ndarray, matrices: list[np.ndarray], multilingual: list[Any]) -> None:
        start = time.perf_counter()
        store.add_sentence_vectors(chunks, matrices)
        seconds["sentence vectors"] += time.perf_counter() - start
        if multilingual:
            start = time.perf_counter()
            store.add_multilingual_vectors(chunks, multilingual)
            seconds["multilingual sentence vectors"] += time.perf_counter() - start
        start = time.perf_counter()
        store.add_chunks(chunks, vectors)
        seconds["chunks and lexical index"] += time.perf_counter() - start

    started = time.perf_counter()
    corpus_multilingual: list[Any] = []
    if material.multilingual_rows is not None:
        ends = np.cumsum([len(m) for m in material.sentence_vectors])
        corpus_multilingual = np.split(material.multilingual_rows, ends[:-1])
    write(material.chunks, material.vectors, material.sentence_vectors, corpus_multilingual)
    for record in material.documents:
        store.put_document(record)
    pending: tuple[list[Any], list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [], [])
    pages = sentences = words = 0
    for chunks, vectors, matrices, multilingual in synthetic_pages(material, n, seed):
        pending[0].extend(chunks)
        pending[1].append(vectors)
        pending[2].extend(matrices)
        pending[3].extend(multilingual)
        pages += 1
        sentences += sum(len(m) for m in matrices)
        words += sum(len(c.text.split()) for c in chunks)
        if len(pending[0]) >= BATCH:
            write(pending[0], np.vstack(pending[1]), pending[2], pending[3])
            pending = ([], [], [], [])
            done = time.perf_counter() - started
            print(f"  {pages:,} pages written ({done:.0f} s)", file=sys.stderr)
    if pending[0]:
        write(pending[0], np.vstack(pending[1]), pending[2], pending[3])
    total = time.perf_counter() - started
    store.close()
    return {
        "synthetic_chunks": n,
        "synthetic_pages": pages,
        "synthetic_sentence_vectors": sentences,
        "multilingual_sentence_vectors": material.multilingual_rows is not None,
        "words_per_synthetic_chunk": round(words / n, 1),
        "sentences_per_synthetic_chunk": round(sentences / n, 2),
        "build_s": round(total, 1),
        "build_split_s": {k: round(v, 1) for k, v in seconds.items()},
    }


# -- the run ---------------------------------------------------------------------------------------------------------
def table(rows: list[dict[str, Any]]) -> str:
    """The Markdown table of docs/benchmarks.md: times in ms, memory and sizes in MB."""
    head = ["store", "chunks", "torch threads", "retrieval p50", "p95", "mean", "max", "answer p50", "p95", "mean"]
    head += ["max", "RSS warm", "RSS after run", "Chroma on disk", "lexical on disk"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        r, a, rss, disk = row["retrieval_ms"], row["answer_ms"], row["rss_mb"], row["disk_mb"]
        cells = [row["store"], f"{row['chunks']:,}", row["torch_threads"], *r.values(), *a.values()]
        cells += [f"{rss['after answer warm-up']:,.0f}", f"{rss['after the timed run']:,.0f}", disk["chroma"]]
        cells += [disk["lexical"]]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000, help="synthetic chunks (besides the corpus's)")
    parser.add_argument("--questions", type=int, default=None, help="time only the first N questions of the QA set")
    parser.add_argument("--skip-synthetic", action="store_true", help="time the bundled corpus only")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--torch-threads",
        type=int,
        nargs="*",
        default=[0, 1],
        help="serve each store with these torch thread counts (0: torch's default) [0 1]",
    )
    parser.add_argument("--serve", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    if args.serve is not None:
        threads = args.torch_threads[0] if args.torch_threads else 0
        print(json.dumps(serve(args.serve, args.questions, threads or None)))
        return 0

    from common.settings import Settings
    from ingest.pipeline import Ingestor
    from vectorstore.store import Store

    started = time.perf_counter()
    rows: list[dict[str, Any]] = []

    def timed(name: str, folder: Path, facts: dict[str, Any]) -> None:
        for threads in args.torch_threads:
            print(f"timing {name} (torch threads: {threads or 'default'})", file=sys.stderr)
            rows.append({"store": name} | facts | serve_in_child(folder, args.questions, threads or None))

    with tempfile.TemporaryDirectory(prefix="latency-bench-") as tmp:
        corpus = Path(tmp) / "corpus"
        settings = Settings(data_dir=corpus)
        store = Store(settings)
        summary = Ingestor(settings, store=store).run(progress=False)
        print(f"bundled corpus ingested: {summary.chunks_total} chunks in {summary.seconds:.1f} s", file=sys.stderr)
        timed("bundled corpus", corpus, {"ingest_s": round(summary.seconds, 1)})
        if not args.skip_synthetic:
            material = read_material(store)
            embedder = store.embedder
            store.close()
            synthetic = Path(tmp) / "synthetic"
            print(f"building {args.chunks:,} synthetic chunks", file=sys.stderr)
            build = build_synthetic(synthetic, material, args.chunks, embedder, args.seed)
            print(f"built in {build['build_s']} s", file=sys.stderr)
            timed(f"corpus + {args.chunks:,} synthetic", synthetic, build)
        else:
            store.close()
    result = {
        "machine": machine(),
        "settings": {
            "command": " ".join(["python -m bench.latency_bench", *sys.argv[1:]]),
            "composer": settings.composer,
            "embedding_model": settings.embedding_model,
            "embedding_precision": settings.embedding_precision,
            "top_k": settings.top_k,
            "candidates": settings.candidates,
            "warmup_questions": WARMUP,
            "synthetic_chunks": 0 if args.skip_synthetic else args.chunks,
            "seed": args.seed,
            "aim_ms": AIM_MS,
        },
        "stores": rows,
        "aim_met": {
            f"{row['store']}, torch threads {row['torch_threads']}": row["answer_ms"]["p50"] < AIM_MS["p50"]
            and row["answer_ms"]["p95"] < AIM_MS["p95"]
            for row in rows
        },
        "total_s": round(time.perf_counter() - started, 1),
    }
    RESULTS.mkdir(exist_ok=True)
    full = args.questions is None and args.chunks == 100_000 and not args.skip_synthetic
    name = "latency.json" if full else "latency-partial.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    print(table(rows))
    print(f"aim met: {result['aim_met']}; whole run {result['total_s']} s; bench/results/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
