"""Comparing two runs: each figure's old, new and change, and the questions whose figures dropped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evaluation.compare import RunFolderError, compare, load_run, question_changes, text
from tests.evaluation.test_report import K, make_row, make_run


def runs() -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]], dict[str, Any], dict[str, list[dict[str, Any]]]]:
    old_rows = {
        "assistant": [
            make_row("keys-01"),
            make_row("hit-01"),
            make_row("refuse-01", should_refuse=True, refused=True),
            make_row("better-01", keys=0.0, hit=0.0, latency_ms=300),
            make_row("faith-01"),
            make_row("same-01", keys=0.5),
        ]
    }
    new_rows = {
        "assistant": [
            make_row("keys-01", keys=0.5),
            make_row("hit-01", hit=0.0),
            make_row("refuse-01", should_refuse=True, refused=False),
            make_row("better-01", latency_ms=100),
            make_row("faith-01", faithfulness=0.5),
            make_row("same-01", keys=0.5),
            make_row("new-01"),
        ],
        "naive": [make_row("keys-01", pipeline="naive")],
    }
    return make_run(old_rows), old_rows, make_run(new_rows), new_rows


def test_figures_show_old_new_and_change() -> None:
    comparison = compare(*runs(), old_label="old-run")
    changes = {(c.pipeline, c.name): c for c in comparison.figures}
    assert {p for p, _ in changes} == {"assistant"}  # the baseline did not run before: nothing to compare
    keys = changes[("assistant", "key_fact_recall")]
    assert keys.old == pytest.approx(3.5 / 5) and keys.new == pytest.approx(5 / 6)
    assert keys.delta == pytest.approx(5 / 6 - 3.5 / 5) and keys.better is True  # better overall, one question worse
    faith = changes[("assistant", "faithfulness")]
    assert faith.old == 1.0 and faith.delta == pytest.approx(6.5 / 7 - 1.0) and faith.better is False
    latency = changes[("assistant", "latency/mean_ms")]
    assert latency.delta is not None and latency.delta < 0 and latency.better is True  # faster is better
    assert changes[("assistant", "refusal_recall")].delta == pytest.approx(-1.0)
    assert any("naive did not run" in note for note in comparison.notes)
    assert any("1 questions of assistant were not in the earlier run" in note for note in comparison.notes)


def test_questions_that_got_worse_are_named_with_what_dropped() -> None:
    comparison = compare(*runs())
    worse = {w.id: w.changes for w in comparison.worse}
    assert set(worse) == {"keys-01", "hit-01", "refuse-01", "faith-01"}
    assert worse["keys-01"] == ("key_fact_recall 1.00 → 0.50",)
    assert worse["hit-01"] == (f"page/hit@{K} 1.00 → 0.00", f"section/hit@{K} 1.00 → 0.00")
    assert worse["refuse-01"] == ("now answers but should refuse",)
    assert worse["faith-01"] == ("faithfulness 1.00 → 0.50",)


def test_a_wrong_refusal_and_a_new_error_count_as_worse() -> None:
    old, new = make_row("q-01"), make_row("q-01", refused=True)
    assert question_changes(old, new, K, K)[-1] == "now refused but should answer"
    failed = {**make_row("q-01"), "error": "TimeoutError: slow"}
    assert question_changes(old, failed, K, K)[0] == "error: TimeoutError: slow"
    assert question_changes(failed, old, K, K) == []  # recovering is not worse


def test_a_different_k_is_noted_and_hit_compared_at_each_runs_own_k() -> None:
    old_run, old_rows, new_run, new_rows = runs()
    new_run = {**new_run, "k": 3}
    new_rows = {"assistant": [{**r, "metrics": {**r["metrics"], "page/hit@3": 0.0}} for r in new_rows["assistant"]]}
    comparison = compare(old_run, old_rows, new_run, new_rows)
    assert any("k=5" in note and "k=3" in note for note in comparison.notes)
    assert "page/hit@3 1.00 → 0.00" in dict((w.id, w.changes) for w in comparison.worse)["keys-01"]


def test_text_lists_figures_and_worse_questions() -> None:
    printed = text(compare(*runs(), old_label="eval-runs/old"))
    assert printed.startswith("Compared with eval-runs/old:")
    assert "key_fact_recall" in printed and "0.700 → 0.833" in printed
    assert "Questions that got worse: 4" in printed and "assistant hit-01: page/hit@5 1.00 → 0.00" in printed


def test_load_run_reads_a_run_folder_back(tmp_path: Path) -> None:
    old_run, old_rows, _, _ = runs()
    (tmp_path / "summary.json").write_text(json.dumps(old_run))
    rows = [*old_rows["assistant"], make_row("keys-01", pipeline="naive")]
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary, grouped = load_run(tmp_path)
    assert summary["k"] == K
    assert {name: len(r) for name, r in grouped.items()} == {"assistant": 6, "naive": 1}


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "cannot read the earlier run"),
        ({"summary.json": "{not json", "results.jsonl": ""}, "is not valid JSON"),
        ({"summary.json": '{"questions": 3}', "results.jsonl": ""}, "is not the summary of an evaluation run"),
        ({"summary.json": '{"k": 5, "pipelines": {}}', "results.jsonl": "{}\n{oops\n"}, "line 2 is not valid JSON"),
    ],
)
def test_an_unreadable_run_folder_is_one_clear_error(tmp_path: Path, files: dict[str, str], message: str) -> None:
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    with pytest.raises(RunFolderError, match=message):
        load_run(tmp_path)
    with pytest.raises(RunFolderError, match="no earlier run at"):
        load_run(tmp_path / "missing")
