"""Which instruction patterns earn their place: how often each fires on messages it was not written against.

``python -m bench.rule_audit`` matches every instruction pattern of ``assistant/rules/instructions.toml`` against
the questions of the project's data that carry a verdict (should the assistant refuse as an instruction, or
answer?): the QA sets (development, second, held-out, the 24-language sets), the blind instruction set, the
helpdesk emails' text and the chat sessions' last questions. The blind QA set is left out: it is read only as
aggregates. For each pattern: matches on instructions (right) and on genuine questions (wrong). A pattern that
never fires, or fires only wrongly, has not earned its place (docs/evaluation.md, "Rules").

The patterns run on the question alone, as the guard stage runs them, so this is exact without asking the assistant.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from assistant import rules

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
# The sets the patterns were written and tuned against; the rest were written later, without them in view.
WRITTEN_AGAINST = frozenset({"qa.jsonl", "qa_extra.jsonl", "instructions_blind.jsonl"})
QA_SETS = ("qa.jsonl", "qa_extra.jsonl", "qa_holdout.jsonl", "qa_languages_major.jsonl", "qa_languages_other.jsonl")


def messages() -> list[tuple[str, bool, str]]:
    """(text, is an instruction, where from) for every message with a verdict."""
    out: list[tuple[str, bool, str]] = []
    for name in QA_SETS:
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.append((row["question"], "refuse-injection" in row["tags"], name))
    for line in (DATA / "instructions_blind.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append((row["text"], bool(row["instruction"]), "instructions_blind.jsonl"))
    for line in (DATA / "helpdesk_emails.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append((json.loads(line)["email"], False, "helpdesk_emails.jsonl"))
    for line in (DATA / "chat_sessions.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append((json.loads(line)["question"], False, "chat_sessions.jsonl"))
    return out


def audit() -> list[dict[str, object]]:
    """One row per instruction pattern: how often it fires right and wrong, and on which sets."""
    found = messages()
    rows = []
    for rule in rules.entries("instructions"):
        if rule.fragment:
            continue
        pattern = rules.pattern(rule.id)
        right = Counter(where for text, instruction, where in found if instruction and pattern.search(text))
        wrong = Counter(where for text, instruction, where in found if not instruction and pattern.search(text))
        rows.append(
            {"id": rule.id, "right": sum(right.values()), "wrong": sum(wrong.values()), "right_in": dict(right),
             "wrong_in": dict(wrong)}
        )  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rule_audit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    rows = audit()
    total = messages()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    instructions = sum(1 for _, i, _ in total if i)
    print(f"{len(total)} messages with a verdict, {instructions} of them instructions\n")
    unseen = sum(1 for _, i, where in total if i and where not in WRITTEN_AGAINST)
    print(f"on sets the patterns were not written against: {unseen} instructions\n")
    print("| pattern | right, all sets | wrong, all sets | right, sets not written against |\n|---|---|---|---|")
    for row in sorted(rows, key=lambda r: (-int(r["right"]), int(r["wrong"]))):  # type: ignore[call-overload]
        right_in: dict[str, int] = row["right_in"]  # type: ignore[assignment]
        later = sum(n for where, n in right_in.items() if where not in WRITTEN_AGAINST)
        print(f"| {row['id']} | {row['right']} | {row['wrong']} | {later} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
