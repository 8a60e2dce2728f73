"""The report as Markdown: settings, figures, refusals, rules, languages, changes, tags, plots and failures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from evaluation.plots import PLOTS
from evaluation.tables import (
    RULES_NOTE,
    Rows,
    Table,
    comparison_table,
    failures,
    figures_table,
    language_table,
    pipelines_of,
    refusal_table,
    rule_table,
    settings_lines,
    tag_table,
    top_urls,
)

if TYPE_CHECKING:
    from evaluation.compare import Comparison


def _md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def md_table(table: Table) -> str:
    """A Markdown table."""
    header, rows = table
    lines = ["| " + " | ".join(map(_md_cell, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in (text or "(empty)").splitlines())


def markdown(
    run: Mapping[str, Any],
    rows: Rows,
    comparison: Comparison | None = None,
    plot_names: Sequence[str] = PLOTS,
    *,
    plots_note: str = "",
) -> str:
    """The report as Markdown (plots referenced as files in ``plots/``; ``plots_note`` says why there are none)."""
    k = int(run["k"])
    out = [f"# Evaluation run {run.get('date', '')}", ""]
    out += [f"- {label}: {_md_cell(value)}" for label, value in settings_lines(run)]
    out += ["", "## Figures", "", md_table(figures_table(run)), "", "### Refusals", "", md_table(refusal_table(run))]
    out += ["", "### Rules that fired", "", RULES_NOTE, "", md_table(rule_table(run))]
    out += ["", "### Per language", "", md_table(language_table(run))]
    if comparison is not None:
        out += ["", f"## Changes since {_md_cell(comparison.old_label)}", ""]
        out += [f"- {_md_cell(note)}" for note in comparison.notes]
        out += ["", md_table(comparison_table(comparison)), ""]
        out += [f"Questions that got worse: {len(comparison.worse)}", ""]
        out += [
            f"- `{_md_cell(w.id)}` ({w.pipeline}): {_md_cell('; '.join(w.changes))} — {_md_cell(w.question)}"
            for w in comparison.worse
        ]
    out += [
        "",
        "## Per tag",
        "",
        "Each cell: " + " / ".join(pipelines_of(run)) + ".",
        "",
        md_table(tag_table(run, rows)),
    ]
    if plot_names:
        out += ["", "## Plots", ""]
        out += [f"![{name}](plots/{name}.png)" for name in plot_names]
    elif plots_note:
        out += ["", "## Plots", "", plots_note]
    if run.get("malformed"):
        out += ["", "## Malformed rows (skipped)", ""]
        out += [f"- line {m['line']}: {_md_cell(m['message'])}" for m in run["malformed"]]
    for pipeline, pipeline_rows in rows.items():
        failed = failures(pipeline_rows, k)
        out += ["", f"## Failures of {pipeline}: {len(failed)} of {len(pipeline_rows)}", ""]
        for row, reasons in failed:
            out += _md_failure(row, reasons)
    return "\n".join(out).rstrip() + "\n"


def _md_failure(row: Mapping[str, Any], reasons: list[str]) -> list[str]:
    expected = [
        f"keys {', '.join(row.get('answer_keys') or []) or '—'}",
        f"sources {', '.join(row.get('reference_sources') or []) or '—'}",
        f"should refuse {row.get('should_refuse')}",
    ]
    refused = f"refused ({row.get('reason')})" if row.get("refused") else "answered"
    lines = [f"### {_md_cell(row.get('id', ''))}: {_md_cell('; '.join(reasons))}", ""]
    lines.append(f"- question: {_md_cell(row.get('question', ''))}")
    if row.get("history"):
        turns = " ⏎ ".join(f"{t['role']}: {t['content']}" for t in row["history"])
        lines.append(f"- history: {_md_cell(turns)}")
    lines.append(f"- tags: {_md_cell(', '.join(row.get('tags') or []))}")
    lines.append(f"- expected: {_md_cell('; '.join(expected))}")
    lines.append(f"- got: {refused}; top retrieved: {_md_cell(', '.join(top_urls(row)) or '—')}")
    lines += ["", _quote(str(row.get("answer", ""))), ""]
    return lines
