"""``python -m assistant ask "QUESTION"`` answers from the ingested sources with verified citations;
``python -m assistant eval QA_FILE`` runs a QA set and reports the figures (an alias of ``python -m evaluation``)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from assistant.conversation import Turn
from assistant.errors import at_the_edge
from assistant.retrieve import Filters
from common.errors import EumaError
from common.settings import ANSWER_FLAGS, STORE_FLAGS, add_arguments, from_args


def _quiet_logs(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")
    for noisy in ("httpx", "chromadb", "sentence_transformers", "transformers", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)


def build_parser() -> argparse.ArgumentParser:
    """The assistant's command line."""
    parser = argparse.ArgumentParser(prog="python -m assistant", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ask = commands.add_parser("ask", help="answer one question", description="Answer one question, with sources.")
    ask.add_argument("question", help="the question (or, with --draft, the citizen's message; '-' reads stdin)")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument("--draft", action="store_true", help="write a helpdesk reply to the message")
    ask.add_argument("--history", type=Path, help="JSON file of earlier turns: [{'role': 'user', 'content': ...}]")
    ask.add_argument("--tag", action="append", default=[], help="only pages with this topic tag (repeatable)")
    ask.add_argument("--page", action="append", default=[], help="only this page (address or title; repeatable)")
    ask.add_argument("--source", action="append", default=[], help="only pages summarising this official address")
    ask.add_argument("--verbose", action="store_true", help="log what happens")
    add_arguments(ask, STORE_FLAGS + ANSWER_FLAGS + ("draft_tone", "draft_signoff"))
    # Listed for --help only: main() hands everything after "eval" to the evaluation's own parser.
    commands.add_parser("eval", help="run a QA set and report the figures (python -m evaluation)", add_help=False)
    return parser


def read_history(path: Path | None) -> list[Turn]:
    """Earlier turns from a JSON file (a list of {role, content}, or of strings alternating user/assistant)."""
    if path is None:
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EumaError(f"cannot read the history file {path}: {exc}") from exc
    if not isinstance(data, list):
        raise EumaError(f"the history file {path} must hold a JSON list of turns")
    turns = []
    for i, item in enumerate(data):
        if isinstance(item, str):
            turns.append(Turn("user" if i % 2 == 0 else "assistant", item))
        elif isinstance(item, dict) and isinstance(item.get("content"), str):
            turns.append(Turn(str(item.get("role", "user")), item["content"]))
        else:
            raise EumaError(f"turn {i + 1} of {path} is neither text nor {{'role', 'content'}}")
    return turns


def ask(args: argparse.Namespace) -> int:
    """Answer (or draft), print, and return the exit code."""
    from assistant.service import Assistant

    settings = from_args(args)
    question = sys.stdin.read() if args.question == "-" else args.question
    assistant = Assistant(settings)
    filters = Filters(tags=tuple(args.tag), pages=tuple(args.page), sources=tuple(args.source))
    history = read_history(args.history)
    try:
        if args.draft:
            draft = assistant.draft(question, history=history, filters=filters)
            if args.json:
                print(json.dumps({"draft": draft.text, "answer": draft.answer.to_dict()}, indent=2, ensure_ascii=False))
            else:
                print(draft.text)
            return 0
        answer = assistant.ask(question, history=history, filters=filters)
    finally:
        assistant.store.close()
    if args.json:
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(answer.shown_text if answer.quotes else answer.text)
        if answer.citations:
            print(f"\nSources:\n{answer.sources_text()}")
    return 0


def evaluate(argv: list[str]) -> int:
    """``eval ...``: the evaluation's command line, imported only when asked for."""
    from evaluation.command import main as evaluation_main

    return evaluation_main(argv, prog="python -m assistant eval")


def main(argv: list[str] | None = None) -> int:
    """Run a command; one clear line and exit code 2 on bad input, configuration or store errors."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["eval"]:
        return evaluate(argv[1:])
    args = build_parser().parse_args(argv)
    _quiet_logs(getattr(args, "verbose", False))
    return at_the_edge(ask, args)


if __name__ == "__main__":
    sys.exit(main())
