"""Find word runs that a text shares with the reference material, so corpus pages stay our own prose.

Run as ``python -m tests.originality FILE...`` to check pages while writing them.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

RUN_LENGTH = 12
SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Lower-case word tokens, the unit in which copied runs are counted."""
    return _WORD.findall(text.lower())


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def reference_texts(shared: Path = SHARED_DIR) -> Iterator[str]:
    """Every text of the shared reference and seed folders (JSON string values included)."""
    for folder in (shared / "reference", shared / "seed"):
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.name == "README.md":
                continue
            raw = path.read_text(encoding="utf-8", errors="ignore")
            if path.suffix == ".json":
                try:
                    yield from _strings(json.loads(raw))
                except json.JSONDecodeError:
                    yield raw
            else:
                yield raw


def shingles(texts: Iterable[str], n: int = RUN_LENGTH) -> set[str]:
    """All runs of ``n`` consecutive words in ``texts``."""
    out: set[str] = set()
    for text in texts:
        w = words(text)
        out.update(" ".join(w[i : i + n]) for i in range(len(w) - n + 1))
    return out


def copied_runs(text: str, reference: set[str], n: int = RUN_LENGTH) -> list[str]:
    """The runs of ``n`` words of ``text`` that also stand in the reference material."""
    w = words(text)
    return [" ".join(w[i : i + n]) for i in range(len(w) - n + 1) if " ".join(w[i : i + n]) in reference]


def main(argv: list[str]) -> int:
    if not SHARED_DIR.is_dir():
        print(f"no reference folder at {SHARED_DIR}; nothing to compare against")
        return 0
    reference = shingles(reference_texts())
    status = 0
    for name in argv:
        runs = copied_runs(Path(name).read_text(encoding="utf-8"), reference)
        for run in runs:
            print(f"{name}: copied run: {run}")
        status |= bool(runs)
    if not status:
        print(f"{len(argv)} file(s): no run of {RUN_LENGTH} words shared with the reference material")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
