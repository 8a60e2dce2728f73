"""Real messages: helpdesk emails and chat sessions, written from the pages for this purpose.

``python -m bench.conversation_bench`` drafts a reply to every email of ``tests/data/helpdesk_emails.jsonl`` and
answers the last question of every session of ``tests/data/chat_sessions.jsonl`` after its history, then reports:

- helpdesk: the share of the answer keys of the asks the pages cover that the draft holds; how many drafts were
  refusals only; how many asks the pages do not cover were named as such; greetings that use the signed name;
  drafts that show a path inside the installation instead of an official address;
- chat: how often the follow-up decision was right (follow-up or new question), and how often the answer cited the
  page the last question is about.

It writes bench/results/conversation.json. Figures go in docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from assistant.conversation import Turn
from assistant.service import Assistant
from common.settings import Settings

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
RESULTS = Path(__file__).resolve().parent / "results"


def _has(text: str, key: str) -> bool:
    folded = " ".join(text.split()).casefold()
    return any(" ".join(alt.split()).casefold() in folded for alt in key.split("|"))


def helpdesk(assistant: Assistant) -> dict[str, Any]:
    """Draft every email and score the drafts."""
    rows = [json.loads(line) for line in (DATA / "helpdesk_emails.jsonl").read_text(encoding="utf-8").splitlines()]
    covered = keys_found = 0.0
    uncovered = named = refused = signed = greeted = internal = 0
    for row in rows:
        draft = assistant.draft(row["email"])
        refused += draft.answer.refused
        internal += "corpus/pages/" in draft.text
        if row["signed_name"]:
            signed += 1
            greeted += row["signed_name"].split()[0] in draft.greeting
        for ask in row["asks"]:
            if ask["covered"]:
                covered += 1
                keys_found += sum(_has(draft.body, k) for k in ask["answer_keys"]) / len(ask["answer_keys"])
            else:
                uncovered += 1
        named += sum(1 for item in draft.asks if item.answer.refused and item.ask.strip() in draft.body)
    return {
        "emails": len(rows),
        "covered_asks": int(covered),
        "key_share_of_covered_asks": round(keys_found / covered, 3) if covered else None,
        "drafts_refused_whole": refused,
        "uncovered_asks": uncovered,
        "asks_named_as_not_covered": named,
        "greeted_by_signed_name": f"{greeted}/{signed}",
        "drafts_with_internal_paths": internal,
    }


def chat(assistant: Assistant) -> dict[str, Any]:
    """Answer every session's last question after its history and score the follow-up decision and the page."""
    rows = [json.loads(line) for line in (DATA / "chat_sessions.jsonl").read_text(encoding="utf-8").splitlines()]
    decided = {"follow-up": [0, 0], "switch": [0, 0]}
    right_page = {"follow-up": [0, 0], "switch": [0, 0]}
    for row in rows:
        answer = assistant.ask(row["question"], history=[Turn(**t) for t in row["history"]])
        step = next(s for s in answer.trace if s["stage"] == "follow-up") if answer.trace else {}
        said = "follow-up" if step.get("decision") == "follow-up" else "switch"
        kind = row["kind"]
        decided[kind][0] += said == kind
        decided[kind][1] += 1
        pages = {s.split("#")[0].rsplit("/", 1)[-1] for s in row["reference_sources"]}
        cited = {c.url.split("#")[0].rsplit("/", 1)[-1] for c in answer.citations}
        right_page[kind][0] += bool(pages & cited)
        right_page[kind][1] += 1
    return {
        "sessions": len(rows),
        "decision_right": {k: f"{a}/{n}" for k, (a, n) in decided.items()},
        "answered_from_the_right_page": {k: f"{a}/{n}" for k, (a, n) in right_page.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.conversation_bench", description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    assistant = Assistant(Settings.from_env())
    result = {"helpdesk": helpdesk(assistant), "chat": chat(assistant)}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "conversation.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
