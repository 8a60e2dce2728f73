"""Lexical index at scale: build 100,000 synthetic chunks into SQLite FTS5, then time queries (median, p95).

``python -m bench.lexical_bench [--chunks N]``; writes bench/results/lexical.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from vectorstore.lexical import LexicalIndex
from vectorstore.records import Chunk

RESULTS = Path(__file__).resolve().parent / "results"
VOCABULARY = (
    "asylum application border procedure member state responsible transfer family child unaccompanied minor "
    "reception detention return decision appeal court interview interpreter legal counselling solidarity relocation "
    "contribution screening identity security health vulnerability fingerprints database retention period days weeks "
    "months permit residence work employer salary threshold student researcher seasonal worker visa schengen travel "
    "authorisation protection refugee subsidiary status qualification persecution serious harm crisis force majeure"
).split()


def synthetic(n: int, rng: random.Random) -> list[Chunk]:
    """``n`` chunks of 60 to 160 words drawn from the domain's vocabulary."""
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(7)
    chunks = synthetic(args.chunks, rng)
    with tempfile.TemporaryDirectory() as tmp:
        index = LexicalIndex(Path(tmp) / "lexical.sqlite3")
        start = time.perf_counter()
        for offset in range(0, len(chunks), 5000):
            index.upsert(chunks[offset : offset + 5000])
        build = time.perf_counter() - start
        index.close()
        start = time.perf_counter()
        index = LexicalIndex(Path(tmp) / "lexical.sqlite3")  # reopening costs nothing: no rebuild
        reopen = time.perf_counter() - start
        queries = [" ".join(rng.choices(VOCABULARY, k=rng.randint(3, 9))) for _ in range(args.queries)]
        timings = []
        for query in queries:
            start = time.perf_counter()
            index.search(query, limit=30)
            timings.append((time.perf_counter() - start) * 1000)
        size = (Path(tmp) / "lexical.sqlite3").stat().st_size
        index.close()
    timings.sort()
    result = {
        "chunks": args.chunks,
        "build_s": round(build, 1),
        "reopen_ms": round(reopen * 1000, 1),
        "query_ms_p50": round(statistics.median(timings), 2),
        "query_ms_p95": round(timings[int(0.95 * (len(timings) - 1))], 2),
        "file_mb": round(size / 1e6, 1),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "lexical.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
