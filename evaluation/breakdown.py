"""What the answers' traces say over a run: which rule fired how often and on which questions, and each language's
figures and stage times.

Every results row carries the trace of its answer (``trace``: one step per stage with its decision, the rule that
decided if one did, and its milliseconds) and the refusal rule (``rule``). A rule that fires on questions that
should have been answered shows up in its "should answer" count, which the overall refusal figures hide.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from evaluation.metrics import refusal_scores

REFUSAL_STAGE = "(refusal)"  # a refusal rule no trace step names (e.g. an empty store refuses before any stage)


def _firings(row: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """(stage, rule) -> decision for each rule that fired in a row's trace, once per row (the last decision)."""
    fired: dict[tuple[str, str], str] = {}
    for step in row.get("trace") or []:
        if step.get("rule"):
            fired[(str(step.get("stage", "")), str(step["rule"]))] = str(step.get("decision", ""))
    rule = row.get("rule")
    if rule and not any(r == rule for _, r in fired):
        fired[(REFUSAL_STAGE, str(rule))] = "refuse"
    return fired


def rule_breakdown(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """For each rule (stage and rule id) seen in the traces: rows it fired on, its decisions, and on how many of
    those the question should have been refused, answered, or the QA file does not say. In order of first firing."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        if row.get("error"):
            continue
        for (stage, rule), decision in _firings(row).items():
            entry = found.setdefault((stage, rule), {"stage": stage, "rule": rule, "fired": 0, "decisions": {}})
            for key in ("should_refuse", "should_answer", "unknown"):
                entry.setdefault(key, 0)
            entry["fired"] += 1
            entry["decisions"][decision] = entry["decisions"].get(decision, 0) + 1
            should = row.get("should_refuse")
            entry["should_refuse" if should is True else "should_answer" if should is False else "unknown"] += 1
    return list(found.values())


def _language(row: Mapping[str, Any]) -> str:
    return str(row.get("language") or row.get("answer_language") or "unknown")


def stage_ms(row: Mapping[str, Any]) -> dict[str, float]:
    """Milliseconds per stage of a row's trace (a stage that ran twice counts its total)."""
    out: dict[str, float] = {}
    for step in row.get("trace") or []:
        stage = str(step.get("stage", ""))
        out[stage] = out.get(stage, 0.0) + float(step.get("ms") or 0.0)
    return out


def language_breakdown(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per question language (sorted): questions, key-fact recall, refusal counts and median milliseconds per stage.

    Rows that ended in an error count in ``n`` and ``errors`` only.
    """
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(_language(row), []).append(row)
    out: dict[str, dict[str, Any]] = {}
    for language in sorted(groups):
        group = groups[language]
        answered = [r for r in group if not r.get("error")]
        recalls = [float(v) for r in answered if (v := (r.get("metrics") or {}).get("key_fact_recall")) is not None]
        pairs = [
            (bool(r["should_refuse"]), bool(r.get("refused"))) for r in answered if r.get("should_refuse") is not None
        ]
        times: dict[str, list[float]] = {}
        for r in answered:
            for stage, ms in stage_ms(r).items():
                times.setdefault(stage, []).append(ms)
        out[language] = {
            "n": len(group),
            "errors": len(group) - len(answered),
            "key_fact_recall": {"mean": statistics.fmean(recalls) if recalls else None, "n": len(recalls)},
            "refused": sum(bool(r.get("refused")) for r in answered),
            "should_refuse": sum(r.get("should_refuse") is True for r in answered),
            "refusal": dict(refusal_scores(pairs)),
            "stage_ms": {stage: round(statistics.median(ms), 2) for stage, ms in times.items()},
        }
    return out
