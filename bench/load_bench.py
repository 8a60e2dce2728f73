"""Load benchmark: concurrent users asking through ``POST /api/ask`` of the real app, on loopback only.

``python -m bench.load_bench`` starts ``python app.py`` on a free loopback port over the bundled corpus (ingested
into --data-dir, or a temporary folder, first), then runs --users clients for --seconds, each asking the questions of
tests/data/qa.jsonl (with their history for follow-ups) one after another from its own starting point. It reports
requests served, errors, refusals and latency percentiles, and writes bench/results/load.json. The run is bounded
by --seconds (requests still open then are waited for, at most --timeout) and stops the server itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
QA = ROOT / "tests" / "data" / "qa.jsonl"


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load_questions(path: Path) -> list[dict[str, Any]]:
    """Request bodies: each QA row's question, with its history when it is a follow-up."""
    bodies = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            bodies.append({"question": row["question"], "history": row.get("history") or []})
    return bodies


def start_app(data_dir: Path, port: int, log: Path, concurrency: int | None) -> subprocess.Popen[bytes]:
    """``python app.py`` on loopback; returns once it answers (the first start ingests the corpus)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EUMA_")} | {"EUMA_DATA_DIR": str(data_dir)}
    command = [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)]
    if concurrency:
        command += ["--concurrency", str(concurrency)]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    return wait_ready(proc, port, log, minutes=15)


def wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path, *, minutes: int) -> subprocess.Popen[bytes]:
    """Wait until the app on ``port`` answers /healthz; an exit or ``minutes`` without an answer raises, with the end
    of its log."""
    deadline = time.monotonic() + minutes * 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise RuntimeError(f"the app exited with {proc.returncode}; the end of its log:\n{tail}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(1)
    proc.terminate()
    raise RuntimeError(f"the app did not start within {minutes} minutes; see {log}")


async def ask(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> tuple[int, bool, str, str]:
    """One question to the API: the HTTP status (0 when none came), whether it was refused, the error's kind and the
    start of its text (empty when answered)."""
    try:
        response = await client.post(url, json=body)
    except httpx.HTTPError as exc:
        return 0, False, type(exc).__name__, str(exc)[:200]
    if response.status_code != 200:
        return response.status_code, False, f"HTTP {response.status_code}", response.text[:200]
    try:
        return 200, bool(response.json().get("refused")), "", ""
    except ValueError as exc:
        return 200, False, type(exc).__name__, str(exc)[:200]


async def user(
    client: httpx.AsyncClient,
    url: str,
    bodies: list[dict[str, Any]],
    start: int,
    until: float,
    out: list[dict[str, Any]],
) -> None:
    """One client: ask question after question until the deadline."""
    i = start
    while time.monotonic() < until:
        body = bodies[i % len(bodies)]
        i += 1
        began = time.perf_counter()
        status, refused, error, _ = await ask(client, url, body)
        out.append({"seconds": time.perf_counter() - began, "status": status, "refused": refused, "error": error})


async def load(base: str, bodies: list[dict[str, Any]], users: int, seconds: float, timeout: float) -> dict[str, Any]:
    """Run the users against the app and sum up."""
    results: list[dict[str, Any]] = []
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        began = time.monotonic()
        until = began + seconds
        step = max(1, len(bodies) // users)
        await asyncio.gather(*(user(client, f"{base}/api/ask", bodies, n * step, until, results) for n in range(users)))
        elapsed = time.monotonic() - began
    served = [r["seconds"] * 1000 for r in results if not r["error"]]
    errors = Counter(r["error"] for r in results if r["error"])
    percentile = (lambda q: round(float(np.percentile(served, q)), 1)) if served else (lambda q: None)
    return {
        "requests": len(results),
        "served": len(served),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "refused": sum(1 for r in results if r["refused"]),
        "elapsed_s": round(elapsed, 1),
        "throughput_per_s": round(len(served) / elapsed, 2),
        "latency_ms": {
            "p50": percentile(50),
            "p95": percentile(95),
            "p99": percentile(99),
            "max": round(max(served), 1) if served else None,
            "mean": round(float(np.mean(served)), 1) if served else None,
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Start the app, load it, report."""
    parser = argparse.ArgumentParser(prog="python -m bench.load_bench", description=__doc__)
    parser.add_argument("--users", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long they ask (default 60)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before one request is given up")
    parser.add_argument("--concurrency", type=int, help="the app's EUMA_APP_CONCURRENCY (default: its own)")
    parser.add_argument("--data-dir", type=Path, help="data folder with (or for) the bundled corpus store")
    parser.add_argument("--questions", type=Path, default=QA, help=f"QA file to take questions from (default {QA})")
    parser.add_argument("--out", type=Path, default=RESULTS / "load.json", help="where to write the results")
    args = parser.parse_args(argv)
    if not 1 <= args.users <= 200 or not 0 < args.seconds <= 600:
        parser.error("--users must be 1-200 and --seconds at most 600")

    bodies = load_questions(args.questions)
    with tempfile.TemporaryDirectory(prefix="euma-load-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        port = free_port()
        log = Path(tmp) / "app.log"
        started = time.monotonic()
        proc = start_app(data_dir, port, log, args.concurrency)
        startup = time.monotonic() - started
        try:
            base = f"http://127.0.0.1:{port}"
            figures = asyncio.run(load(base, bodies, args.users, args.seconds, args.timeout))
            alive = httpx.get(f"{base}/healthz", timeout=10).status_code == 200
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "machine": {"arch": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "command": " ".join(["python -m bench.load_bench", *(argv if argv is not None else sys.argv[1:])]),
        "users": args.users,
        "seconds": args.seconds,
        "questions": len(bodies),
        "endpoint": "POST /api/ask",
        "app_startup_s": round(startup, 1),
        "app_alive_after": alive,
        **figures,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    latency = result["latency_ms"]
    print(
        f"{result['users']} users for {result['seconds']:g} s: {result['requests']} requests, "
        f"{result['served']} served ({result['throughput_per_s']}/s), {result['errors']} errors, "
        f"{result['refused']} refusals; latency p50 {latency['p50']} ms, p95 {latency['p95']} ms; "
        f"written to {args.out}"
    )
    return 0 if result["errors"] == 0 and alive else 1


if __name__ == "__main__":
    sys.exit(main())
