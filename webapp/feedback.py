"""The chat's thumbs up/down, kept in a local SQLite file with the question, the answer and its citations.

Nothing about the person is stored: no IP address, user agent, session or account; the time is the UTC date only.
E-mail addresses, phone numbers and document-like numbers (passports, permits, IBANs) in the comment and the question
are masked before they are written ("[email]", "[phone]", "[number]").
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

from assistant.answer import Answer

MAX_COMMENT_CHARS = 2000
SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    created_on TEXT NOT NULL,            -- UTC date (YYYY-MM-DD), no time of day
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL,
    citations TEXT NOT NULL,             -- JSON list: n, title, url, section, last_updated, source_url
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    comment TEXT NOT NULL DEFAULT ''
)
"""


_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
# International (+ or 00), national (a leading 0, maybe in brackets) and North American numbers, with the usual
# separators; at least 7 digits, so that a year, an article or "2024/1347" is left alone.
_PHONE = re.compile(
    r"(?<![\w+/.-])(?:(?:\+|00)\d[\d ().\-/]{5,}\d|\(?0\d[\d ().\-/]{5,}\d|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4})(?![\w/])"
)
_DATE = re.compile(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}[./-]\d{1,2}[./-]\d{1,2}")
# A passport, permit, case or national ID number: letters and digits with five or more digits, or six or more
# digits on their own (amounts with separators, years and article numbers have fewer in a row).
_DOCUMENT = re.compile(r"\b(?=[A-Z0-9-]*\d(?:[A-Z-]*\d){4})[A-Z0-9]+(?:-[A-Z0-9]+)*\b", re.IGNORECASE)


def _phone(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = sum(ch.isdigit() for ch in found)
    if digits < 7 or digits > 15 or _DATE.fullmatch(found.strip("()")):
        return found
    return "[phone]"


def _document(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = sum(ch.isdigit() for ch in found)
    if (found.isdigit() and digits < 6) or _DATE.fullmatch(found):
        return found
    return "[number]"


def mask_personal(text: str) -> str:
    """Text with e-mail addresses, phone numbers and document-like numbers replaced by [email], [phone], [number]."""
    text = _EMAIL.sub("[email]", text)
    text = _IBAN.sub("[number]", text)
    text = _PHONE.sub(_phone, text)
    return _DOCUMENT.sub(_document, text)


class FeedbackError(ValueError):
    """Feedback that cannot be stored as given (a bad rating, an over-long comment)."""


def _checked(rating: int, comment: str) -> tuple[int, str]:
    if rating not in (-1, 1):
        raise FeedbackError(f"rating must be 1 or -1, not {rating!r}")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise FeedbackError(f"the comment is too long ({len(comment):,} characters; at most {MAX_COMMENT_CHARS:,})")
    return rating, mask_personal(comment)


class FeedbackStore:
    """The feedback table in one SQLite file (created on first write); safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=10)
        if not self._ready:
            connection.execute(SCHEMA)
            connection.commit()
            self._ready = True
        return connection

    def add(
        self, question: str, answer: Answer, rating: int, comment: str = "", *, today: dt.date | None = None
    ) -> int:
        """Store a rating of an answer; returns its row id (to change the rating later)."""
        rating, comment = _checked(rating, comment)
        citations = [
            {
                "n": c.n,
                "title": c.title,
                "url": c.url,
                "section": c.section,
                "last_updated": c.last_updated,
                "source_url": c.source_url,
            }
            for c in answer.citations
        ]
        day = (today or dt.datetime.now(dt.UTC).date()).isoformat()
        with self._lock, closing(self._connect()) as db, db:
            cursor = db.execute(
                "INSERT INTO feedback (created_on, question, answer, refused, citations, rating, comment)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    day,
                    mask_personal(question),
                    answer.text,
                    int(answer.refused),
                    json.dumps(citations, ensure_ascii=False),
                    rating,
                    comment,
                ),
            )
            return int(cursor.lastrowid or 0)

    def update(self, row_id: int, rating: int, comment: str = "") -> None:
        """Change a stored rating and comment (the visitor changed their mind)."""
        rating, comment = _checked(rating, comment)
        with self._lock, closing(self._connect()) as db, db:
            db.execute("UPDATE feedback SET rating = ?, comment = ? WHERE id = ?", (rating, comment, row_id))

    def rows(self) -> list[dict[str, Any]]:
        """Every stored rating, oldest first, citations decoded."""
        if not self.path.exists():
            return []
        with self._lock, closing(self._connect()) as db:
            db.row_factory = sqlite3.Row
            found = [dict(row) for row in db.execute("SELECT * FROM feedback ORDER BY id")]
        for row in found:
            row["citations"] = json.loads(row["citations"])
        return found
