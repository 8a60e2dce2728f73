"""The project's QA set as a regression gate: CI fails when a headline figure falls below the level reached.

The levels are those recorded in docs/evaluation.md, rounded down a little so that a single question changing
its outcome (one of 33 refusal questions is 0.03) does not fail the build on its own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.evaluation.command import main
from vectorstore.settings import Settings

QA_SET = Path(__file__).resolve().parents[2] / "data" / "qa.jsonl"
GATES = {
    "page/hit@5": 0.95,
    "section/hit@5": 0.90,
    "key_fact_recall": 0.80,
    "faithfulness": 0.98,
    "refusal_precision": 0.90,
    "refusal_recall": 0.84,
}


def test_the_qa_set_holds_its_figures(
    corpus_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gates = [arg for name, level in GATES.items() for arg in ("--fail-under", f"{name}={level}")]
    code = main(
        [
            "eval",
            str(QA_SET),
            "--data-dir",
            str(corpus_settings.data_dir),
            "--out",
            str(tmp_path / "run"),
            "--quiet",
            *gates,
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    summary = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert summary["pipelines"]["assistant"]["questions"] == sum(1 for line in QA_SET.open() if line.strip())
