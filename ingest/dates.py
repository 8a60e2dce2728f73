"""Find the date a page says it was last updated, in the forms EU sites write it."""

from __future__ import annotations

import datetime as dt
import re

MONTHS = {
    m: i + 1
    for i, m in enumerate(
        "january february march april may june july august september october november december".split()
    )
}
_TEXT_DATE = re.compile(
    r"\b(\d{1,2})\s+(" + "|".join(MONTHS) + r")\s+(\d{4})\b|\b(" + "|".join(MONTHS) + r")\s+(\d{1,2}),\s+(\d{4})\b",
    re.IGNORECASE,
)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})")
_DOTTED_DATE = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b")
UPDATED_PHRASE = re.compile(
    r"(last\s+updated?(?:\s+on)?|page\s+updated(?:\s+on)?|last\s+modified(?:\s+on)?|last\s+reviewed(?:\s+on)?|updated\s+on)\s*:?\s*",
    re.IGNORECASE,
)


def _make(year: int, month: int, day: int) -> str | None:
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return None
    return date.isoformat() if 1990 <= date.year <= 2100 else None


def parse_date(text: str) -> str | None:
    """The first date in ``text`` as ISO ``YYYY-MM-DD`` ("5 February 2026", "2026-02-05", "05/02/2026"), or None."""
    if m := _ISO_DATE.search(text):
        return _make(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _TEXT_DATE.search(text):
        if m.group(1):
            return _make(int(m.group(3)), MONTHS[m.group(2).lower()], int(m.group(1)))
        return _make(int(m.group(6)), MONTHS[m.group(4).lower()], int(m.group(5)))
    if m := _DOTTED_DATE.search(text):  # EU sites write day first
        return _make(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    return None


def updated_in_text(text: str) -> str | None:
    """The date after a "last updated" phrase in running text, or None."""
    for match in UPDATED_PHRASE.finditer(text):
        date = parse_date(text[match.end() : match.end() + 40])
        if date:
            return date
    return None
