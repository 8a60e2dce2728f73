"""The chat's thumbs up/down, kept in a local SQLite file with the question, the answer and its citations.

Nothing about the person is stored: no IP address, user agent, session or account; the time is the UTC date only.
"""

from __future__ import annotations

import datetime as dt
import json
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


class FeedbackError(ValueError):
    """Feedback that cannot be stored as given (a bad rating, an over-long comment)."""


def _checked(rating: int, comment: str) -> tuple[int, str]:
    if rating not in (-1, 1):
        raise FeedbackError(f"rating must be 1 or -1, not {rating!r}")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise FeedbackError(f"the comment is too long ({len(comment):,} characters; at most {MAX_COMMENT_CHARS:,})")
    return rating, comment


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
                    question,
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
