"""The Evaluate page's handler as a plain function: an uploaded QA file run, scored and reported."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from assistant.service import Assistant
from tests.app.conftest import BUNDLED_PAGES
from webapp.evaluate import Evaluation

QA_SET = Path(__file__).resolve().parents[1] / "data" / "qa.jsonl"


def qa_rows(n_answerable: int = 3, n_refusals: int = 1) -> list[dict[str, Any]]:
    """Rows of the project's QA set about the pages in the test store, and off-topic refusals."""
    rows = [json.loads(line) for line in QA_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    pages = {f"corpus/pages/{name}.html" for name in BUNDLED_PAGES}
    answerable = [
        r
        for r in rows
        if not r.get("should_refuse") and not r.get("history")
        and {s.split("#")[0] for s in r["reference_sources"]} <= pages
    ]  # fmt: skip
    refusals = [r for r in rows if "refuse-off-topic" in r["tags"]]
    return answerable[:n_answerable] + refusals[:n_refusals]


def write_qa(folder: Path, rows: list[dict[str, Any]], *, malformed: bool = False) -> Path:
    path = folder / "upload.jsonl"
    lines = [json.dumps(r) for r in rows] + (['{"id": "broken-01", "question": '] if malformed else [])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def evaluation(app_assistant: Assistant, tmp_path: Path) -> Evaluation:
    return Evaluation(app_assistant, tmp_path / "eval-runs")


def test_a_run_reports_figures_plots_failures_and_a_download(evaluation: Evaluation, tmp_path: Path) -> None:
    rows = qa_rows()
    assert len(rows) == 4
    qa = write_qa(tmp_path, rows, malformed=True)
    steps: list[tuple[float, str]] = []
    summary, plots, failures, archive, report = evaluation.handle(
        str(qa), 5, 0, lambda fraction, desc="": steps.append((fraction, desc))
    )
    assert steps[0][0] == 0.0 and steps[-1] == (1.0, "4 of 4 questions answered and scored")
    assert "4 questions from upload.jsonl" in summary
    assert "1 malformed row skipped: line 5: not valid JSON: Expecting value at column 32<" in summary
    assert "page/hit@5" in summary and "refusal_recall" in summary
    assert {Path(p).name for p, _ in plots} == {"scores.png", "latency.png", "tags.png"}
    assert all(Path(p).read_bytes().startswith(b"\x89PNG") and caption for p, caption in plots)
    assert failures.startswith('<div class="euma-eval"><h3>Failures: ')
    assert report is not None and Path(report).name == "report.html"
    assert archive is not None
    with zipfile.ZipFile(archive) as z:
        names = set(z.namelist())
        results = [json.loads(line) for line in z.read("results.jsonl").decode().splitlines()]
        stored = json.loads(z.read("summary.json"))
    assert {"results.jsonl", "summary.json", "report.md", "report.html", "plots/scores.png"} <= names
    assert [r["id"] for r in results] == [r["id"] for r in rows]
    assert stored["questions"] == 4 and stored["malformed"][0]["line"] == 5
    refusal = stored["pipelines"]["assistant"]["refusal"]
    assert refusal["tp"] + refusal["fn"] == 1  # the one off-topic question was judged as a refusal case


def test_the_same_engine_as_the_command_line(evaluation: Evaluation, tmp_path: Path) -> None:
    from evaluation.command import main

    qa = write_qa(tmp_path, qa_rows(2, 1))
    done = evaluation.run(qa, k=3)
    assert main([str(qa), "--out", str(tmp_path / "cli"), "--k", "3", "--quiet",
                 "--store", str(evaluation.assistant.settings.store_path)]) == 0  # fmt: skip
    cli = [json.loads(line) for line in (tmp_path / "cli" / "results.jsonl").read_text().splitlines()]
    ours = [json.loads(line) for line in (done.folder / "results.jsonl").read_text().splitlines()]
    strip = ("metrics", "trace")  # latency and stage times differ between two runs
    assert [{k: v for k, v in r.items() if k not in strip} for r in ours] == [
        {k: v for k, v in r.items() if k not in strip} for r in cli
    ]
    assert set(json.loads((done.folder / "summary.json").read_text())) == set(
        json.loads((tmp_path / "cli" / "summary.json").read_text())
    )


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (None, "", "Choose a QA file first"),
        (
            "not json at all\n",
            "bad.jsonl",
            "no valid questions in bad.jsonl (1 malformed row skipped: line 1: not valid JSON: Expecting value at",
        ),
        ("question\n", "notes.txt", "unknown QA file type"),
    ],
)
def test_a_bad_upload_gives_a_message(
    evaluation: Evaluation, tmp_path: Path, content: str | None, name: str, expected: str
) -> None:
    path = None
    if content is not None:
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
    summary, plots, _, archive, report = evaluation.handle(str(path) if path else None, 5, None)
    assert expected in summary and plots == [] and archive is None and report is None


def test_the_page_names_each_skipped_row_by_its_line(evaluation: Evaluation, tmp_path: Path) -> None:
    good = qa_rows(1, 0)[0]
    path = tmp_path / "upload.jsonl"
    lines = [
        "# a comment line is not a row",
        '{"id": "broken", "question": ',
        json.dumps(good),
        json.dumps({"id": "no-question"}),
        json.dumps(good),  # its id again
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary, *_ = evaluation.handle(str(path), 5, 0)
    assert "1 questions from upload.jsonl" in summary
    assert (
        "3 malformed rows skipped: line 2: not valid JSON: Expecting value at column 29; line 4: missing question; "
        f"line 5: duplicate id &#x27;{good['id']}&#x27; (first on line 3)"
    ) in summary


def test_a_file_of_bad_rows_names_the_first_ten_and_counts_the_rest(evaluation: Evaluation, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(f'{{"id": "q{n}"}}\n' for n in range(1, 13)), encoding="utf-8")
    summary, plots, _, archive, _ = evaluation.handle(str(path), 5, None)
    shown = "; ".join(f"line {n}: missing question" for n in range(1, 11))
    assert f"no valid questions in bad.jsonl (12 malformed rows skipped: {shown}; and 2 more)" in summary
    assert "line 11" not in summary and plots == [] and archive is None


def test_a_bad_k_gives_a_message(evaluation: Evaluation, tmp_path: Path) -> None:
    summary, *_ = evaluation.handle(str(write_qa(tmp_path, qa_rows(1, 0))), -1, None)
    assert "k must be at least 1" in summary
