"""Write a run's answers in the shapes Ragas and DeepEval read, to score them with those tools' LLM judges.

Ragas: one JSON object per line with ``SingleTurnSample``'s fields (``EvaluationDataset.from_jsonl``). DeepEval: a
JSON list of ``LLMTestCase`` fields (``EvaluationDataset.add_test_cases_from_json_file``). Neither library is
needed here; only their field names are written. The reference contexts are the texts of the stored sections the
QA row names as its sources. Follow-up questions are written as asked; their history is in DeepEval's metadata.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evaluation.metrics import RetrievedRef, section_match
from vectorstore.records import Chunk

FORMATS = ("ragas", "deepeval")
ReferenceTexts = Mapping[str, Sequence[str]]  # question id -> texts of its reference sections


def reference_texts(rows: Sequence[Mapping[str, Any]], chunks: Sequence[Chunk]) -> dict[str, list[str]]:
    """For each question with reference sources, the texts of the stored chunks those sources name, in page order."""
    refs = [
        (c, RetrievedRef(url=c.url, link=c.link or c.url, title=c.title, source_url=c.source_url))
        for c in sorted(chunks, key=lambda c: (c.url, c.position))
    ]
    matches: dict[str, set[int]] = {}  # source -> indexes of the chunks it names (many rows share a source)
    out: dict[str, list[str]] = {}
    for row in rows:
        sources = [s for s in row.get("reference_sources") or [] if s.strip()]
        if not sources or str(row["id"]) in out:
            continue
        for source in sources:
            if source not in matches:
                matches[source] = {i for i, (_, ref) in enumerate(refs) if section_match(source, ref)}
        wanted = set().union(*(matches[s] for s in sources))
        out[str(row["id"])] = [chunk.text for i, (chunk, _) in enumerate(refs) if i in wanted]
    return out


def _retrieved(row: Mapping[str, Any]) -> list[str]:
    return [str(p.get("text", "")) for p in row.get("retrieved") or []]


def ragas_row(row: Mapping[str, Any], references: ReferenceTexts) -> dict[str, Any]:
    """One Ragas single-turn sample; ``reference`` and ``reference_contexts`` only where the QA row has them."""
    sample: dict[str, Any] = {
        "user_input": row["question"],
        "response": row.get("answer", ""),
        "retrieved_contexts": _retrieved(row),
    }
    if row.get("reference_answer"):
        sample["reference"] = row["reference_answer"]
    contexts = list(references.get(str(row["id"]), []))
    if contexts:
        sample["reference_contexts"] = contexts
    return sample


def deepeval_case(row: Mapping[str, Any], references: ReferenceTexts) -> dict[str, Any]:
    """One DeepEval test case; ``context`` holds the reference sections, ``retrieval_context`` what was retrieved."""
    latency = (row.get("metrics") or {}).get("latency_ms")
    return {
        "input": row["question"],
        "actual_output": row.get("answer", ""),
        "expected_output": row.get("reference_answer") or None,
        "retrieval_context": _retrieved(row),
        "context": list(references.get(str(row["id"]), [])) or None,
        "name": str(row["id"]),
        "tags": list(row.get("tags") or []),
        "completion_time": None if latency is None else latency / 1000,
        "additional_metadata": {
            "pipeline": row.get("pipeline", ""),
            "history": row.get("history") or [],
            "should_refuse": row.get("should_refuse"),
            "refused": row.get("refused", False),
            "answer_keys": row.get("answer_keys") or [],
            "reference_sources": row.get("reference_sources") or [],
        },
    }


def file_name(fmt: str, pipeline: str) -> str:
    """ragas.jsonl / deepeval.json for the assistant; the baseline's files carry its name (ragas-naive.jsonl)."""
    suffix = "" if pipeline == "assistant" else f"-{pipeline}"
    return f"ragas{suffix}.jsonl" if fmt == "ragas" else f"deepeval{suffix}.json"


def write(
    folder: Path, fmt: str, rows: Mapping[str, Sequence[Mapping[str, Any]]], references: ReferenceTexts
) -> list[Path]:
    """Write one export format for every pipeline; return the files written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; valid values: {', '.join(FORMATS)}")
    written = []
    for pipeline, pipeline_rows in rows.items():
        path = folder / file_name(fmt, pipeline)
        if fmt == "ragas":
            lines = [json.dumps(ragas_row(r, references), ensure_ascii=False) for r in pipeline_rows]
            path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        else:
            cases = [deepeval_case(r, references) for r in pipeline_rows]
            path.write_text(json.dumps(cases, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
