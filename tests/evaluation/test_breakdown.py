"""The rules that fired and the per-language figures, from the answers' traces, in summary.json and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaluation import report, tables
from evaluation.breakdown import REFUSAL_STAGE, language_breakdown, rule_breakdown
from evaluation.runner import PipelineRun


def step(stage: str, decision: str, rule: str = "", ms: float = 1.0) -> dict[str, Any]:
    out: dict[str, Any] = {"stage": stage, "decision": decision, "ms": ms}
    if rule:
        out["rule"] = rule
    return out


def row(
    qid: str,
    trace: list[dict[str, Any]],
    *,
    should_refuse: bool | None,
    refused: bool = False,
    rule: str = "",
    language: str = "en",
    keys: float | None = None,
    error: str = "",
) -> dict[str, Any]:
    return {
        "id": qid,
        "tags": ["t"],
        "language": language,
        "should_refuse": should_refuse,
        "refused": refused,
        "rule": rule,
        "trace": trace,
        "error": error,
        "metrics": {"latency_ms": 10.0, "key_fact_recall": keys},
    }


FLOOR = [step("guard", "pass", ms=0.5), step("scope", "refuse", "relevance-floor", ms=2.0)]
FOLLOW = [step("guard", "pass"), step("follow-up", "follow-up", "refers back", ms=3.0), step("scope", "pass")]
ALONE = [step("guard", "pass"), step("follow-up", "stands alone", "new topic", ms=5.0)]
ROWS = [
    row("a", FLOOR, should_refuse=True, refused=True, rule="relevance-floor"),
    row("b", FLOOR, should_refuse=False, refused=True, rule="relevance-floor"),  # the rule was wrong here
    row("c", FLOOR, should_refuse=None, refused=True, rule="relevance-floor", language="fr"),
    row("d", FOLLOW, should_refuse=False, keys=1.0),
    row("e", ALONE, should_refuse=False, keys=0.5, language="fr"),
    row("f", [], should_refuse=True, refused=True, rule="empty-store"),  # a rule no trace step names
    row("g", FLOOR, should_refuse=True, error="TimeoutError: slow"),  # an error: no answer to count
]


def test_each_rule_counts_its_questions_and_whether_they_should_have_been_refused() -> None:
    rules = {(r["stage"], r["rule"]): r for r in rule_breakdown(ROWS)}
    assert set(rules) == {
        ("scope", "relevance-floor"),
        ("follow-up", "refers back"),
        ("follow-up", "new topic"),
        (REFUSAL_STAGE, "empty-store"),
    }
    floor = rules[("scope", "relevance-floor")]
    assert (floor["fired"], floor["decisions"]) == (3, {"refuse": 3})
    assert (floor["should_refuse"], floor["should_answer"], floor["unknown"]) == (1, 1, 1)
    assert rules[("follow-up", "refers back")]["decisions"] == {"follow-up": 1}
    assert rules[("follow-up", "new topic")]["decisions"] == {"stands alone": 1}
    assert rules[(REFUSAL_STAGE, "empty-store")]["should_refuse"] == 1


def test_a_rule_that_fires_only_wrongly_shows_in_its_should_answer_count() -> None:
    wrong = [row("x", FLOOR, should_refuse=False, refused=True), row("y", FLOOR, should_refuse=False, refused=True)]
    [rule] = rule_breakdown(wrong)
    assert (rule["fired"], rule["should_refuse"], rule["should_answer"]) == (2, 0, 2)


def test_per_language_questions_recall_refusals_and_median_stage_times() -> None:
    languages = language_breakdown(ROWS)
    assert list(languages) == ["en", "fr"]
    en, fr = languages["en"], languages["fr"]
    assert (en["n"], en["errors"], en["refused"], en["should_refuse"]) == (5, 1, 3, 2)
    assert en["key_fact_recall"] == {"mean": 1.0, "n": 1}
    assert (en["refusal"]["tp"], en["refusal"]["fp"], en["refusal"]["tn"]) == (2, 1, 1)
    assert en["stage_ms"]["guard"] == 0.5  # median of 0.5, 0.5 (a, b) and 1.0 (d); f has no trace, g an error
    assert en["stage_ms"]["scope"] == 2.0
    assert fr["key_fact_recall"] == {"mean": 0.5, "n": 1}
    assert fr["stage_ms"] == {"guard": 0.75, "scope": 2.0, "follow-up": 5.0}


def make_run() -> dict[str, Any]:
    return {
        "k": 5,
        "date": "2026-01-01T00:00:00Z",
        "pipelines": {"assistant": PipelineRun("assistant", ROWS).summary()},
    }


def test_the_summary_and_the_report_carry_both_tables(tmp_path: Path) -> None:
    run = make_run()
    summary = run["pipelines"]["assistant"]
    assert summary["rules"] == rule_breakdown(ROWS) and summary["languages"] == language_breakdown(ROWS)

    header, rows = tables.rule_table(run)
    assert header[:5] == ["pipeline", "stage", "rule", "fired on", "did"]
    assert ["assistant", "scope", "relevance-floor", "3", "refuse", "1", "1", "1"] in rows
    header, rows = tables.language_table(run)
    assert "guard ms (median)" in header and [r[1] for r in rows] == ["en", "fr"]
    assert rows[0][3] == "1.000 (n=1)"

    report.write(tmp_path, run, {"assistant": ROWS})
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "### Rules that fired" in md and "| assistant | scope | relevance-floor | 3 | refuse | 1 | 1 | 1 |" in md
    assert "### Per language" in md and "| assistant | fr | 2 |" in md
    assert "<h3>Rules that fired</h3>" in page and "<td>relevance-floor</td>" in page
    assert "<h3>Per language</h3>" in page
