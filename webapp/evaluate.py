"""The Evaluate page's handler: an uploaded QA file run through the assistant with the evaluation engine.

The engine is ``evaluation`` (the same loader, scorer, runner and report as ``python -m assistant
eval``); this module only feeds it an upload, reports progress to the page, and shows the figures, the plots and
the failures. Each run's folder (results.jsonl, summary.json, report.md, report.html, plots/) goes under
the page's private folder (0700, files 0600), with a .zip of it to download; the server removes them within the
hour.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import textwrap
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.service import Assistant
from common.errors import ConfigError, EumaError
from evaluation import report
from evaluation.dataset import load_qa
from evaluation.runner import AssistantPipeline, Scorer, run, select
from webapp import render

log = logging.getLogger(__name__)

Progress = Callable[..., Any]  # gr.Progress, or any callable taking (fraction, desc=...)
MAX_FAILURES_SHOWN = 50
MAX_SKIPPED_SHOWN = 10  # malformed rows named on the page; summary.json has them all
MAX_REASON_CHARS = 200  # a row's reason may quote one of its values
PLOT_CAPTIONS = {  # the plots report.write draws, by file name
    "scores": "Distributions of key-fact recall, faithfulness and best passage relevance",
    "latency": "Latency per question",
    "tags": "Main figures per tag",
}


@dataclass(frozen=True)
class EvaluationRun:
    """A finished run: its folder, summary and the files to show and download."""

    folder: Path
    summary: dict[str, Any]
    rows: list[dict[str, Any]]
    plots: list[Path]
    report: Path
    archive: Path


class Evaluation:
    """Runs QA files through the shared assistant; keeps each run in ``runs_dir``."""

    def __init__(self, assistant: Assistant, runs_dir: Path) -> None:
        self.assistant = assistant
        self.runs_dir = Path(runs_dir)

    def run(
        self, qa_file: str | Path, *, k: int = 5, limit: int | None = None, progress: Progress | None = None
    ) -> EvaluationRun:
        """Answer, score and report every question of the file (DatasetError or ConfigError when it cannot)."""
        if k < 1:
            raise ConfigError(f"k must be at least 1, not {k}")
        if limit is not None and limit < 1:
            raise ConfigError(f"the limit must be at least 1, not {limit}")
        path = Path(qa_file)
        items, errors = load_qa(path)
        malformed = [{"line": m.line, "message": m.message} for m in errors]
        if not items:
            raise ConfigError(f"no valid questions in {path.name} ({skipped_rows(malformed)})")
        items = select(items, limit=limit, seed=0)
        started = datetime.now(UTC)
        settings = self.assistant.settings
        self.assistant.warm_up()
        scorer = Scorer(self.assistant.store.embedder, self.assistant.verifier, k=k)

        def step(done: int, total: int, name: str) -> None:
            if progress is not None:
                progress(done / total, desc=f"{done} of {total} questions answered and scored")

        if progress is not None:
            progress(0.0, desc=f"0 of {len(items)} questions answered and scored")
        runs = run([AssistantPipeline(self.assistant)], items, scorer, progress=step)
        summary: dict[str, Any] = {  # the same keys as ``python -m assistant eval`` writes
            "dataset": path.name,
            "questions": len(items),
            "k": k,
            "composer": settings.composer,
            "embedding_model": settings.embedding_model,
            "store": self.assistant.store.location,
            "collection": settings.collection,
            "top_k": settings.top_k,
            "relevance_floor": settings.relevance_floor,
            "date": started.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "tags": [],
            "limit": limit,
            "seed": 0,
            "pipelines": {r.name: r.summary() for r in runs},
            "malformed": malformed,
        }
        rows = [{"pipeline": r.name, **row} for r in runs for row in r.rows]
        self.runs_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder = self.runs_dir / f"{started.strftime('%Y-%m-%dT%H-%M-%SZ')}-{uuid.uuid4().hex[:6]}"
        folder.mkdir(mode=0o700)
        with (folder / "results.jsonl").open("w", encoding="utf-8") as out:
            out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written = report.write(folder, summary, {"assistant": rows})
        archive = Path(shutil.make_archive(str(folder), "zip", root_dir=folder))
        make_private(folder)
        archive.chmod(0o600)
        return EvaluationRun(
            folder=folder,
            summary=summary,
            rows=rows,
            plots=[p for p in written if p.suffix == ".png"],
            report=folder / "report.html",
            archive=archive,
        )

    def handle(
        self, qa_file: str | None, k: float | None, limit: float | None, progress: Progress | None = None
    ) -> tuple[str, list[tuple[str, str]], str, str | None, str | None]:
        """The page's outputs: figures, plots, failures, the .zip and report.html (or a message saying why not)."""
        if not qa_file:
            return render.message_html("Choose a QA file first (.jsonl, .json or .csv)."), [], "", None, None
        try:
            done = self.run(qa_file, k=int(k or 5), limit=int(limit) if limit else None, progress=progress)
        except EumaError as exc:
            return render.message_html(f"Sorry, {exc}.", kind="error"), [], "", None, None
        except Exception:
            log.exception("the evaluation run failed")
            message = "Sorry, the evaluation failed because of an error on the server; it has been logged."
            return render.message_html(message, kind="error"), [], "", None, None
        return (
            summary_html(done.summary),
            [(str(p), PLOT_CAPTIONS.get(p.stem, p.stem)) for p in done.plots],
            failures_html(done.rows, int(done.summary["k"])),
            str(done.archive),
            str(done.report),
        )


def make_private(folder: Path) -> None:
    """Folders 0700 and files 0600 under ``folder``: a run holds the questions asked and the answers given."""
    folder.chmod(0o700)
    for parent, subfolders, files in os.walk(folder):
        for name in subfolders:
            os.chmod(os.path.join(parent, name), 0o700)
        for name in files:
            os.chmod(os.path.join(parent, name), 0o600)


def summary_html(summary: dict[str, Any]) -> str:
    """The headline figures, the refusal counts and the run's settings."""
    figures = report.figures_table(summary)
    shown = (figures[0], [row for row in figures[1] if any(not cell.startswith("—") for cell in row[1:])])
    assistant = summary["pipelines"]["assistant"]
    lines = [
        f"{summary['questions']} questions from {summary['dataset']}",
        f"{assistant['errors']} errors",
        f"run {summary['date']}",
    ]
    skipped = skipped_rows(summary["malformed"]) or "no malformed rows"
    return (
        '<div class="euma-eval">'
        f"<p>{render.e(' · '.join(lines))}</p>"
        f"<p>{render.e(skipped)}</p>"
        f"<h3>Figures</h3>{report.html_table(shown)}"
        f"<h3>Refusals</h3>{report.html_table(report.refusal_table(summary))}"
        "</div>"
    )


def skipped_rows(malformed: list[dict[str, Any]]) -> str:
    """The rows the loader skipped, each with its line and why: "2 malformed rows skipped: line 3: ...; line 7:
    ...", the first ten and how many more ("" when none)."""
    if not malformed:
        return ""
    reasons = [
        f"line {m['line']}: {textwrap.shorten(str(m['message']), MAX_REASON_CHARS, placeholder=' …')}"
        for m in malformed[:MAX_SKIPPED_SHOWN]
    ]
    more = len(malformed) - MAX_SKIPPED_SHOWN
    if more > 0:
        reasons.append(f"and {more} more")
    rows = "row" if len(malformed) == 1 else "rows"
    return f"{len(malformed)} malformed {rows} skipped: " + "; ".join(reasons)


def failures_html(rows: list[dict[str, Any]], k: int) -> str:
    """The failed questions with why they failed (the first ones; all are in the report)."""
    failed = report.failures(rows, k)
    head = f"<h3>Failures: {len(failed)} of {len(rows)}</h3>"
    if not failed:
        return head + "<p>Every question passed.</p>"
    items = [
        f"<tr><td>{render.e(row.get('id', ''))}</td><td>{render.e(row.get('question', ''))}</td>"
        f"<td>{render.e('; '.join(reasons))}</td></tr>"
        for row, reasons in failed[:MAX_FAILURES_SHOWN]
    ]
    more = (
        f"<p>And {len(failed) - MAX_FAILURES_SHOWN} more in the report.</p>" if len(failed) > MAX_FAILURES_SHOWN else ""
    )
    table = "<table><thead><tr><th>id</th><th>question</th><th>why</th></tr></thead><tbody>" + "".join(items)
    return f'<div class="euma-eval">{head}{table}</tbody></table>{more}</div>'
