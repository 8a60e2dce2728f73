"""``python -m evaluation QA_FILE`` (alias: ``python -m assistant eval``): run a QA set through the assistant (and the
tutorial baseline) and report.

The run writes a folder: results.jsonl (one row per question per pipeline), summary.json (settings and figures),
report.md and report.html, plots, and on request Ragas/DeepEval exports. ``--fail-under`` turns a figure into a CI
gate (exit 1), ``--compare`` sets the figures and questions beside an earlier run's. Bad rows of the QA file are
reported with their line and skipped; an unreadable file, a missing store or a bad option is one line and exit 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import at_the_edge
from common.errors import ConfigError
from common.settings import ANSWER_FLAGS, STORE_FLAGS, Settings, add_arguments, from_args

if TYPE_CHECKING:
    from evaluation.dataset import QAItem
    from evaluation.runner import PipelineRun

PIPELINES = ("assistant", "naive")
EXPORTS = ("ragas", "deepeval")
RUNS_DIR = "eval-runs"
NOISY_LOGGERS = ("httpx", "chromadb", "sentence_transformers", "transformers", "urllib3")


DESCRIPTION = "Answer every question of a QA file, score the answers and write a report."


def add_arguments_to(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give a parser the evaluation's arguments (QA_FILE and the options)."""
    parser.add_argument(
        "qa_file", type=Path, metavar="QA_FILE", help="the questions: .jsonl, .json (JSON Lines) or .csv"
    )
    parser.add_argument("--out", type=Path, help=f"folder for the results (default: ./{RUNS_DIR}/<UTC time>)")
    parser.add_argument("--k", type=int, default=5, help="retrieval cut-off for hit@k, recall@k and mrr@k (default 5)")
    parser.add_argument("--tag", action="append", default=[], help="only questions with this tag (repeatable)")
    parser.add_argument("--limit", type=int, help="only this many questions, drawn at random with --seed")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --limit sample (default 0)")
    parser.add_argument(
        "--pipeline",
        action="append",
        default=[],
        help="also run this pipeline: naive (the tutorial baseline); repeatable or comma-separated",
    )
    parser.add_argument(
        "--fail-under",
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 when this figure of the assistant is below VALUE, e.g. page/hit@5=0.8 (repeatable)",
    )
    parser.add_argument("--compare", type=Path, metavar="OLD_RUN_DIR", help="compare with an earlier run's folder")
    parser.add_argument(
        "--export", action="append", default=[], help="also write answers for ragas or deepeval (repeatable)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no figures on the terminal")
    add_arguments(parser, STORE_FLAGS + ANSWER_FLAGS)
    return parser


def build_parser(prog: str = "python -m evaluation") -> argparse.ArgumentParser:
    """The evaluation's command line."""
    return add_arguments_to(argparse.ArgumentParser(prog=prog, description=DESCRIPTION))


def main(argv: list[str] | None = None, *, prog: str = "python -m evaluation") -> int:
    """Parse ``QA_FILE [options]`` and run; the exit code."""
    args = build_parser(prog).parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.ERROR)
    return run(args)


@dataclass(frozen=True)
class Gate:
    """A --fail-under figure and its threshold."""

    name: str
    threshold: float


def _names(values: Sequence[str], valid: Sequence[str], option: str) -> list[str]:
    """Repeatable, comma-separated option values, checked against the valid ones."""
    names = [v.strip().lower() for value in values for v in value.split(",") if v.strip()]
    for name in names:
        if name not in valid:
            raise ConfigError(f"unknown {option} value {name!r}; valid values: {', '.join(valid)}")
    return list(dict.fromkeys(names))


def parse_gates(specs: Sequence[str], k: int) -> list[Gate]:
    """``metric=value`` specs of --fail-under, checked against the figures a run reports."""
    from evaluation.figures import gate_names

    valid = gate_names(k)
    gates = []
    for spec in specs:
        name, sep, raw = spec.rpartition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(f"--fail-under takes METRIC=VALUE, got {spec!r}")
        if name not in valid:
            raise ConfigError(f"unknown metric {name!r} for --fail-under; valid names: {', '.join(valid)}")
        try:
            gates.append(Gate(name, float(raw)))
        except ValueError:
            raise ConfigError(f"--fail-under {name}: {raw.strip()!r} is not a number") from None
    return gates


def check_gates(gates: Sequence[Gate], summary: dict[str, Any]) -> list[str]:
    """One line for each gate the summary fails (a figure with no value fails: the gate cannot vouch for it)."""
    from evaluation.figures import figure

    failed = []
    for gate in gates:
        value, n = figure(summary, gate.name)
        if value is None:
            failed.append(f"fail-under: {gate.name} has no value (no question to compute it on)")
        elif value < gate.threshold:
            failed.append(f"fail-under: {gate.name} = {value:.3f} (n={n}) is below {gate.threshold:g}")
    return failed


def output_folder(out: Path | None, now: datetime) -> tuple[Path, list[Path]]:
    """The folder to write to, created: --out, or a new ./eval-runs/<UTC time> (suffixed if two share a second).

    Also the folders this call created, deepest first, so that a run that fails can leave nothing behind.
    """
    if out is not None:
        folder = out
    else:
        base = Path.cwd() / RUNS_DIR / now.strftime("%Y-%m-%dT%H-%M-%SZ")
        folder, n = base, 1
        while folder.exists():
            n += 1
            folder = base.with_name(f"{base.name}-{n}")
    created = []
    for path in (folder, *folder.parents):
        if path.exists():
            break
        created.append(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the output folder {folder}: {exc.strerror or exc}") from None
    return folder, created


def run(args: argparse.Namespace) -> int:
    """Run the evaluation the arguments describe; 0 when done, 1 when a --fail-under gate fails, 2 on an error."""
    return at_the_edge(evaluate, args)


def evaluate(args: argparse.Namespace) -> int:
    """The evaluation itself; errors reach the caller as EumaError."""
    from evaluation import compare, export, report
    from evaluation.dataset import load_qa
    from evaluation.runner import select

    if args.k < 1:
        raise ConfigError(f"--k must be at least 1, not {args.k}")
    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit must be at least 1, not {args.limit}")
    extra = [p for p in _names(args.pipeline, PIPELINES, "--pipeline") if p != "assistant"]
    if "naive" in extra:
        from evaluation.naive import missing_packages

        if missing := missing_packages():
            raise ConfigError(f"--pipeline naive needs {', '.join(missing)}: pip install -e '.[eval]'")
    exports = _names(args.export, EXPORTS, "--export")
    gates = parse_gates(args.fail_under, args.k)
    old = compare.load_run(args.compare) if args.compare is not None else None

    items, malformed = load_qa(args.qa_file)
    for error in malformed:
        print(error, file=sys.stderr)
    if not items:
        raise ConfigError(f"no valid questions in {args.qa_file} ({len(malformed)} malformed rows)")
    if args.tag:
        wanted = set(args.tag)
        items = [item for item in items if wanted & set(item.tags)]
        if not items:
            raise ConfigError(f"no question in {args.qa_file} has the tag(s) {', '.join(args.tag)}")
    items = select(items, limit=args.limit, seed=args.seed)

    started = datetime.now(UTC)
    settings = from_args(args)
    folder, created = output_folder(args.out, started)  # before answering: a bad --out must not cost a whole run
    if not args.quiet:
        names = ", ".join(["assistant", *extra])
        print(f"evaluating {len(items)} questions with {names}; results go to {folder}", file=sys.stderr)
    try:
        runs, references, location = _answer(args, settings, items, extra, exports)
    except BaseException:
        for path in created:
            if not any(path.iterdir()):
                path.rmdir()
        raise

    summary: dict[str, Any] = {
        "dataset": str(args.qa_file),
        "questions": len(items),
        "k": args.k,
        "composer": settings.composer,
        "embedding_model": settings.embedding_model,
        "store": location,
        "collection": settings.collection,
        "top_k": settings.top_k,
        "relevance_floor": settings.relevance_floor,
        "date": started.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "tags": list(args.tag),
        "limit": args.limit,
        "seed": args.seed,
        "pipelines": {r.name: r.summary() for r in runs},
        "malformed": [{"line": e.line, "message": e.message} for e in malformed],
    }
    tagged = {r.name: [{"pipeline": r.name, **row} for row in r.rows] for r in runs}
    with (folder / "results.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for group in tagged.values() for row in group)
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    comparison = None
    if old is not None:
        comparison = compare.compare(old[0], old[1], summary, tagged, old_label=str(args.compare))
    report.write(folder, summary, tagged, comparison)
    for fmt in exports:
        export.write(folder, fmt, tagged, references)

    if not args.quiet:
        print(_figures_text(summary))
        if comparison is not None:
            print(compare.text(comparison))
    print(f"results: {folder} (report.html, report.md, summary.json, results.jsonl)")
    failed = check_gates(gates, summary["pipelines"]["assistant"])
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


def _answer(
    args: argparse.Namespace, settings: Settings, items: list[QAItem], extra: list[str], exports: list[str]
) -> tuple[list[PipelineRun], dict[str, list[str]], str]:
    """Open the store, answer and score every item with every pipeline; also the reference texts for exports."""
    from tqdm import tqdm

    from assistant.service import Assistant
    from evaluation.export import reference_texts
    from evaluation.runner import AssistantPipeline, Pipeline, Scorer, run
    from vectorstore.store import Store

    store = Store(settings)
    naive: Any = None  # the baseline, when asked for
    try:
        store.open()
        assistant = Assistant(settings, store=store)
        assistant.warm_up()  # load the model and the lexical index before the first question is timed
        pipelines: list[Pipeline] = [AssistantPipeline(assistant)]
        if "naive" in extra:
            from evaluation.naive import NaivePipeline

            naive = NaivePipeline(store, settings)
            if not args.quiet:
                print("building the baseline's index of 1000-character splits...", file=sys.stderr)
            naive.index  # noqa: B018 - built here so that the progress bar does not stall on it
            pipelines.append(naive)
        scorer = Scorer(store.embedder, assistant.verifier, k=args.k)
        with tqdm(total=len(items) * len(pipelines), unit="q", disable=args.quiet, file=sys.stderr) as bar:

            def progress(done: int, total: int, name: str) -> None:
                bar.set_postfix_str(name, refresh=False)
                bar.update(done - bar.n)

            runs = run(pipelines, items, scorer, progress=progress)
        references: dict[str, list[str]] = {}
        if exports:
            chunks = store.get_chunks(store.all_chunk_ids())
            references = reference_texts([row for r in runs for row in r.rows], chunks)
        return runs, references, store.location
    finally:
        if naive is not None:
            naive.close()
        store.close()


def _figures_text(summary: dict[str, Any]) -> str:
    """The figures with a value, one line each, pipelines side by side."""
    from evaluation.tables import figures_table

    header, rows = figures_table(summary)
    shown = [row for row in rows if any(not cell.startswith("—") for cell in row[1:])]
    widths = [max(len(str(r[i])) for r in [header, *shown]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [header, *shown]]
    return "\n".join(lines)
