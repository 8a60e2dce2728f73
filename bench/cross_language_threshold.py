"""How close a translation comes to its English source for the multilingual model, in each EU language.

``python -m bench.cross_language_threshold [--pairs FILE]`` reads ``bench/cross_language_pairs.jsonl``: English
sentences of the bundled corpus, each with a faithful translation into the 23 other EU languages and a fluent
"changed" one that keeps every figure but changes the meaning once (a negation flipped, the actor swapped, "may"
made "must", a key noun replaced), written for this measurement from the sentences alone, without the code. It
scores three kinds of sentence against an English source:

- faithful: the translation against its own sentence (it must pass);
- changed: the changed translation against its own sentence (it should fail; embeddings rarely see a flipped
  negation, so this kind shows what the check cannot catch rather than where to put it);
- unrelated: the faithful translation of another sentence against this one (it must fail).

For each it reports the cross-language verifier's score (``assistant.verify.CrossLanguageVerifier``: the
multilingual cosine on the English model's scale, numbers aside) and the share passing at several thresholds, by
language; and the independent judge's best cosine (``evaluation.judge``) at its threshold and at 0.85, which most
faithful translations reach. It writes bench/results/cross_language_threshold.json. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant import rules
from assistant.language import ENGLISH_NAMES
from assistant.sentences import ChunkSentences
from assistant.verify import CrossLanguageVerifier
from common.settings import Settings
from evaluation.judge import THRESHOLD, Judge
from evaluation.metrics import CitedSentence
from vectorstore.store import Store

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "bench" / "cross_language_pairs.jsonl"
RESULTS = ROOT / "bench" / "results" / "cross_language_threshold.json"
THRESHOLDS = (0.45, 0.50, 0.55, 0.58, 0.60, 0.61)
JUDGE_THRESHOLDS = (0.82, 0.84, 0.85, 0.86, 0.87, 0.88)
JUDGE_LOWER = 0.85  # the judge's cosine that 94% of the faithful translations reach, shown beside its threshold
KINDS = ("faithful", "changed", "unrelated")


def load(path: Path) -> list[dict[str, str]]:
    """The rows of the pairs file: id, en, language, faithful, changed, change."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        missing = {"id", "en", "language", "faithful", "changed"} - set(row)
        if missing:
            raise SystemExit(f"{path}: a row lacks {sorted(missing)}: {row}")
    return rows


def triples(rows: Sequence[dict[str, str]]) -> list[tuple[str, str, str, str]]:
    """(kind, language, sentence, English source) for every row: its faithful and changed translations against its
    own sentence, and its faithful translation against the next sentence of the file in the same language."""
    by_language: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_language[row["language"]].append(row)
    out = []
    for language, group in by_language.items():
        for i, row in enumerate(group):
            other = group[(i + 1) % len(group)]
            out.append(("faithful", language, row["faithful"], row["en"]))
            out.append(("changed", language, row["changed"], row["en"]))
            if other["en"] != row["en"]:
                out.append(("unrelated", language, row["faithful"], other["en"]))
    return out


def summary(values: Sequence[float], thresholds: Sequence[float]) -> dict[str, Any]:
    array = np.asarray(values)
    return {
        "n": len(values),
        "min": round(float(array.min()), 3),
        "median": round(float(np.median(array)), 3),
        "max": round(float(array.max()), 3),
        "passing": {f"{t:.2f}": round(float((array >= t).mean()), 3) for t in thresholds},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cross_language_threshold", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    rows = load(args.pairs)
    cases = triples(rows)
    encoder = Store(Settings.from_env()).encoder
    verifier = CrossLanguageVerifier(encoder, threshold=rules.value("cross-language-support"))
    english = sorted({source for *_, source in cases})
    english_vectors = dict(zip(english, encoder.passage(english), strict=True))
    written = sorted({sentence for _, _, sentence, _ in cases})
    written_vectors = dict(zip(written, encoder.passage(written), strict=True))
    judge = Judge()

    scores: dict[str, dict[str, list[float]]] = {kind: defaultdict(list) for kind in KINDS}
    cosines: dict[str, dict[str, list[float]]] = {kind: defaultdict(list) for kind in KINDS}
    for kind, language, sentence, source in cases:
        given = ChunkSentences([source], english_vectors[source][None, :])
        score = verifier.support(sentence, [given], vector=written_vectors[sentence]).score
        scores[kind][language].append(score)
        scores[kind]["all"].append(score)
        if judge.model_available:
            cosine = judge.verdict(CitedSentence(sentence, (1,)), {1: source}).similarity or 0.0
            cosines[kind][language].append(cosine)
            cosines[kind]["all"].append(cosine)

    languages = [*sorted({language for _, language, _, _ in cases}), "all"]
    report: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "pairs": str(args.pairs.relative_to(ROOT)) if args.pairs.is_relative_to(ROOT) else str(args.pairs),
        "sentences": len({row["en"] for row in rows}),
        "verifier": {kind: {lang: summary(v, THRESHOLDS) for lang, v in scores[kind].items()} for kind in KINDS},
    }
    if judge.model_available:
        report["judge"] = {
            kind: {lang: summary(v, JUDGE_THRESHOLDS) for lang, v in cosines[kind].items()} for kind in KINDS
        }

    verifier_at = verifier.threshold
    head = " | ".join(f"faithful >= {t:.2f}" for t in THRESHOLDS)
    print(
        f"| language | faithful min / median | {head} | changed >= {verifier_at:.2f} | unrelated >= "
        f"{verifier_at:.2f} | judge: faithful >= {JUDGE_LOWER} / >= {THRESHOLD} | judge: unrelated >= "
        f"{JUDGE_LOWER} |"
    )
    print("|---" * (len(THRESHOLDS) + 6) + "|")
    key = f"{verifier_at:.2f}"
    for language in languages:
        faithful = report["verifier"]["faithful"][language]
        changed = report["verifier"]["changed"][language]
        unrelated = report["verifier"]["unrelated"][language]
        judged = report.get("judge", {})
        name = ENGLISH_NAMES.get(language, language)
        shares = " | ".join(f"{faithful['passing'][f'{t:.2f}']:.2f}" for t in THRESHOLDS)
        judge_cells = "|"
        if judged:
            f, u = judged["faithful"][language]["passing"], judged["unrelated"][language]["passing"]
            judge_cells = f"{f[f'{JUDGE_LOWER:.2f}']:.2f} / {f[f'{THRESHOLD:.2f}']:.2f} | {u[f'{JUDGE_LOWER:.2f}']:.2f}"
        print(
            f"| {name} | {faithful['min']:.2f} / {faithful['median']:.2f} | {shares} | "
            f"{changed['passing'][key]:.2f} | {unrelated['passing'][key]:.2f} | {judge_cells} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
