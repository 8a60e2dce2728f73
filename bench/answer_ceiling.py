"""How far quoting sentences can go: where the answer keys of a QA set are, against what the extractive composer quotes.

``python -m bench.answer_ceiling [QA_FILE ...] [--store DIR]`` runs each answerable question of the sets (default:
tests/data/qa.jsonl and tests/data/qa_extra.jsonl) through the assistant's retrieval and the extractive composer's
sentence scoring on an existing store (``python -m ingest`` builds it), and reports, as shares of the answer keys
(averaged per question, as key-fact recall is):

- in the retrieved passages at all (what any composer quoting them could reach), and in the first 1, 2 and 3;
- in the first n sentences the composer ranks, for n = 1 to 8 (how much longer answers would buy);
- in the answer the assistant actually gives (``key_fact_recall`` of ``python -m assistant eval``).

It prints a Markdown table and writes bench/results/answer_ceiling.json. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
from pathlib import Path
from typing import Any

from assistant.conversation import Turn, bounded
from assistant.service import Assistant
from common.settings import Settings
from evaluation.dataset import load_qa
from evaluation.metrics import key_fact_recall

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SETS = [ROOT / "tests" / "data" / "qa.jsonl", ROOT / "tests" / "data" / "qa_extra.jsonl"]
SENTENCE_COUNTS = (1, 2, 3, 4, 5, 6, 8)


def share(text: str, keys: list[str]) -> float:
    """Share of the keys found in ``text`` (0 when there are none to find)."""
    return key_fact_recall(text, keys) or 0.0


def measure(assistant: Assistant, path: Path) -> dict[str, Any]:
    """The shares for one QA set."""
    items = [i for i in load_qa(path)[0] if not i.should_refuse and i.answer_keys]
    columns: dict[str, list[float]] = {}
    composer = assistant.fallback  # the extractive composer, whatever the settings name
    for item in items:
        turns = [Turn(t.role, t.content) for t in item.history]
        history = bounded(turns, assistant.settings.history_turns)
        # The answer's own stages: language, follow-up decision and retrieval (Assistant.find).
        understood, retrieval = assistant.find(item.question, history)
        query = understood.search
        passages = [f"{p.chunk.heading_path} {p.chunk.text}" for p in retrieval.passages]
        keys = list(item.answer_keys)
        for n in (1, 2, 3, len(passages) or 1):
            label = "passages: all" if n == (len(passages) or 1) else f"passages: first {n}"
            columns.setdefault(label, []).append(share(" ".join(passages[:n]), keys))
        sentences = assistant.bank.get([p.chunk for p in retrieval.passages], space=retrieval.space)
        ranked = composer.candidates(query, retrieval, sentences)
        for n in SENTENCE_COUNTS:
            quoted = " ".join(c.text for c in ranked[:n])
            columns.setdefault(f"sentences: best {n}", []).append(share(quoted, keys))
        answer = assistant.ask(item.question, history=history)
        columns.setdefault("the assistant's answer", []).append(0.0 if answer.refused else share(answer.text, keys))
    return {"questions": len(items), "shares": {k: round(statistics.fmean(v), 3) for k, v in columns.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, default=DEFAULT_SETS)
    parser.add_argument("--store", type=Path, default=None, help="store folder (default: the settings')")
    args = parser.parse_args(argv)
    settings = Settings.from_env(**({"store_dir": args.store} if args.store else {}))
    assistant = Assistant(settings)
    assistant.warm_up()
    results = {path.name: measure(assistant, path) for path in args.sets}
    names = list(results)
    print("| share of answer keys | " + " | ".join(f"{n} ({results[n]['questions']} q.)" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for label in results[names[0]]["shares"]:
        print(f"| {label} | " + " | ".join(f"{results[n]['shares'][label]:.3f}" for n in names) + " |")
    out = ROOT / "bench" / "results" / "answer_ceiling.json"
    out.write_text(json.dumps({"date": dt.date.today().isoformat(), "sets": results}, indent=2) + "\n")
    print(f"written: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
