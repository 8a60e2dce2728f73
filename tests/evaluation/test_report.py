"""The report: figures side by side with their n, failures with what was expected and what came back, safe HTML."""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant.answer import Answer, AnswerSentence, Citation, RetrievedPassage
from evaluation import figures, html, markdown, report, tables
from evaluation.compare import Comparison, FigureChange, Worse
from evaluation.dataset import QAItem
from evaluation.runner import PipelineRun, result_row

K = 5
HOSTILE = "Is <script>alert('x')</script> a fee & more?"


def make_row(
    qid: str,
    *,
    question: str = "",
    tags: tuple[str, ...] = ("figure",),
    should_refuse: bool | None = False,
    refused: bool = False,
    keys: float | None = 1.0,
    hit: float | None = 1.0,
    faithfulness: float | None = 1.0,
    latency_ms: float = 120.0,
    pipeline: str = "assistant",
    urls: tuple[str, ...] = ("corpus/pages/fees.html#fee",),
) -> dict[str, Any]:
    """A results.jsonl row as the runner writes it, with hand-set figures."""
    item = QAItem(
        id=qid,
        question=question or f"Question {qid}?",
        reference_answer="" if should_refuse else "The fee is EUR 20.",
        answer_keys=() if should_refuse else ("EUR 20",),
        reference_sources=() if should_refuse else ("corpus/pages/fees.html#fee",),
        should_refuse=should_refuse,
        tags=tags,
    )
    passages = [
        RetrievedPassage(
            rank=i,
            score=0.5,
            relevance=0.6 - i / 10,
            title="Fees",
            url=u,
            section="Fee",
            chunk_id=f"c{i}",
            text=f"Passage {i} says EUR 20.",
        )
        for i, u in enumerate(urls, start=1)
    ]
    answer = Answer(
        question=item.question,
        text="I cannot answer that." if refused else "The fee is EUR 20. [1]",
        citations=[] if refused else [Citation(1, "Fees", urls[0], "Fee", "Passage 1 says EUR 20.", "2026-01-01")],
        refused=refused,
        reason="no_match" if refused else "",
        sentences=[] if refused else [AnswerSentence("The fee is EUR 20.", (1,))],
        passages=passages,
        seconds=latency_ms / 1000,
    )
    metrics: dict[str, float | None] = {"latency_ms": latency_ms}
    if not should_refuse:
        metrics.update({"key_fact_recall": keys, f"page/hit@{K}": hit, f"section/hit@{K}": hit})
    if not refused:
        metrics["faithfulness"] = faithfulness
    return {"pipeline": pipeline, **result_row(item, answer, metrics, "")}


def make_run(rows: dict[str, list[dict[str, Any]]], malformed: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A summary.json for hand-made rows, its figures computed by the runner's own summary."""
    return {
        "dataset": "qa.jsonl",
        "questions": len(next(iter(rows.values()))),
        "k": K,
        "composer": "extractive",
        "embedding_model": "bundled:all-MiniLM-L6-v2",
        "store": "/tmp/store",
        "date": "2026-11-29T10:00:00Z",
        "tags": [],
        "pipelines": {name: PipelineRun(name, list(r)).summary() for name, r in rows.items()},
        "malformed": malformed or [],
    }


@pytest.fixture
def rows() -> dict[str, list[dict[str, Any]]]:
    return {
        "assistant": [
            make_row("good-01"),
            make_row("half-01", keys=0.5, question=HOSTILE, tags=("figure", "typo")),
            make_row("off-01", should_refuse=True, refused=True, tags=("refuse-off-topic",)),
            make_row("missed-01", hit=0.0, keys=0.0, urls=("corpus/pages/other.html#x", "corpus/pages/b.html")),
        ],
        "naive": [
            make_row("good-01", pipeline="naive"),
            make_row("half-01", keys=0.0, question=HOSTILE, tags=("figure", "typo"), pipeline="naive"),
            make_row("off-01", should_refuse=True, refused=False, tags=("refuse-off-topic",), pipeline="naive"),
            make_row("missed-01", hit=0.0, keys=0.0, pipeline="naive"),
        ],
    }


def test_write_makes_markdown_and_a_self_contained_html_page(
    tmp_path: Path, rows: dict[str, list[dict[str, Any]]]
) -> None:
    run = make_run(rows, malformed=[{"line": 4, "message": "not valid JSON: Expecting value at column 1"}])
    written = report.write(tmp_path, run, rows)
    assert {p.name for p in written} >= {"report.md", "report.html", "scores.png", "latency.png", "tags.png"}
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page and "<link" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing fetched from elsewhere
    images = re.findall(r'<img alt="(\w+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">', page)
    assert [name for name, _ in images] == ["scores", "latency", "tags"]
    assert all(base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n") for _, data in images)
    assert "Is &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; a fee &amp; more?" in page
    assert "line 4: not valid JSON" in page
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "![scores](plots/scores.png)" in md and "line 4: not valid JSON" in md


def test_without_matplotlib_the_report_says_it_has_no_plots(
    tmp_path: Path, rows: dict[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed: importing it raises ImportError
    written = report.write(tmp_path, make_run(rows), rows)
    assert {p.name for p in written} == {"report.md", "report.html"} and not (tmp_path / "plots").exists()
    assert "matplotlib is not installed" in (tmp_path / "report.md").read_text(encoding="utf-8")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "matplotlib is not installed" in page and "<img" not in page


def test_figures_table_puts_the_pipelines_side_by_side_with_their_n(rows: dict[str, list[dict[str, Any]]]) -> None:
    header, table = tables.figures_table(make_run(rows))
    assert header == ["figure", "assistant", "naive"]
    by_name = {row[0]: row[1:] for row in table}
    assert by_name["key_fact_recall"] == ["0.500 (n=3)", "0.333 (n=3)"]
    assert by_name[f"page/hit@{K}"] == ["0.667 (n=3)", "0.667 (n=3)"]
    assert by_name["refusal_recall"] == ["1.000 (n=1)", "0.000 (n=1)"]
    assert by_name["refusal_precision"] == ["1.000 (n=1)", "— (n=0)"]  # the baseline refused nothing
    assert by_name["latency/p50_ms"] == ["120 ms (n=4)", "120 ms (n=4)"]
    assert [row[0] for row in table] == figures.figure_names(K)


def test_tag_table_has_every_tag_with_each_pipeline_in_a_cell(rows: dict[str, list[dict[str, Any]]]) -> None:
    header, table = tables.tag_table(make_run(rows), rows)
    assert header[:2] == ["tag", "questions"] and "key_fact_recall" in header
    by_tag = {row[0]: row for row in table}
    assert set(by_tag) == {"figure", "typo", "refuse-off-topic"}
    assert by_tag["figure"][1] == "3"
    assert by_tag["typo"][header.index("key_fact_recall")] == "0.500 (n=1) / 0.000 (n=1)"


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"should_refuse": True, "refused": False}, "answered but should refuse"),
        ({"refused": True}, "refused (no_match) but should answer"),
        ({"keys": 0.5}, "key facts 0.50"),
        ({"hit": 0.0}, f"no reference page in the top {K}"),
        ({"faithfulness": 0.5}, "faithfulness 0.50"),
    ],
)
def test_a_failure_names_its_reason(kwargs: dict[str, Any], reason: str) -> None:
    assert reason in tables.failure_reasons(make_row("q-01", **kwargs), K)


def test_an_error_is_the_only_reason_given_for_a_question_without_answer() -> None:
    row = {**make_row("q-01", should_refuse=True, keys=None), "error": "TimeoutError: slow", "refused": False}
    assert tables.failure_reasons(row, K) == ["error: TimeoutError: slow"]


def test_a_passing_question_and_a_right_refusal_are_not_failures() -> None:
    assert tables.failure_reasons(make_row("q-01"), K) == []
    assert tables.failure_reasons(make_row("q-02", should_refuse=True, refused=True), K) == []


def test_failures_show_what_was_expected_and_what_came_back(rows: dict[str, list[dict[str, Any]]]) -> None:
    md = markdown.markdown(make_run(rows), rows)
    assert "## Failures of assistant: 2 of 4" in md and "## Failures of naive: 3 of 4" in md
    section = md.split("### missed-01", 1)[1].split("###", 1)[0]
    assert "keys EUR 20" in section and "sources corpus/pages/fees.html#fee" in section
    assert "should refuse False" in section
    assert "top retrieved: corpus/pages/other.html#x, corpus/pages/b.html" in section
    assert "> The fee is EUR 20. [1]" in section
    assert "### good-01" not in md


def test_a_comparison_is_part_of_both_reports(rows: dict[str, list[dict[str, Any]]]) -> None:
    comparison = Comparison(
        old_label="eval-runs/old",
        figures=[FigureChange("assistant", "key_fact_recall", 0.75, 0.5)],
        worse=[Worse("assistant", "half-01", HOSTILE, ("key_fact_recall 1.00 → 0.50",))],
    )
    run = make_run(rows)
    md = markdown.markdown(run, rows, comparison)
    assert "## Changes since eval-runs/old" in md
    assert "| assistant | key_fact_recall | 0.750 | 0.500 | -0.250 |" in md
    assert "`half-01` (assistant): key_fact_recall 1.00 → 0.50" in md
    page = html.html_report(run, rows, comparison)
    assert '<td class="num down">-0.250</td>' in page
    assert "<script>" not in page
