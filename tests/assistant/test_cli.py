"""The command line: answers, JSON, drafts, and one clear line with a non-zero exit on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.__main__ import main
from common.settings import Settings


def store_flags(settings: Settings) -> list[str]:
    return ["--data-dir", str(settings.data_dir)]


def test_ask_prints_the_answer_and_its_sources(corpus_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "How much does ETIAS cost?", *store_flags(corpus_settings)]) == 0
    out = capsys.readouterr().out
    assert "EUR 20" in out and "[1]" in out
    assert "Sources:\n[1] " in out and "corpus/pages/etias.html#etias-fee" in out


def test_ask_json_holds_answer_citations_and_passages(
    corpus_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "What is Eurodac?", "--json", *store_flags(corpus_settings)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["refused"] is False and "[1]" in data["text"]
    assert {"n", "title", "url", "section", "snippet", "last_updated"} <= set(data["citations"][0])
    assert [p["rank"] for p in data["passages"]] == list(range(1, len(data["passages"]) + 1))
    assert {"score", "url", "section"} <= set(data["passages"][0])


def test_ask_with_history_and_draft(
    corpus_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "history.json"
    history.write_text(json.dumps(["How long can the asylum border procedure last?", "Up to 12 weeks."]))
    assert (
        main(["ask", "Does it apply to children?", "--json", "--history", str(history), *store_flags(corpus_settings)])
        == 0
    )
    assert "border procedure" in json.loads(capsys.readouterr().out)["search_query"]
    assert (
        main(
            [
                "ask",
                "Can my wife join me on my Blue Card?",
                "--draft",
                "--tone",
                "friendly",
                *store_flags(corpus_settings),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("Hello,") and "Sources:" in out


def test_a_refusal_is_an_answer_not_an_error(corpus_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "What is a good recipe for lasagne?", "--json", *store_flags(corpus_settings)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["refused"] is True and data["reason"] == "out_of_scope" and data["citations"] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", "   "], "the question is empty"),
        (["ask", "why? " * 1000], "the question is too long"),
        (["ask", "What is ETIAS?", "--composer", "gpt"], "unknown composer 'gpt'; valid values: extractive"),
        (["ask", "What is ETIAS?", "--composer", "openai"], "needs a model name"),
        (["ask", "What is ETIAS?", "--top-k", "0"], "top_k must be between 1 and 50"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2(
    corpus_settings: Settings, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main([*argv, *store_flags(corpus_settings)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_a_missing_store_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "What is ETIAS?", "--store", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "no store at" in err and "python -m ingest" in err


def test_a_bad_history_file_is_named(
    corpus_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "h.json"
    bad.write_text("{not json")
    assert main(["ask", "What is ETIAS?", "--history", str(bad), *store_flags(corpus_settings)]) == 2
    assert "cannot read the history file" in capsys.readouterr().err
