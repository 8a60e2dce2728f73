"""``python -m assistant eval``: a whole run on a tiny store, a comparison with it, and one-line errors with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.__main__ import main as assistant_main
from common.settings import Settings
from evaluation.command import main
from tests.ingest.pages import ingest_into, write_pages
from vectorstore.embeddings import Embedder

ROOT = Path(__file__).resolve().parents[2]
TOPICS = {"blue-card": "the EU Blue Card", "family": "family reunification", "registration": "asylum registration"}


def qa_lines() -> list[str]:
    rows: list[dict[str, object] | str] = [
        {
            "id": "blue-01",
            "question": "Within how many weeks does the authority decide under rule 2 about the EU Blue Card?",
            "answer_keys": ["4 weeks"],
            "reference_sources": ["blue-card.html#blue-card-part-2"],
            "reference_answer": "Within 4 weeks.",
            "should_refuse": False,
            "tags": ["figure"],
        },
        {
            "id": "family-01",
            "question": "Who can help people concerned by family reunification?",
            "answer_keys": ["national office"],
            "reference_sources": ["family.html"],
            "should_refuse": False,
            "tags": ["who-does-what"],
        },
        '{"id": "broken-01", "question": ',
        {
            "id": "lasagne-01",
            "question": "What is a good recipe for lasagne?",
            "should_refuse": True,
            "tags": ["refuse-off-topic"],
        },
        {
            "id": "follow-01",
            "question": "And under rule 3?",
            "history": [
                {"role": "user", "content": "How fast does the authority decide on asylum registration under rule 1?"},
                {"role": "assistant", "content": "Within 3 weeks."},
            ],
            "answer_keys": ["5 weeks"],
            "reference_sources": ["registration.html#registration-part-3"],
            "should_refuse": False,
            "tags": ["follow-up"],
        },
        {
            "id": "registration-01",
            "question": "What does rule 1 about asylum registration say?",
            "answer_keys": ["3 weeks"],
            "reference_sources": ["registration.html#registration-part-1"],
            "should_refuse": False,
            "tags": ["figure"],
        },
    ]
    return [row if isinstance(row, str) else json.dumps(row) for row in rows]


@pytest.mark.slow
def test_a_run_writes_its_folder_then_a_comparison_gates_on_a_figure(
    tmp_path: Path, bundled: Embedder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    ingest_into(settings, [str(p) for p in write_pages(tmp_path / "pages", TOPICS)], embedder=bundled)
    qa = tmp_path / "qa.jsonl"
    qa.write_text("\n".join(qa_lines()) + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    store = ["--data-dir", str(settings.data_dir)]

    argv = [str(qa), *store, "--pipeline", "naive", "--export", "ragas", "--export", "deepeval"]
    assert main([*argv, "--fail-under", "page/hit@5=0.0"]) == 0
    out, err = capsys.readouterr()
    assert "line 3: not valid JSON" in err
    [first] = (tmp_path / "eval-runs").iterdir()  # the default folder: ./eval-runs/<UTC time>
    assert f"results: {first}" in out
    assert {"results.jsonl", "summary.json", "report.md", "report.html", "ragas.jsonl", "deepeval.json"} <= {
        p.name for p in first.iterdir()
    }
    rows = [json.loads(line) for line in (first / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted((r["pipeline"], r["id"]) for r in rows) == sorted(
        (p, i)
        for p in ("assistant", "naive")
        for i in ("blue-01", "family-01", "lasagne-01", "follow-01", "registration-01")
    )
    summary = json.loads((first / "summary.json").read_text(encoding="utf-8"))
    assert summary["questions"] == 5 and summary["k"] == 5 and summary["composer"] == "extractive"
    assert summary["embedding_model"] == settings.embedding_model and summary["store"] == str(settings.store_path)
    assert summary["malformed"][0]["line"] == 3 and set(summary["pipelines"]) == {"assistant", "naive"}
    assert summary["pipelines"]["naive"]["refusal"]["fn"] == 1  # the baseline answers the off-topic question
    answered = [r for r in rows if r["pipeline"] == "assistant" and r["sentences"]]
    assert answered and all(0 <= r["metrics"]["judge_faithfulness"] <= 1 for r in answered)
    assert all("citation_recall" not in r["metrics"] for r in rows)  # the same figure as faithfulness, reported once
    assistant = summary["pipelines"]["assistant"]
    assert {"rules", "languages", "judge"} <= set(assistant) and set(assistant["languages"]) == {"en"}
    assert len((first / "ragas.jsonl").read_text(encoding="utf-8").splitlines()) == 5
    assert len(json.loads((first / "deepeval-naive.json").read_text(encoding="utf-8"))) == 5

    second = tmp_path / "second"
    code = main([str(qa), *store, "--compare", str(first), "--fail-under", "page/hit@5=1.01", "--out", str(second)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "fail-under: page/hit@5 = " in err and "is below 1.01" in err
    assert f"Compared with {first}:" in out and "Questions that got worse: 0" in out
    assert "## Changes since" in (second / "report.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--fail-under", "recall=0.5"],
            "unknown metric 'recall' for --fail-under; valid names: page/hit@1, page/hit@5",
        ),
        (["--fail-under", "page/hit@5"], "--fail-under takes METRIC=VALUE"),
        (["--fail-under", "page/hit@5=high"], "'high' is not a number"),
        (["--pipeline", "naive,rag"], "unknown --pipeline value 'rag'; valid values: assistant, naive"),
        (["--export", "trulens"], "unknown --export value 'trulens'; valid values: ragas, deepeval"),
        (["--k", "0"], "--k must be at least 1"),
        (["--compare", "no-such-run"], "no earlier run at no-such-run"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"id": "q-01", "question": "What is ETIAS?"}\n', encoding="utf-8")
    assert main([str(qa), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_a_missing_file_an_empty_set_or_a_missing_store_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([str(tmp_path / "none.jsonl")]) == 2
    assert capsys.readouterr().err == f"error: QA file not found: {tmp_path / 'none.jsonl'}\n"
    assert assistant_main(["eval", str(tmp_path / "none.jsonl")]) == 2  # the assistant's alias, same command
    assert capsys.readouterr().err == f"error: QA file not found: {tmp_path / 'none.jsonl'}\n"

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "q-01"}\n[1, 2]\n', encoding="utf-8")
    assert main([str(bad)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "line 1: missing question",
        "line 2: expected a JSON object, got a list",
        f"error: no valid questions in {bad} (2 malformed rows)",
    ]

    good = tmp_path / "good.jsonl"
    good.write_text('{"id": "q-01", "question": "What is ETIAS?", "tags": ["a"]}\n', encoding="utf-8")
    assert main([str(good), "--tag", "b"]) == 2
    assert "no question in" in capsys.readouterr().err
    assert main([str(good), "--store", str(tmp_path / "nowhere")]) == 2
    assert "no store at" in capsys.readouterr().err
    assert not (tmp_path / "eval-runs").exists()  # a failed run leaves no empty folder behind
    (tmp_path / "taken").write_text("a file")
    assert main([str(good), "--out", str(tmp_path / "taken" / "run")]) == 2
    assert "cannot create the output folder" in capsys.readouterr().err


def test_the_assistant_cli_imports_the_evaluation_only_for_eval() -> None:
    code = "import sys, assistant.__main__; print(sorted(m for m in sys.modules if m.split('.')[0] == 'evaluation'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"
