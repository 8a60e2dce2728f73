"""Prompt and message templates, one file each, loaded once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


@cache
def load(name: str) -> str:
    """The text of ``<name>.txt`` in this folder, without its final newline."""
    return (FOLDER / f"{name}.txt").read_text(encoding="utf-8").rstrip("\n")


def refusal(reason: str) -> str:
    """The message shown for a refusal of the given reason, with the official channels."""
    return f"{load(f'refusal_{reason}')}\n{load('official_channels')}"
