"""Soak benchmark: concurrent users on ``POST /api/ask`` for minutes while another process re-ingests the store.

``python -m bench.soak_bench`` copies the bundled corpus into a temporary folder, ingests the copy into a private
store there and serves that store with ``python app.py --no-ingest`` on a free loopback port. --users clients then
ask for --minutes, each waiting 0.5-2 s (seeded) between questions, cycling over tests/data/qa.jsonl and the
non-English questions of tests/data/qa_languages_major.jsonl. Every --reingest-every seconds (the first half an
interval in) a separate ``python -m ingest`` process re-ingests the copy into the same store after two edits: a
dated synthetic line appended to one copied corpus page, and a synthetic test page of our own (it states no
migration rule) whose made-up marker word changes each round. After each re-ingest, and once at the end, the app is
asked for the marker word: the answer must quote the newest one. It reports requests, errors by kind, latency,
ingests and the server's memory, and writes bench/results/soak-<users>u-<minutes>m.json. Traffic stays on
loopback; every loop ends by the deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.load_bench import QA, RESULTS, ROOT, ask, free_port, load_questions, wait_ready
from ingest.sources import CORPUS_DIR

LANGUAGES = ROOT / "tests" / "data" / "qa_languages_major.jsonl"
SEED = 20261207
THINK_S = (0.5, 2.0)  # a user's pause between an answer and the next question
REQUEST_TIMEOUT_S = 120.0
FIRST_INGEST_TIMEOUT_S = 900.0
REINGEST_TIMEOUT_S = 300.0
RSS_EVERY_S = 15.0
MARKER_FILE = "zz-soak-bench-test-page.html"
MARKER_QUESTION = "What is the soak benchmark marker word?"
LOG_PROBLEM = re.compile(r"\b(ERROR|CRITICAL|Traceback|Exception)\b")

MARKER_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Soak benchmark test page (synthetic, not migration information)</title>
  <meta name="description" content="Synthetic test data written by bench/soak_bench.py.">
  <meta name="euma:source" content="https://example.invalid/soak-bench">
  <meta name="euma:source-title" content="bench/soak_bench.py (synthetic test data)">
  <meta name="euma:checked" content="{date}">
  <meta name="euma:tags" content="test">
  <meta name="euma:doctype" content="guide">
</head>
<body>
<main>
  <h1>Soak benchmark test page</h1>
  <p>This page is synthetic test data written by the soak benchmark. It states no rule of EU migration or asylum
  policy.</p>
  <h2 id="soak-marker">Soak benchmark marker word</h2>
  <p>The soak benchmark marker word is {token}, written at {stamp} UTC by re-ingest number {round}.</p>
</main>
</body>
</html>
"""


@dataclass
class Run:
    """What the users, the re-ingests and the memory sampler record, in seconds from the start of the load."""

    began: float
    requests: list[dict[str, Any]] = field(default_factory=list)
    ingests: list[dict[str, Any]] = field(default_factory=list)
    rss: list[tuple[float, float | None]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.began


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MB: psutil when installed, else VmRSS from /proc; None once it is gone."""
    try:
        import psutil
    except ImportError:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return None
        kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), None)
        return round(kb / 1024, 1) if kb is not None else None
    try:
        return round(psutil.Process(pid).memory_info().rss / 2**20, 1)
    except psutil.Error:
        return None


def environment(data_dir: Path) -> dict[str, str]:
    """The environment of the app and of every ingest: no inherited ``EUMA_`` setting, the private data folder."""
    return {k: v for k, v in os.environ.items() if not k.startswith("EUMA_")} | {"EUMA_DATA_DIR": str(data_dir)}


def build_corpus(folder: Path) -> list[Path]:
    """Copy the bundled corpus's pages into ``folder`` (the originals are never touched); return the copies."""
    shutil.copytree(CORPUS_DIR, folder)
    return sorted(folder.glob("*.html"))


def touch(pages: list[Path], marker: Path, round_no: int, token: str) -> Path:
    """This round's edits: a dated synthetic line at the end of one copied page, and the marker page's new word."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    page = pages[(round_no - 1) % len(pages)]
    line = f"<p>Soak benchmark note (synthetic test line): re-ingest {round_no} touched this copy at {stamp} UTC.</p>"
    page.write_text(page.read_text(encoding="utf-8").replace("</main>", f"{line}\n</main>", 1), encoding="utf-8")
    date = stamp[:10]
    marker.write_text(MARKER_PAGE.format(date=date, token=token, stamp=stamp[11:], round=round_no), encoding="utf-8")
    return page


async def ingest(corpus: Path, data_dir: Path, timeout: float) -> dict[str, Any]:
    """``python -m ingest`` on the copied corpus in its own process; its summary, exit code and wall time."""
    began = time.perf_counter()
    command = [sys.executable, "-m", "ingest", str(corpus), "--quiet", "--json"]
    proc = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, env=environment(data_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return {"returncode": None, "seconds": round(time.perf_counter() - began, 1), "error": f"over {timeout:g} s"}
    result: dict[str, Any] = {"returncode": proc.returncode, "seconds": round(time.perf_counter() - began, 1)}
    try:
        summary = json.loads(out)
        result |= {
            "added": len(summary["added"]),
            "changed": len(summary["changed"]),
            "chunks_embedded": summary["chunks_embedded"],
            "chunks_total": summary["chunks_total"],
            "pages_total": summary["pages_total"],
            "ingest_own_s": summary["seconds"],
        }
    except (ValueError, KeyError):
        result["error"] = (err.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
    return result


def start_server(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``python app.py --no-ingest`` over the private store on loopback; returns once /healthz answers.

    Not load_bench's ``start_app``: that one lets the app ingest the bundled corpus, which would put a second copy of
    every page (under other ids) beside the copies this benchmark re-ingests."""
    command = [sys.executable, "app.py", "--no-ingest", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        command, cwd=ROOT, env=environment(data_dir), stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    return wait_ready(proc, port, log, minutes=5)


async def ask_marker(client: httpx.AsyncClient, url: str, tokens: list[str]) -> dict[str, Any]:
    """Ask for the marker word: is the newest one in the answer, or only an older one?"""
    began = time.perf_counter()
    try:
        response = await client.post(url, json={"question": MARKER_QUESTION, "history": []})
        body = response.json() if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError) as exc:
        return {"answered": False, "error": type(exc).__name__}
    text = body.get("text", "")
    return {
        "status": response.status_code,
        "ms": round((time.perf_counter() - began) * 1000, 1),
        "answered": bool(tokens) and tokens[-1] in text and not body.get("refused", True),
        "older_word_seen": any(t in text for t in tokens[:-1]),
        "refused": body.get("refused"),
        "text": text[:300],
    }


async def user(
    client: httpx.AsyncClient,
    url: str,
    bodies: list[dict[str, Any]],
    start: int,
    rng: random.Random,
    run: Run,
    until: float,
) -> None:
    """One simulated person: a question, the answer, a pause, the next question, until the deadline."""
    i = start
    while run.now() < until:
        body = bodies[i % len(bodies)]
        i += 1
        began = run.now()
        status, refused, error, detail = await ask(client, url, body)
        run.requests.append(
            {
                "began": began,
                "seconds": run.now() - began,
                "status": status,
                "refused": refused,
                "error": error,
                "detail": detail,
            }
        )
        await asyncio.sleep(max(0.0, min(rng.uniform(*THINK_S), until - run.now())))


async def reingester(
    client: httpx.AsyncClient, url: str, corpus: Path, data_dir: Path, every: float, run: Run, until: float
) -> None:
    """Every ``every`` seconds, the first half an interval in (so a short run has one too), until the deadline: edit
    two pages, re-ingest in another process, ask for the marker word."""
    pages = sorted(p for p in corpus.glob("*.html") if p.name != MARKER_FILE)
    rng = random.Random(SEED)
    for round_no in range(1, int(until // every) + 2):
        tick = (round_no - 0.5) * every
        if tick >= until:
            break
        await asyncio.sleep(max(0.0, tick - run.now()))
        token = f"quillorbanite-{round_no}-{rng.randrange(16**4):04x}"
        touched = touch(pages, corpus / MARKER_FILE, round_no, token)
        run.tokens.append(token)
        started = run.now()
        result = await ingest(corpus, data_dir, REINGEST_TIMEOUT_S)
        ended = run.now()
        probe = await ask_marker(client, url, run.tokens)
        run.ingests.append(
            {
                "round": round_no,
                "page_touched": touched.name,
                "began": round(started, 1),
                "ended": round(ended, 1),
                **result,
                "marker_probe": probe,
            }
        )


async def sample_rss(pid: int, run: Run, until: float) -> None:
    """The server's resident memory every RSS_EVERY_S seconds until the deadline."""
    while run.now() < until:
        run.rss.append((round(run.now(), 1), rss_mb(pid)))
        await asyncio.sleep(max(0.0, min(RSS_EVERY_S, until - run.now())))


async def soak(
    base: str, pid: int, bodies: list[dict[str, Any]], corpus: Path, data_dir: Path, args: argparse.Namespace
) -> tuple[Run, dict[str, Any]]:
    """Run users, re-ingests and the memory sampler side by side; then ask for the newest marker word."""
    limits = httpx.Limits(max_connections=args.users + 2, max_keepalive_connections=args.users + 2)
    url = f"{base}/api/ask"
    seconds = args.minutes * 60
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        run = Run(began=time.monotonic())
        step = max(1, len(bodies) // args.users)
        await asyncio.gather(
            *(user(client, url, bodies, n * step, random.Random(SEED + n), run, seconds) for n in range(args.users)),
            reingester(client, url, corpus, data_dir, args.reingest_every, run, seconds),
            sample_rss(pid, run, seconds),
        )
        run.rss.append((round(run.now(), 1), rss_mb(pid)))
        final = await ask_marker(client, url, run.tokens) if run.tokens else {"answered": False, "error": "no ingest"}
    return run, final


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    """Count, p50, p95, p99, max and mean in ms of latencies given in seconds."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    ms = np.array(values) * 1000
    pick = {"p50": np.percentile(ms, 50), "p95": np.percentile(ms, 95), "p99": np.percentile(ms, 99)}
    return {
        "n": len(values),
        **{k: round(float(v), 1) for k, v in pick.items()},
        "max": round(float(ms.max()), 1),
        "mean": round(float(ms.mean()), 1),
    }


def summarise(run: Run, elapsed: float) -> dict[str, Any]:
    """The figures of the run: requests, errors by kind, latency overall and with an ingest running or not."""
    served = [r for r in run.requests if not r["error"]]
    windows = [(i["began"], i["ended"]) for i in run.ingests]

    def during(r: dict[str, Any]) -> bool:
        return any(a <= r["began"] <= b for a, b in windows)

    durations = [i["seconds"] for i in run.ingests]
    return {
        "requests": len(run.requests),
        "served": len(served),
        "errors": len(run.requests) - len(served),
        "error_kinds": dict(Counter(r["error"] for r in run.requests if r["error"])),
        "error_details": dict(
            Counter(f"{r['error']}: {r['detail']}" for r in run.requests if r["error"]).most_common(10)
        ),
        "refused": sum(1 for r in served if r["refused"]),
        "elapsed_s": round(elapsed, 1),
        "requests_per_s": round(len(run.requests) / elapsed, 2),
        "served_per_s": round(len(served) / elapsed, 2),
        "latency_ms": percentiles([r["seconds"] for r in served]),
        "latency_ms_ingest_running": percentiles([r["seconds"] for r in served if during(r)]),
        "latency_ms_no_ingest": percentiles([r["seconds"] for r in served if not during(r)]),
        "ingests_run": len(run.ingests),
        "ingests_failed": sum(1 for i in run.ingests if i.get("returncode") != 0 or "error" in i),
        "ingest_s": {
            "median": round(float(np.median(durations)), 1) if durations else None,
            "max": max(durations, default=None),
        },
        "marker_fresh_after_ingest": sum(1 for i in run.ingests if i["marker_probe"].get("answered")),
    }


def log_problems(log: Path, limit: int = 40) -> dict[str, Any]:
    """Lines of the app's log that name an error or a traceback (the first ``limit``), and how many there were."""
    lines = [line for line in log.read_text(errors="replace").splitlines() if LOG_PROBLEM.search(line)]
    return {"count": len(lines), "first": lines[:limit]}


def report(result: dict[str, Any], out: Path) -> None:
    """The figures as a table on the terminal."""
    lat, rss, final = result["latency_ms"], result["server_rss_mb"], result["new_page"]
    during, outside = result["latency_ms_ingest_running"], result["latency_ms_no_ingest"]
    rows = [
        ("users x minutes", f"{result['users']} x {result['minutes']:g}"),
        ("re-ingest every", f"{result['reingest_every_s']:g} s"),
        ("requests / served / errors", f"{result['requests']} / {result['served']} / {result['errors']}"),
        ("error kinds", ", ".join(f"{k} {v}" for k, v in result["error_kinds"].items()) or "none"),
        ("refusals", result["refused"]),
        ("requests per second", result["requests_per_s"]),
        ("latency p50 / p95 / max ms", f"{lat['p50']} / {lat['p95']} / {lat['max']}"),
        ("p50 / p95 ms, ingest running", f"{during['p50']} / {during['p95']} ({during['n']} requests)"),
        ("p50 / p95 ms, no ingest", f"{outside['p50']} / {outside['p95']} ({outside['n']} requests)"),
        ("ingests run / failed", f"{result['ingests_run']} / {result['ingests_failed']}"),
        ("ingest s median / max", f"{result['ingest_s']['median']} / {result['ingest_s']['max']}"),
        ("marker fresh right after ingest", f"{result['marker_fresh_after_ingest']} of {result['ingests_run']}"),
        ("server RSS MB start / end / max", f"{rss['start']} / {rss['end']} / {rss['max']}"),
        ("new page answered at the end", final.get("answered")),
        ("app alive after", result["app_alive_after"]),
        ("server log problem lines", result["server_log_problems"]["count"]),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    for i in result["ingests"]:
        probe = i["marker_probe"]
        print(
            f"  ingest {i['round']}: {i['seconds']} s, exit {i.get('returncode')}, +{i.get('added', '?')} "
            f"~{i.get('changed', '?')} pages, {i.get('chunks_embedded', '?')} chunks embedded; "
            f"marker answered {probe.get('answered')} {i.get('error', '')}"
        )
    print(f"written to {out}")


def main(argv: list[str] | None = None) -> int:
    """Build the private store, start the app, soak it, report."""
    parser = argparse.ArgumentParser(prog="python -m bench.soak_bench", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the users ask (default 10)")
    parser.add_argument("--users", type=int, default=20, help="concurrent simulated users (default 20)")
    parser.add_argument("--reingest-every", type=float, default=60.0, help="seconds between re-ingests (default 60)")
    parser.add_argument(
        "--out", type=Path, help="where to write the results (default bench/results/soak-<u>u-<m>m.json)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.users <= 200 or not 0 < args.minutes <= 60 or not 10 <= args.reingest_every <= 3600:
        parser.error("--users must be 1-200, --minutes above 0 and at most 60, --reingest-every 10-3600")
    out = args.out or RESULTS / f"soak-{args.users}u-{args.minutes:g}m.json"

    english, other = load_questions(QA), load_questions(LANGUAGES)
    bodies = english + other
    random.Random(SEED).shuffle(bodies)
    with tempfile.TemporaryDirectory(prefix="euma-soak-") as tmp:
        corpus, data_dir, log = Path(tmp) / "corpus", Path(tmp) / "data", Path(tmp) / "app.log"
        build_corpus(corpus)
        first = asyncio.run(ingest(corpus, data_dir, FIRST_INGEST_TIMEOUT_S))
        if first.get("returncode") != 0:
            print(f"error: the first ingest failed: {first}", file=sys.stderr)
            return 1
        port = free_port()
        started = time.monotonic()
        proc = start_server(data_dir, port, log)
        startup = time.monotonic() - started
        base = f"http://127.0.0.1:{port}"
        try:
            rss_start = rss_mb(proc.pid)
            began = time.monotonic()
            run, final = asyncio.run(soak(base, proc.pid, bodies, corpus, data_dir, args))
            elapsed = time.monotonic() - began
            rss_end = rss_mb(proc.pid)
            try:
                alive = httpx.get(f"{base}/healthz", timeout=10).status_code == 200
            except httpx.HTTPError:
                alive = False
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        problems = log_problems(log)
    sampled = [mb for _, mb in run.rss if mb is not None]
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "machine": {"arch": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "command": " ".join(["python -m bench.soak_bench", *(argv if argv is not None else sys.argv[1:])]),
        "users": args.users,
        "minutes": args.minutes,
        "reingest_every_s": args.reingest_every,
        "think_s": list(THINK_S),
        "questions": {"english": len(english), "other_languages": len(other)},
        "endpoint": "POST /api/ask",
        "first_ingest": first,
        "app_startup_s": round(startup, 1),
        **summarise(run, elapsed),
        "server_rss_mb": {"start": rss_start, "end": rss_end, "max": max(sampled, default=None), "samples": run.rss},
        "new_page": {"question": MARKER_QUESTION, "word": run.tokens[-1] if run.tokens else None, **final},
        "app_alive_after": alive,
        "ingests": run.ingests,
        "server_log_problems": problems,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    report(result, out)
    ok = not result["errors"] and not result["ingests_failed"] and final.get("answered") and alive
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
