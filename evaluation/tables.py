"""What a run's report says, as tables of plain text and lists: figures side by side with their n, refusals, the
rules that fired, languages, tags, comparison, settings and failures. ``markdown`` and ``html`` render them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from evaluation.figures import change, figure, figure_names, main_figures, number, tags_of, with_n

if TYPE_CHECKING:
    from evaluation.compare import Comparison

Rows = Mapping[str, Sequence[Mapping[str, Any]]]  # pipeline name -> its rows of results.jsonl
Table = tuple[list[str], list[list[str]]]  # header, rows of cells (plain text)

TOP_URLS = 3
RULES_NOTE = (
    "Each rule that fired in the answers' traces, the questions it fired on, and how many of those should have been"
    " refused or answered: a rule that fires on questions that should be answered is wrong there."
)


# --- Failures --------------------------------------------------------------------------------------------------


def failure_reasons(row: Mapping[str, Any], k: int) -> list[str]:
    """Why a question counts as failed (empty when it passed)."""
    reasons = []
    metrics = row.get("metrics") or {}
    if row.get("error"):
        return [f"error: {row['error']}"]  # no answer: the other figures say nothing
    if row.get("should_refuse") is True and not row.get("refused"):
        reasons.append("answered but should refuse")
    if row.get("refused") and row.get("should_refuse") is False:
        reasons.append(f"refused ({row.get('reason') or 'no reason'}) but should answer")
    recall = metrics.get("key_fact_recall")
    if recall is not None and recall < 1:
        reasons.append(f"key facts {recall:.2f}")
    if metrics.get(f"page/hit@{k}") == 0:
        reasons.append(f"no reference page in the top {k}")
    faithful = metrics.get("faithfulness")
    if faithful is not None and faithful < 1:
        reasons.append(f"faithfulness {faithful:.2f}")
    return reasons


def failures(rows: Sequence[Mapping[str, Any]], k: int) -> list[tuple[Mapping[str, Any], list[str]]]:
    """The failed questions of one pipeline with their reasons, in file order."""
    found = [(row, failure_reasons(row, k)) for row in rows]
    return [(row, reasons) for row, reasons in found if reasons]


def top_urls(row: Mapping[str, Any], n: int = TOP_URLS) -> list[str]:
    """The addresses of the first retrieved passages."""
    return [str(p.get("url", "")) for p in (row.get("retrieved") or [])[:n]]


# --- Tables ----------------------------------------------------------------------------------------------------


def pipelines_of(run: Mapping[str, Any]) -> list[str]:
    return list(run.get("pipelines", {}))


def figures_table(run: Mapping[str, Any]) -> Table:
    """Every figure with its n, one column per pipeline (the assistant and the baseline side by side)."""
    names = pipelines_of(run)
    rows = []
    for name in figure_names(int(run["k"])):
        cells = [with_n(*figure(run["pipelines"][p], name), name) for p in names]
        rows.append([name, *cells])
    return ["figure", *names], rows


def refusal_table(run: Mapping[str, Any]) -> Table:
    """The refusal confusion counts per pipeline."""
    rows = []
    for name, summary in run.get("pipelines", {}).items():
        scores = summary.get("refusal") or {}
        rows.append([name, *(str(scores.get(key, 0)) for key in ("tp", "fp", "fn", "tn"))])
    header = ["pipeline", "refused, should (tp)", "refused, should not (fp)", "answered, should refuse (fn)"]
    return [*header, "answered, should (tn)"], rows


def tag_table(run: Mapping[str, Any], rows: Rows) -> Table:
    """The main figures per tag; each cell holds every pipeline's value and n, separated by " / "."""
    names = pipelines_of(run)
    figures = main_figures(int(run["k"]))
    table = []
    for tag, count in tags_of(rows).items():
        cells = [" / ".join(with_n(*figure(run["pipelines"][p], name, tag), name) for p in names) for name in figures]
        table.append([tag, str(count), *cells])
    return ["tag", "questions", *figures], table


def comparison_table(comparison: Comparison) -> Table:
    """Each figure's old and new value and the change."""
    rows = []
    for c in comparison.figures:
        rows.append([c.pipeline, c.name, number(c.old, c.name), number(c.new, c.name), change(c.delta, c.name)])
    return ["pipeline", "figure", "old", "new", "change"], rows


def _did(decisions: Mapping[str, int]) -> str:
    if len(decisions) == 1:
        return next(iter(decisions))
    return ", ".join(f"{d} ×{n}" for d, n in sorted(decisions.items(), key=lambda item: -item[1]))


def rule_table(run: Mapping[str, Any]) -> Table:
    """For each rule that fired (stage and rule id), per pipeline: how often, what it did, and on how many of those
    questions a refusal was expected or an answer was."""
    rows = []
    for name, summary in run.get("pipelines", {}).items():
        for r in summary.get("rules") or []:
            counts = (r.get("should_refuse", 0), r.get("should_answer", 0), r.get("unknown", 0))
            rows.append(
                [name, r["stage"], r["rule"], str(r["fired"]), _did(r.get("decisions") or {}), *map(str, counts)]
            )
    header = ["pipeline", "stage", "rule", "fired on", "did", "should refuse", "should answer", "not said"]
    return header, rows


def language_table(run: Mapping[str, Any]) -> Table:
    """Per question language and pipeline: questions, key-fact recall, refusals, and median ms of each stage."""
    languages = {name: summary.get("languages") or {} for name, summary in run.get("pipelines", {}).items()}
    stages = list(
        dict.fromkeys(stage for by_language in languages.values() for entry in by_language.values()
                      for stage in entry.get("stage_ms") or {})
    )  # fmt: skip
    rows = []
    for name, by_language in languages.items():
        for language, entry in by_language.items():
            recall = entry.get("key_fact_recall") or {}
            refusal = entry.get("refusal") or {}
            times = entry.get("stage_ms") or {}
            rows.append(
                [
                    name,
                    language,
                    str(entry.get("n", 0)),
                    with_n(recall.get("mean"), int(recall.get("n", 0)), "key_fact_recall"),
                    str(entry.get("refused", 0)),
                    str(entry.get("should_refuse", 0)),
                    str(refusal.get("fp", 0)),
                    str(refusal.get("fn", 0)),
                    *(number(times.get(stage), "latency/") for stage in stages),
                ]
            )
    header = ["pipeline", "language", "questions", "key_fact_recall", "refused", "should refuse"]
    header += [
        "refused, should not (fp)",
        "answered, should refuse (fn)",
        *(f"{stage} ms (median)" for stage in stages),
    ]
    return header, rows


def judge_note(run: Mapping[str, Any]) -> str:
    """How the independent judge ran (threshold, model, or that its model part was skipped)."""
    judges = [s.get("judge") for s in run.get("pipelines", {}).values() if s.get("judge")]
    if not judges:
        return ""
    judge = judges[0]
    model = judge.get("model")
    part = f"model {model}, best cosine at least {judge.get('threshold')}" if model else judge.get("note", "")
    return f"facts in the cited passages; {part}"


def settings_lines(run: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The run's settings as (label, value) lines."""
    malformed = run.get("malformed") or []
    lines = [
        ("dataset", f"{run.get('dataset', '')} ({run.get('questions', 0)} questions, {len(malformed)} malformed rows)"),
        ("date", str(run.get("date", ""))),
        ("store", str(run.get("store", ""))),
        ("embedding model", str(run.get("embedding_model", ""))),
        ("composer", str(run.get("composer", ""))),
        ("k (retrieval cut-off)", str(run.get("k", ""))),
        ("pipelines", ", ".join(pipelines_of(run))),
        ("tags", ", ".join(run.get("tags") or []) or "all"),
    ]
    note = judge_note(run)
    return [*lines, ("judge", note)] if note else lines
