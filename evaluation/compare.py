"""Compare a run with an earlier one: each figure's old and new value, and the questions that got worse.

A question got worse when, for the same pipeline and id, one of its figures dropped (key facts, page or section
hit, faithfulness), its refusal went from right to wrong, or it now ends in an error. Runs are read back from
their folders (summary.json and results.jsonl), so any earlier run can be the baseline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.errors import EumaError
from evaluation.figures import LOWER_IS_BETTER, change, figure, figure_names, number


class RunFolderError(EumaError):
    """An earlier run's folder cannot be read."""


@dataclass(frozen=True)
class FigureChange:
    """One figure of one pipeline in the old and the new run."""

    pipeline: str
    name: str
    old: float | None
    new: float | None

    @property
    def delta(self) -> float | None:
        """New minus old, or None when either is missing."""
        if self.old is None or self.new is None:
            return None
        return self.new - self.old

    @property
    def better(self) -> bool | None:
        """Whether the change is an improvement (None when there is no change or nothing to compare)."""
        if not self.delta:
            return None
        return (self.delta < 0) if self.name in LOWER_IS_BETTER else (self.delta > 0)


@dataclass(frozen=True)
class Worse:
    """A question that did worse in the new run, with what dropped."""

    pipeline: str
    id: str
    question: str
    changes: tuple[str, ...]


@dataclass
class Comparison:
    """The figures of two runs side by side and the questions that got worse."""

    old_label: str
    figures: list[FigureChange] = field(default_factory=list)
    worse: list[Worse] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load_run(folder: Path) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """An earlier run's summary and its rows grouped by pipeline."""
    summary_path, results_path = folder / "summary.json", folder / "results.jsonl"
    if not folder.is_dir():
        raise RunFolderError(f"no earlier run at {folder}")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        lines = results_path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RunFolderError(f"cannot read the earlier run in {folder}: {exc.strerror}: {exc.filename}") from None
    except ValueError as exc:
        raise RunFolderError(f"{summary_path} is not valid JSON: {exc}") from None
    if not isinstance(summary, dict) or not isinstance(summary.get("pipelines"), dict) or "k" not in summary:
        raise RunFolderError(f"{summary_path} is not the summary of an evaluation run")
    rows: dict[str, list[dict[str, Any]]] = {}
    for number_, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise RunFolderError(f"{results_path} line {number_} is not valid JSON: {exc}") from None
        rows.setdefault(str(row.get("pipeline", "assistant")), []).append(row)
    return summary, rows


def _correct_refusal(row: Mapping[str, Any]) -> bool | None:
    if row.get("should_refuse") is None or row.get("error"):
        return None
    return bool(row.get("refused")) == bool(row["should_refuse"])


def question_changes(old: Mapping[str, Any], new: Mapping[str, Any], old_k: int, new_k: int) -> list[str]:
    """What dropped for one question between two runs (empty when nothing did)."""
    changes = []
    if new.get("error") and not old.get("error"):
        changes.append(f"error: {new['error']}")
    old_metrics, new_metrics = old.get("metrics") or {}, new.get("metrics") or {}
    pairs = [
        ("key_fact_recall", "key_fact_recall", "key_fact_recall"),
        (f"page/hit@{old_k}", f"page/hit@{new_k}", f"page/hit@{new_k}"),
        (f"section/hit@{old_k}", f"section/hit@{new_k}", f"section/hit@{new_k}"),
        ("faithfulness", "faithfulness", "faithfulness"),
    ]
    for old_name, new_name, label in pairs:
        before, after = old_metrics.get(old_name), new_metrics.get(new_name)
        if before is not None and after is not None and after < before:
            changes.append(f"{label} {before:.2f} → {after:.2f}")
    if _correct_refusal(old) and _correct_refusal(new) is False:
        changes.append("now answers but should refuse" if old.get("should_refuse") else "now refused but should answer")
    return changes


def compare(
    old_run: Mapping[str, Any],
    old_rows: Mapping[str, Sequence[Mapping[str, Any]]],
    new_run: Mapping[str, Any],
    new_rows: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    old_label: str = "the earlier run",
) -> Comparison:
    """Figures of every pipeline present in both runs, and their questions that got worse."""
    old_k, new_k = int(old_run["k"]), int(new_run["k"])
    result = Comparison(old_label=old_label)
    if old_k != new_k:
        result.notes.append(f"the earlier run used k={old_k}, this one k={new_k}: hit@k figures are not comparable")
    if old_run.get("dataset") != new_run.get("dataset"):
        result.notes.append(f"the earlier run used {old_run.get('dataset')}, this one {new_run.get('dataset')}")
    shared = [p for p in new_run["pipelines"] if p in old_run["pipelines"]]
    for pipeline in new_run["pipelines"]:
        if pipeline not in shared:
            result.notes.append(f"{pipeline} did not run in the earlier run")
    for pipeline in shared:
        old_summary, new_summary = old_run["pipelines"][pipeline], new_run["pipelines"][pipeline]
        for name in figure_names(new_k):
            old_name = name.replace(f"@{new_k}", f"@{old_k}")
            result.figures.append(
                FigureChange(pipeline, name, figure(old_summary, old_name)[0], figure(new_summary, name)[0])
            )
        before = {str(r["id"]): r for r in old_rows.get(pipeline, [])}
        missing = 0
        for row in new_rows.get(pipeline, []):
            old_row = before.get(str(row["id"]))
            if old_row is None:
                missing += 1
                continue
            changes = question_changes(old_row, row, old_k, new_k)
            if changes:
                result.worse.append(Worse(pipeline, str(row["id"]), str(row.get("question", "")), tuple(changes)))
        if missing:
            result.notes.append(f"{missing} questions of {pipeline} were not in the earlier run")
    return result


def text(comparison: Comparison) -> str:
    """The comparison as plain text for the terminal: changed figures, then the questions that got worse."""
    lines = [f"Compared with {comparison.old_label}:"]
    lines += [f"  note: {note}" for note in comparison.notes]
    width = max((len(c.name) for c in comparison.figures), default=0)
    for c in comparison.figures:
        if c.old is None and c.new is None:
            continue
        delta = "" if c.delta is None else f"  {change(c.delta, c.name)}"
        lines.append(
            f"  {c.pipeline:<10} {c.name:<{width}}  {number(c.old, c.name):>9} → {number(c.new, c.name):<9}{delta}"
        )
    lines.append(f"Questions that got worse: {len(comparison.worse)}")
    lines += [f"  {w.pipeline} {w.id}: {'; '.join(w.changes)}" for w in comparison.worse]
    return "\n".join(lines)
