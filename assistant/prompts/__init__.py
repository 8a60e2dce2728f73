"""Prompt and message templates, one file each, loaded once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


@cache
def load(name: str) -> str:
    """The text of ``<name>.txt`` in this folder, without its final newline."""
    return (FOLDER / f"{name}.txt").read_text(encoding="utf-8").rstrip("\n")


def refusal(reason: str, language: str = "en") -> str:
    """The message shown for a refusal of the given reason, with the official channels, in ``language``."""
    from assistant import messages

    return f"{messages.text(f'refusal_{reason}', language)}\n{messages.text('official_channels', language)}"
