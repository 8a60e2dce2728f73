"""The assistant's own words in the 24 official EU languages: one JSON file per language, loaded once.

Every message the assistant writes itself (refusals, the official channels, the note that an answer is quoted from
English sources, helpdesk greetings and closings, the app's labels) is looked up here by key and language code.
A language without a file, or a file without the key, gives the English text.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent
DEFAULT = "en"


@cache
def catalogue(language: str) -> dict[str, Any]:
    """The messages of one language (empty when the project has none for it)."""
    path = FOLDER / f"{language}.json"
    if not language.isalpha() or not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def languages() -> list[str]:
    """The codes of the languages the assistant speaks, English first."""
    codes = sorted(p.stem for p in FOLDER.glob("*.json"))
    return [DEFAULT, *(c for c in codes if c != DEFAULT)]


def text(key: str, language: str = DEFAULT, **values: str) -> str:
    """The message ``key`` in ``language`` (English where it is missing), its placeholders filled in."""
    value = catalogue(language).get(key) or catalogue(DEFAULT)[key]
    return str(value).format(**values) if values else str(value)


def examples(language: str = DEFAULT) -> list[str]:
    """The example questions shown in the chat, in ``language``."""
    return list(catalogue(language).get("examples") or catalogue(DEFAULT)["examples"])


def language_name(language: str) -> str:
    """The language's name for itself ("Français"), or its code when the project has no messages in it."""
    return str(catalogue(language).get("language_name") or language)
