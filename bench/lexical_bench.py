"""Lexical index at scale: build two synthetic 100,000-chunk indexes in SQLite FTS5 and time reopening and queries;
measure how far the search's leaving out of common terms moves the top 10.

``python -m bench.lexical_bench [--chunks N]`` (under four minutes); writes bench/results/lexical.json.

* worst case: 60 to 160 words drawn evenly from about 80 domain words, so every query term is in most chunks;
  random queries of 3 to 9 of those words.
* realistic: about 120 words per chunk drawn from the bundled corpus's own words with their frequencies in it;
  the queries are the 160 questions of bench/pact_questions.jsonl.

Each query's time is the median of three runs; p50 and p95 are taken over the queries. The same queries also run
with every term matched (``score_budget=None``), which gives the top 10 that the pruned search is compared with;
on the realistic set a few other score budgets are tried too (each query timed once).
The indexes of the bundled corpus and of the nine Pact acts (when ../shared/reference is there) are too small to
be pruned at the default budget; they are measured with the budget and the rescored count scaled down to their
size, a harsher setting than 100,000 chunks get.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bench import pact
from vectorstore.lexical import RESCORED, SCORE_BUDGET, LexicalIndex
from vectorstore.records import Chunk

RESULTS = Path(__file__).resolve().parent / "results"
QUESTIONS = Path(__file__).resolve().parent / "pact_questions.jsonl"
VOCABULARY = (
    "asylum application border procedure member state responsible transfer family child unaccompanied minor "
    "reception detention return decision appeal court interview interpreter legal counselling solidarity relocation "
    "contribution screening identity security health vulnerability fingerprints database retention period days weeks "
    "months permit residence work employer salary threshold student researcher seasonal worker visa schengen travel "
    "authorisation protection refugee subsidiary status qualification persecution serious harm crisis force majeure"
).split()
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
DOCTYPES = ("guide", "legal act", "overview", "faq")
LIMIT = 40  # what hybrid retrieval asks of each retriever (the default of Settings.candidates)
SWEEP = (10_000, 40_000, 80_000)  # other score budgets tried on the realistic set
REPEATS = 3


def worst_case(n: int, rng: random.Random) -> list[Chunk]:
    """``n`` chunks of 60 to 160 words drawn evenly from the domain's vocabulary."""
    return [
        Chunk(
            id=f"c{i}",
            doc_id=f"d{i // 10}",
            text=" ".join(rng.choices(VOCABULARY, k=rng.randint(60, 160))),
            title=f"Page {i // 10}",
            url=f"https://example.org/{i // 10}",
            link=f"https://example.org/{i // 10}#s{i % 10}",
            heading_path=" > ".join(rng.choices(VOCABULARY, k=3)),
        )
        for i in range(n)
    ]


def corpus_chunks(sources: list[str]) -> list[Chunk]:
    """The chunks ingest makes of ``sources``, sized with the bundled model's tokenizer (no embedding)."""
    from common.settings import BUNDLED_MODEL, Settings
    from ingest.chunk import chunk
    from ingest.sources import default_url, expand, read_file, to_page
    from vectorstore.embeddings import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(name=BUNDLED_MODEL)
    items, _ = expand(sources)
    out: list[Chunk] = []
    for item in items:
        page = to_page(read_file(item, 10**8), location=item.location, url=default_url(item))
        out += chunk(page, count_tokens=embedder.count_tokens, max_tokens=embedder.max_tokens,
                     chunk_tokens=Settings().chunk_tokens, doc_id=item.doc_id)  # fmt: skip
    return out


def realistic(n: int, words: Counter[str], seed: int) -> list[Chunk]:
    """``n`` chunks of 90 to 150 words (headings of 3 to 8) drawn from ``words`` with their frequencies."""
    rng = np.random.default_rng(seed)
    vocabulary = list(words)
    weights = np.array([words[w] for w in vocabulary], dtype=float)
    body_sizes = rng.integers(90, 151, n)
    heading_sizes = rng.integers(3, 9, n)
    drawn = rng.choice(len(vocabulary), size=int(body_sizes.sum() + heading_sizes.sum()), p=weights / weights.sum())
    chunks, at = [], 0
    for i in range(n):
        body = " ".join(vocabulary[w] for w in drawn[at : at + body_sizes[i]])
        at += body_sizes[i]
        heading = " ".join(vocabulary[w] for w in drawn[at : at + heading_sizes[i]])
        at += heading_sizes[i]
        url = f"https://example.org/{i // 10}"
        chunks.append(
            Chunk(
                id=f"c{i}",
                doc_id=f"d{i // 10}",
                text=body,
                title=f"Page {i // 10}",
                url=url,
                link=f"{url}#s{i % 10}",
                heading_path=heading,
                doctype=DOCTYPES[i // 10 % 4],
            )
        )
    return chunks


def questions() -> list[str]:
    """The 160 questions about the Pact acts."""
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [str(json.loads(line)["question"]) for line in lines if line.strip()]


def build(path: Path, chunks: Sequence[Chunk]) -> float:
    """Write ``chunks`` into a new index at ``path`` in batches of 5,000; return the seconds it took."""
    index = LexicalIndex(path)
    start = time.perf_counter()
    for offset in range(0, len(chunks), 5000):
        index.upsert(chunks[offset : offset + 5000])
    seconds = time.perf_counter() - start
    index.close()
    return seconds


def timed(search: Callable[[str], object], queries: Sequence[str], repeats: int) -> dict[str, float]:
    """p50 and p95 over the queries of each query's median time in ms."""
    times = []
    for query in queries:
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            search(query)
            runs.append((time.perf_counter() - start) * 1000)
        times.append(statistics.median(runs))
    times.sort()
    return {"p50": round(statistics.median(times), 2), "p95": round(times[int(0.95 * (len(times) - 1))], 2)}


def overlap(pruned: LexicalIndex, full: LexicalIndex, queries: Sequence[str]) -> dict[str, object]:
    """How much of the full search's top 10 the pruned search keeps, over the queries that find anything."""
    shares, same_lists = [], 0
    for query in queries:
        want = [hit.id for hit in full.search(query, limit=LIMIT)][:10]
        if not want:
            continue
        got = [hit.id for hit in pruned.search(query, limit=LIMIT)][:10]
        shares.append(len(set(want) & set(got)) / len(want))
        same_lists += got == want
    return {
        "questions": len(shares),
        "top10_overlap_mean": round(statistics.mean(shares), 3),
        "top10_overlap_min": round(min(shares), 2),
        "top10_identical": same_lists,
    }


def run_synthetic(name: str, chunks: list[Chunk], queries: list[str], folder: Path) -> dict[str, object]:
    """Build, reopen and query one synthetic set, pruned (the default) and with every term."""
    path = folder / f"{name.replace(' ', '-')}.sqlite3"
    build_s = build(path, chunks)
    start = time.perf_counter()
    index = LexicalIndex(path)
    reopen = time.perf_counter() - start
    full = LexicalIndex(path, score_budget=None)
    try:
        query = timed(lambda q: index.search(q, limit=LIMIT), queries, REPEATS)
        every_term = timed(lambda q: full.search(q, limit=LIMIT), queries, 1)
        result: dict[str, object] = {
            "set": name,
            "chunks": len(chunks),
            "queries": len(queries),
            "build_s": round(build_s, 1),
            "file_mb": round(path.stat().st_size / 1e6, 1),
            "reopen_ms": round(reopen * 1000, 1),
            "query_ms_p50": query["p50"],
            "query_ms_p95": query["p95"],
            "every_term_query_ms_p50": every_term["p50"],
            "every_term_query_ms_p95": every_term["p95"],
            "pruning": overlap(index, full, queries),
        }
        if name == "realistic":
            doctype = timed(lambda q: index.search(q, limit=LIMIT, doctype="legal act"), queries, REPEATS)
            docs = timed(lambda q: index.search(q, limit=LIMIT, doc_ids=["d1", "d2", "d3"]), queries, REPEATS)
            result |= {"doctype_query_ms_p50": doctype["p50"], "doctype_query_ms_p95": doctype["p95"],
                       "three_docs_query_ms_p50": docs["p50"], "three_docs_query_ms_p95": docs["p95"],
                       "budgets": [sweep(path, budget, full, queries) for budget in SWEEP]}  # fmt: skip
        return result
    finally:
        index.close()
        full.close()


def sweep(path: Path, budget: int, full: LexicalIndex, queries: list[str]) -> dict[str, object]:
    """Speed and top-10 overlap at another score budget (each query timed once)."""
    index = LexicalIndex(path, score_budget=budget)
    try:
        query = timed(lambda q: index.search(q, limit=LIMIT), queries, 1)
        kept = overlap(index, full, queries)
    finally:
        index.close()
    return {"score_budget": budget, "query_ms_p50": query["p50"], "query_ms_p95": query["p95"],
            "top10_overlap_mean": kept["top10_overlap_mean"], "top10_identical": kept["top10_identical"]}  # fmt: skip


def run_real(name: str, chunks: list[Chunk], queries: list[str], folder: Path, scale: int) -> dict[str, object]:
    """Top-10 overlap on a real text's index, with the budget and the rescored count scaled to its size."""
    path = folder / f"{name.replace(' ', '-')}.sqlite3"
    build(path, chunks)
    share = len(chunks) / scale
    budget, rescored = round(SCORE_BUDGET * share), max(LIMIT, round(RESCORED * share))
    pruned = LexicalIndex(path, score_budget=budget, rescored=rescored)
    full = LexicalIndex(path, score_budget=None)
    try:
        return {"set": name, "chunks": len(chunks), "score_budget": budget, "rescored": rescored,
                "pruning": overlap(pruned, full, queries)}  # fmt: skip
    finally:
        pruned.close()
        full.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200, help="random queries for the worst case")
    args = parser.parse_args()
    from ingest.sources import CORPUS_DIR

    rng = random.Random(7)
    worst = worst_case(args.chunks, rng)
    worst_queries = [" ".join(rng.choices(VOCABULARY, k=rng.randint(3, 9))) for _ in range(args.queries)]
    corpus = corpus_chunks([str(CORPUS_DIR)])
    words = Counter(word for c in corpus for word in WORD.findall(f"{c.heading_path} {c.text}"))
    asked = questions()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        synthetic = [run_synthetic("worst case", worst, worst_queries, folder)]
        del worst
        synthetic.append(run_synthetic("realistic", realistic(args.chunks, words, seed=7), asked, folder))
        real = [run_real("bundled corpus", corpus, asked, folder, args.chunks)]
        if pact.available():
            acts = corpus_chunks([str(p) for p in pact.write_markdown(folder / "pact")])
            real.append(run_real("nine Pact acts", acts, asked, folder, args.chunks))
    result = {
        "score_budget": SCORE_BUDGET,
        "rescored": RESCORED,
        "limit": LIMIT,
        "synthetic": synthetic,
        "real_text": real,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "lexical.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
