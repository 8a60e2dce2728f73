"""A persistent lexical (BM25) index of the stored chunks in SQLite FTS5, kept in step with the vector index.

The index holds Snowball-stemmed terms (see ``vectorstore.text.terms``), so "application" meets "applications"
and "applied" meets "applying" (though Snowball keeps "applic-" and "appli-" apart). SQLite updates it
incrementally and nothing is rebuilt in memory at start-up; bench/lexical_bench.py measures it at 100,000 chunks.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vectorstore.records import Chunk
from vectorstore.text import terms

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunk_rows (
    rowid INTEGER PRIMARY KEY,
    id TEXT UNIQUE NOT NULL,
    doc_id TEXT NOT NULL,
    doctype TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '',
    source_url TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    doc_hash TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS chunk_rows_doc ON chunk_rows(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_terms USING fts5(heading, body, tokenize = 'unicode61');
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# Heading terms count double: a section's heading says what it is about.
HEADING_WEIGHT = 2.0
BODY_WEIGHT = 1.0


@dataclass(frozen=True)
class LexicalHit:
    """A chunk id with its BM25 score (higher is better)."""

    id: str
    score: float


class LexicalIndex:
    """BM25 over chunk terms in one SQLite file; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def upsert(self, chunks: Iterable[Chunk]) -> None:
        """Add chunks, replacing any stored under the same ids."""
        with self._transaction() as db:
            for chunk in chunks:
                self._delete_ids(db, [chunk.id])
                cursor = db.execute(
                    "INSERT INTO chunk_rows (id, doc_id, doctype, tags, source_url, url, doc_hash) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (chunk.id, chunk.doc_id, chunk.doctype, chunk.tags, chunk.source_url, chunk.url, chunk.doc_hash),
                )
                db.execute(
                    "INSERT INTO chunk_terms (rowid, heading, body) VALUES (?, ?, ?)",
                    (cursor.lastrowid, " ".join(terms(chunk.heading_path)), " ".join(terms(chunk.text))),
                )

    def delete(self, ids: Sequence[str]) -> None:
        """Remove chunks by id (unknown ids are ignored)."""
        with self._transaction() as db:
            self._delete_ids(db, ids)

    @staticmethod
    def _delete_ids(db: sqlite3.Connection, ids: Sequence[str]) -> None:
        for chunk_id in ids:
            row = db.execute("SELECT rowid FROM chunk_rows WHERE id = ?", (chunk_id,)).fetchone()
            if row is not None:
                db.execute("DELETE FROM chunk_terms WHERE rowid = ?", (row[0],))
                db.execute("DELETE FROM chunk_rows WHERE rowid = ?", (row[0],))

    def ids(self) -> set[str]:
        """Every chunk id in the index."""
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT id FROM chunk_rows")}

    def doc_hashes(self) -> dict[str, set[str]]:
        """For each page, the content hashes its indexed chunks were written with (one, when in step)."""
        out: dict[str, set[str]] = {}
        with self._lock:
            for doc_id, doc_hash in self._db.execute("SELECT DISTINCT doc_id, doc_hash FROM chunk_rows"):
                out.setdefault(doc_id, set()).add(doc_hash)
        return out

    def count(self) -> int:
        """Number of chunks in the index."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM chunk_rows").fetchone()[0])

    def search(
        self, query: str, *, limit: int = 20, doc_ids: Sequence[str] | None = None, doctype: str | None = None
    ) -> list[LexicalHit]:
        """The best chunks for ``query`` by BM25, optionally only among some documents or one document type."""
        query_terms = sorted(set(terms(query)))
        if not query_terms:
            return []
        match = " OR ".join(f'"{term}"' for term in query_terms)
        sql = (
            "SELECT r.id, bm25(chunk_terms, ?, ?) AS rank FROM chunk_terms "
            "JOIN chunk_rows r ON r.rowid = chunk_terms.rowid WHERE chunk_terms MATCH ?"
        )
        params: list[object] = [HEADING_WEIGHT, BODY_WEIGHT, match]
        if doc_ids is not None:
            sql += f" AND r.doc_id IN ({','.join('?' * len(doc_ids))})"
            params.extend(doc_ids)
        if doctype is not None:
            sql += " AND r.doctype = ?"
            params.append(doctype)
        sql += " ORDER BY rank LIMIT ?"
        params.append(limit)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        # SQLite's bm25() is lower-is-better; flip it so every score in the project is higher-is-better.
        return [LexicalHit(id=row[0], score=-float(row[1])) for row in rows]

    def get_state(self, key: str) -> str | None:
        """A value remembered beside the index (e.g. the store generation it was synced to)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_state(self, key: str, value: str) -> None:
        """Remember a value beside the index."""
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", (key, value))
