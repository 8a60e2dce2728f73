"""The catalogue of figures a run reports: their names in report order, which are lower-is-better, their labels,
where each is read in a pipeline's summary, and how a value is written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

REFUSAL = ("refusal_precision", "refusal_recall", "false_refusal_rate")
LATENCY = ("latency/p50_ms", "latency/p95_ms", "latency/mean_ms")
LOWER_IS_BETTER = frozenset({"false_refusal_rate", "answer_words", *LATENCY})

LABELS = {  # what each figure measures, in a few words (retrieval figures are labelled by their stem)
    "hit@1": "a reference source is the first passage",
    "hit@k": "a reference source is among the first k passages",
    "recall@k": "share of the reference sources among the first k passages",
    "mrr@k": "1 / rank of the first reference source within k",
    "ndcg@10": "nDCG of the first 10 passages against the reference sources",
    "key_fact_recall": "key-fact recall",
    "token_f1": "token F1 against the reference answer",
    "answer_similarity": "cosine of the answer and the reference answer",
    "faithfulness": "faithfulness (the verifier)",
    "judge_faithfulness": "faithfulness (the independent judge)",
    "citation_precision": "citation precision (ALCE)",
    "refusal_precision": "refusal precision",
    "refusal_recall": "refusal recall",
    "false_refusal_rate": "false-refusal rate",
    "answer_words": "words per answer",
    "latency/p50_ms": "median latency",
    "latency/p95_ms": "95th-percentile latency",
    "latency/mean_ms": "mean latency",
}


def label(name: str) -> str:
    """A figure's label: ``page/hit@5`` reads "page: a reference source is among the first 5 passages"."""
    level, _, stem = name.rpartition("/") if name.startswith(("page/", "section/")) else ("", "", name)
    base, at, k = stem.partition("@")
    key = f"{base}@k" if at and k != "1" and base != "ndcg" else stem
    text = LABELS.get(key, name).replace(" k ", f" {k} ").replace("within k", f"within {k}")
    return f"{level}: {text}" if level else text


def figure_names(k: int) -> list[str]:
    """Every figure a run reports, in report order (retrieval at cut-off ``k``, answers, refusals, cost)."""
    retrieval = ("hit@1", f"hit@{k}", f"recall@{k}", f"mrr@{k}", "ndcg@10")
    return [
        *(f"{level}/{name}" for level in ("page", "section") for name in retrieval),
        "key_fact_recall",
        "token_f1",
        "answer_similarity",
        "faithfulness",
        "judge_faithfulness",
        "citation_precision",
        *REFUSAL,
        "answer_words",
        *LATENCY,
    ]


def gate_names(k: int) -> list[str]:
    """The figures ``--fail-under`` accepts: those where higher is better."""
    return [name for name in figure_names(k) if name not in LOWER_IS_BETTER]


def main_figures(k: int) -> list[str]:
    """The figures shown per tag and plotted."""
    return [f"page/hit@{k}", f"section/hit@{k}", "key_fact_recall", "faithfulness", "refusal_recall"]


def figure(summary: Mapping[str, Any], name: str, tag: str | None = None) -> tuple[float | None, int]:
    """A figure of one pipeline's summary (overall or for a tag) and the number of questions behind it."""
    if name in REFUSAL:
        scores = summary.get("refusal") if tag is None else summary.get("refusal_by_tag", {}).get(tag)
        if not scores:
            return None, 0
        tp, fp, fn, tn = (int(scores.get(key, 0)) for key in ("tp", "fp", "fn", "tn"))
        n = {"refusal_precision": tp + fp, "refusal_recall": tp + fn, "false_refusal_rate": fp + tn}[name]
        return scores.get(name), n
    if name.startswith("latency/"):
        latency = (summary.get("latency") or {}) if tag is None else {}
        return latency.get(name.split("/", 1)[1]), int(latency.get("n", 0))
    table = summary.get("overall", {}) if tag is None else summary.get("by_tag", {}).get(tag, {})
    entry = table.get(name)
    if not entry:
        return None, 0
    return entry.get("mean"), int(entry.get("n", 0))


def number(value: float | None, name: str = "") -> str:
    """A figure as shown: three decimals, milliseconds rounded, "—" when there is none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if name.startswith("latency/"):
        return f"{value:.0f} ms"
    if name == "answer_words":
        return f"{value:.1f}"
    return f"{value:.3f}"


def change(delta: float | None, name: str = "") -> str:
    """A difference between two figures, signed, in the figure's own unit."""
    if delta is None:
        return "—"
    if name.startswith("latency/"):
        return f"{delta:+.0f} ms"
    if name == "answer_words":
        return f"{delta:+.1f}"
    return f"{delta:+.3f}"


def with_n(value: float | None, n: int, name: str) -> str:
    return f"{number(value, name)} (n={n})"


def tags_of(rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, int]:
    """Questions per tag (counted on the first pipeline's rows), tags sorted."""
    first = next(iter(rows.values()), [])
    counts: dict[str, int] = {}
    for row in first:
        for tag in row.get("tags", []):
            counts[tag] = counts.get(tag, 0) + 1
    return dict(sorted(counts.items()))
