"""How fast the commands start: an unchanged re-ingest and one question asked from cold, each as a whole process.

``python -m bench.startup_bench [--runs 3]`` runs ``python -m ingest`` (on a store already holding the bundled
corpus, so nothing is embedded) and ``python -m assistant ask`` with an English and a French question, each
``--runs`` times in fresh processes, and prints the median wall time of each; it writes
bench/results/startup.json. The store is the default one: ingest the corpus first.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
COMMANDS = {
    "re-ingest, nothing changed": ["-m", "ingest"],
    "ask, English, from cold": ["-m", "assistant", "ask", "How much does ETIAS cost?"],
    "ask, French, from cold": ["-m", "assistant", "ask", "Combien coûte ETIAS ?"],
}


def timed(args: list[str]) -> float:
    """Seconds one process takes, start to exit (it must succeed)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, capture_output=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="processes per command (default 3)")
    args = parser.parse_args(argv)
    result = {name: round(statistics.median(timed(cmd) for _ in range(args.runs)), 2) for name, cmd in COMMANDS.items()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps({"runs": args.runs, "median_s": result}, indent=2) + "\n")
    print("| command | median s |\n|---|---|")
    for name, seconds in result.items():
        print(f"| {name} | {seconds} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
