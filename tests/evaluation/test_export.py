"""Exports for Ragas and DeepEval: their field names, one record per question and pipeline, reference sections."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation import export
from tests.evaluation.test_report import make_row
from vectorstore.records import Chunk

FEES = "corpus/pages/fees.html"


def chunk(cid: str, anchor: str, text: str, position: int, url: str = FEES) -> Chunk:
    return Chunk(id=cid, doc_id="d", text=text, title="Fees", url=url, link=f"{url}#{anchor}", position=position)


CHUNKS = [
    chunk("c2", "fee", "The fee is EUR 20 for adults.", 2),
    chunk("c1", "fee", "A fee is charged per application.", 1),
    chunk("c3", "exemptions", "Children pay nothing.", 3),
    chunk("c4", "fee", "Another page's fee section.", 1, url="corpus/pages/visa.html"),
]


def test_reference_texts_are_the_named_sections_in_page_order() -> None:
    rows = [make_row("q-01"), make_row("off-01", should_refuse=True, refused=True)]
    assert export.reference_texts(rows, CHUNKS) == {
        "q-01": ["A fee is charged per application.", "The fee is EUR 20 for adults."]
    }


def test_ragas_rows_use_single_turn_sample_field_names() -> None:
    references = {"q-01": ["A fee is charged per application."]}
    sample = export.ragas_row(make_row("q-01"), references)
    assert sample == {
        "user_input": "Question q-01?",
        "response": "The fee is EUR 20. [1]",
        "retrieved_contexts": ["Passage 1 says EUR 20."],
        "reference": "The fee is EUR 20.",
        "reference_contexts": ["A fee is charged per application."],
    }
    refusal = export.ragas_row(make_row("off-01", should_refuse=True, refused=True), references)
    assert set(refusal) == {"user_input", "response", "retrieved_contexts"}  # no empty reference to judge against


def test_deepeval_cases_use_llm_test_case_field_names() -> None:
    case = export.deepeval_case(make_row("q-01", latency_ms=250), {"q-01": ["A fee is charged per application."]})
    assert {"input", "actual_output", "expected_output", "retrieval_context", "context"} <= set(case)
    assert case["input"] == "Question q-01?" and case["actual_output"] == "The fee is EUR 20. [1]"
    assert case["expected_output"] == "The fee is EUR 20."
    assert case["retrieval_context"] == ["Passage 1 says EUR 20."]
    assert case["context"] == ["A fee is charged per application."]
    assert case["name"] == "q-01" and case["completion_time"] == pytest.approx(0.25)
    assert case["additional_metadata"]["reference_sources"] == [f"{FEES}#fee"]
    refusal = export.deepeval_case(make_row("off-01", should_refuse=True, refused=True), {})
    assert refusal["expected_output"] is None and refusal["context"] is None


def test_write_gives_one_record_per_question_and_a_file_per_pipeline(tmp_path: Path) -> None:
    rows = {
        "assistant": [make_row("q-01"), make_row("q-02")],
        "naive": [make_row("q-01", pipeline="naive"), make_row("q-02", pipeline="naive")],
    }
    ragas = export.write(tmp_path, "ragas", rows, {})
    deepeval = export.write(tmp_path, "deepeval", rows, {})
    assert [p.name for p in ragas] == ["ragas.jsonl", "ragas-naive.jsonl"]
    assert [p.name for p in deepeval] == ["deepeval.json", "deepeval-naive.json"]
    lines = (tmp_path / "ragas.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["user_input"] for line in lines] == ["Question q-01?", "Question q-02?"]
    cases = json.loads((tmp_path / "deepeval-naive.json").read_text(encoding="utf-8"))
    assert [c["name"] for c in cases] == ["q-01", "q-02"]
    assert {c["additional_metadata"]["pipeline"] for c in cases} == {"naive"}
    with pytest.raises(ValueError, match="valid values: ragas, deepeval"):
        export.write(tmp_path, "trulens", rows, {})
