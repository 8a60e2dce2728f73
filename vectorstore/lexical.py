"""A persistent lexical (BM25) index of the stored chunks in SQLite FTS5, kept in step with the vector index.

The index holds Snowball-stemmed terms (see ``common.text.terms``), so "application" meets "applications"
and "applied" meets "applying" (though Snowball keeps "applic-" and "appli-" apart). SQLite updates it
incrementally and nothing is rebuilt in memory at start-up; bench/lexical_bench.py measures it at 100,000 chunks.

Beside the full-text table the file keeps how many chunks hold each term and the index's totals, so that a search
can tell common terms from rare ones before it runs (see ``LexicalIndex.search``), and one row per page for the
filters by tag, page and source. A file written with another layout (``SCHEMA_VERSION``) is emptied when opened;
it has then no ``generation`` state, so the store re-syncs it.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from common.text import terms
from vectorstore.records import Chunk

log = logging.getLogger(__name__)

# Kept in the file's user_version; change it with the layout below and old files are rebuilt.
SCHEMA_VERSION = 2

_TABLES = (
    """CREATE TABLE chunk_rows (
        rowid INTEGER PRIMARY KEY,
        id TEXT UNIQUE NOT NULL,
        doc_id TEXT NOT NULL,
        doctype TEXT NOT NULL DEFAULT '',
        doc_hash TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX chunk_rows_doc ON chunk_rows(doc_id)",
    "CREATE INDEX chunk_rows_doctype ON chunk_rows(doctype)",
    "CREATE VIRTUAL TABLE chunk_terms USING fts5(heading, body, tokenize = 'unicode61')",
    # One row per page, for the filters by page: fewer rows to read than one per chunk.
    """CREATE TABLE pages (
        doc_id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        url TEXT NOT NULL,
        tags TEXT NOT NULL,
        source_url TEXT NOT NULL,
        chunks INTEGER NOT NULL
    ) WITHOUT ROWID""",
    "CREATE TABLE term_chunks (term TEXT PRIMARY KEY, chunks INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE totals (chunks INTEGER NOT NULL, tokens INTEGER NOT NULL)",
    "INSERT INTO totals VALUES (0, 0)",
    "CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
# Every table of this or an earlier layout, dropped before the current layout is created.
_ALL_TABLES = ("chunk_terms", "chunk_rows", "pages", "term_chunks", "totals", "state")

# Heading terms count double: a section's heading says what it is about.
HEADING_WEIGHT = 2.0
BODY_WEIGHT = 1.0
# FTS5's bm25() constants, which the re-scoring of candidates must share.
_K1 = 1.2
_B = 0.75
_IDF_FLOOR = 1e-6

# A search matches at most about this many chunks' worth of terms with FTS5 (see LexicalIndex.search) ...
SCORE_BUDGET = 20_000
# ... and then scores this many of the best matches with the terms it left out.
RESCORED = 300

# A filter that leaves at most this many chunks is served by scoring those chunks directly.
SCANNED = 1_000

_BATCH = 500  # ids per statement: well under SQLite's limit on bound parameters


@dataclass(frozen=True)
class LexicalHit:
    """A chunk id with its BM25 score (higher is better)."""

    id: str
    score: float


def _filters(doc_ids: Sequence[str] | None, doctype: str | None) -> tuple[str, list[object]]:
    """An SQL condition on chunk_rows (as ``r``) for the filters, with its parameters; '' for none."""
    conditions: list[str] = []
    params: list[object] = []
    if doc_ids is not None:
        conditions.append(f"r.doc_id IN ({','.join('?' * len(doc_ids))})")
        params.extend(doc_ids)
    if doctype is not None:
        conditions.append("r.doctype = ?")
        params.append(doctype)
    return " AND ".join(conditions), params


@dataclass(frozen=True)
class _Plan:
    """The query's terms held by some chunk, those matched first, and what BM25 needs to score the others."""

    present: list[str]
    first: list[str]
    idf: dict[str, float]
    average_length: float


class LexicalIndex:
    """BM25 over chunk terms in one SQLite file; safe to share between threads."""

    def __init__(self, path: Path, *, score_budget: int | None = SCORE_BUDGET, rescored: int = RESCORED) -> None:
        """Open (or create) the index at ``path``; ``score_budget=None`` matches every query term in every search."""
        self.path = path
        self.score_budget = score_budget
        self.rescored = rescored
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._writes = 0  # writes through this connection; others' show in PRAGMA data_version
        self._vocabulary: dict[str, int] = {}
        self._vocabulary_key: tuple[int, int] | None = None
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        if self._schema_version() != SCHEMA_VERSION:
            self._create()

    def _schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _create(self) -> None:
        with self._transaction() as db:
            version = self._schema_version()  # again, under the write lock: another process may have done it
            if version == SCHEMA_VERSION:
                return
            if version or db.execute("SELECT 1 FROM sqlite_master WHERE name = 'chunk_rows'").fetchone():
                log.info("lexical index %s has layout %d, not %d: rebuilding it", self.path, version, SCHEMA_VERSION)
            for table in _ALL_TABLES:
                db.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in _TABLES:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

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
            self._writes += 1

    # -- writing -------------------------------------------------------------------------------------------------
    def upsert(self, chunks: Iterable[Chunk]) -> None:
        """Add chunks, replacing any stored under the same ids."""
        latest = {chunk.id: chunk for chunk in chunks}  # of one id given twice, the last wins
        if not latest:
            return
        rows = [(chunk, terms(chunk.heading_path), terms(chunk.text)) for chunk in latest.values()]
        held: Counter[str] = Counter()
        for _, heading, body in rows:
            held.update(set(heading).union(body))
        tokens = sum(len(heading) + len(body) for _, heading, body in rows)
        pages: dict[str, tuple[Chunk, int]] = {}
        for chunk in latest.values():
            pages[chunk.doc_id] = (chunk, pages.get(chunk.doc_id, (chunk, 0))[1] + 1)
        with self._transaction() as db:
            self._delete_ids(db, list(latest))
            first = int(db.execute("SELECT coalesce(max(rowid), 0) FROM chunk_rows").fetchone()[0]) + 1
            db.executemany(
                "INSERT INTO chunk_rows (rowid, id, doc_id, doctype, doc_hash) VALUES (?, ?, ?, ?, ?)",
                [(first + n, c.id, c.doc_id, c.doctype, c.doc_hash) for n, (c, _, _) in enumerate(rows)],
            )
            db.executemany(
                "INSERT INTO chunk_terms (rowid, heading, body) VALUES (?, ?, ?)",
                [(first + n, " ".join(heading), " ".join(body)) for n, (_, heading, body) in enumerate(rows)],
            )
            self._count(db, held, len(rows), tokens)
            db.executemany(
                "INSERT INTO pages (doc_id, title, url, tags, source_url, chunks) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (doc_id) DO UPDATE SET title = excluded.title, url = excluded.url, tags = excluded.tags, "
                "source_url = excluded.source_url, chunks = chunks + excluded.chunks",
                [(c.doc_id, c.title, c.url, c.tags, c.source_url, n) for c, n in pages.values()],
            )

    def delete(self, ids: Sequence[str]) -> None:
        """Remove chunks by id (unknown ids are ignored)."""
        if ids:
            with self._transaction() as db:
                self._delete_ids(db, ids)

    def _delete_ids(self, db: sqlite3.Connection, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), _BATCH):
            part = ids[start : start + _BATCH]
            found = db.execute(
                "SELECT r.rowid, r.doc_id, t.heading, t.body FROM chunk_rows r JOIN chunk_terms t ON t.rowid = r.rowid "
                f"WHERE r.id IN ({','.join('?' * len(part))})",
                part,
            ).fetchall()
            if not found:
                continue
            held: Counter[str] = Counter()
            tokens = 0
            for _, _, heading, body in found:
                heading_terms, body_terms = heading.split(), body.split()
                held.update(set(heading_terms).union(body_terms))
                tokens += len(heading_terms) + len(body_terms)
            db.executemany("DELETE FROM chunk_terms WHERE rowid = ?", [(row[0],) for row in found])
            db.executemany("DELETE FROM chunk_rows WHERE rowid = ?", [(row[0],) for row in found])
            self._count(db, Counter({term: -n for term, n in held.items()}), -len(found), -tokens)
            pages = Counter(row[1] for row in found)
            db.executemany("UPDATE pages SET chunks = chunks - ? WHERE doc_id = ?", [(n, d) for d, n in pages.items()])
            db.execute("DELETE FROM pages WHERE chunks <= 0")

    @staticmethod
    def _count(db: sqlite3.Connection, held: Counter[str], chunks: int, tokens: int) -> None:
        """Add to the per-term chunk counts and the totals (negative numbers for removed chunks)."""
        db.executemany(
            "INSERT INTO term_chunks (term, chunks) VALUES (?, ?) "
            "ON CONFLICT (term) DO UPDATE SET chunks = chunks + excluded.chunks",
            [(term, n) for term, n in held.items() if n],
        )
        if chunks < 0:
            db.execute("DELETE FROM term_chunks WHERE chunks <= 0")
        db.execute("UPDATE totals SET chunks = chunks + ?, tokens = tokens + ?", (chunks, tokens))

    # -- reading -------------------------------------------------------------------------------------------------
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

    def doc_ids_matching(
        self, *, tags: Sequence[str] = (), pages: Sequence[str] = (), sources: Sequence[str] = ()
    ) -> set[str]:
        """The pages that pass every filter given: any of ``tags``, one of ``pages`` (address, or title in any
        case), or summarising one of the official ``sources`` (addresses); every page when none is given."""
        conditions: list[str] = []
        params: list[str] = []
        if tags:
            # Tags are stored lower-cased and joined with "; ".
            conditions.append(" OR ".join(["instr('; ' || tags || '; ', '; ' || ? || '; ') > 0"] * len(tags)))
            params.extend(tag.strip().lower() for tag in tags)
        if pages:
            marks = ",".join("?" * len(pages))
            conditions.append(f"url IN ({marks}) OR lower(title) IN ({marks})")
            params.extend([*pages, *(page.strip().lower() for page in pages)])
        if sources:
            conditions.append(f"source_url IN ({','.join('?' * len(sources))})")
            params.extend(sources)
        where = " AND ".join(f"({condition})" for condition in conditions) or "1"
        with self._lock:
            return {row[0] for row in self._db.execute(f"SELECT doc_id FROM pages WHERE {where}", params)}

    def vocabulary(self) -> dict[str, int]:
        """Every indexed term with the number of chunks that hold it (read again only after a write)."""
        with self._lock:
            key = (int(self._db.execute("PRAGMA data_version").fetchone()[0]), self._writes)
            if key != self._vocabulary_key:
                self._vocabulary = dict(self._db.execute("SELECT term, chunks FROM term_chunks").fetchall())
                self._vocabulary_key = key
            return self._vocabulary

    def term_weights(self, stems: Iterable[str]) -> dict[str, float]:
        """How telling each term is: log(1 + N / (1 + chunks holding it)); a term no chunk holds weighs most."""
        vocabulary = self.vocabulary()
        with self._lock:
            total = int(self._db.execute("SELECT chunks FROM totals").fetchone()[0])
        return {stem: math.log(1 + total / (1 + vocabulary.get(stem, 0))) for stem in stems}

    def count(self) -> int:
        """Number of chunks in the index (kept as a running total: no scan)."""
        with self._lock:
            return int(self._db.execute("SELECT chunks FROM totals").fetchone()[0])

    def search(
        self, query: str, *, limit: int = 20, doc_ids: Sequence[str] | None = None, doctype: str | None = None
    ) -> list[LexicalHit]:
        """The best chunks for ``query`` by BM25, optionally only among some documents or one document type.

        The query's terms are OR-ed, and FTS5 scores every chunk that holds one of them: the cost grows with the
        number of chunks the terms are in. So when they are in more than about ``score_budget`` chunks, FTS5
        matches only the rarest terms (as many as fit the budget, and at least one); the ``rescored`` best of those
        matches then get the BM25 share of the terms left out, computed here from the stored terms with FTS5's
        formula, and are ranked by the full score. The terms left out are the most common, which BM25 weighs least
        (a term in over half the chunks gets a weight of 1e-6); a chunk that holds none of the rarest terms, or
        ranks below the ``rescored`` first on them, can be missed. If the rarest terms find fewer than ``limit``
        chunks, the search runs again with every term. bench/lexical_bench.py measures how far the top 10 moves.

        Filters that leave few chunks (at most ``SCANNED``) are served from the metadata: those chunks are scored
        here, on every term, without FTS5.
        """
        if doc_ids is not None and not doc_ids:
            return []
        with self._lock:
            plan = self._plan(query)
            if not plan.present:
                return []
            where, params = _filters(doc_ids, doctype)
            if where:
                rowids = [
                    row[0] for row in self._db.execute(f"SELECT rowid FROM chunk_rows r WHERE {where} LIMIT ?",
                                                       [*params, SCANNED + 1])
                ]  # fmt: skip
                if len(rowids) <= SCANNED:
                    return self._ranked(self._score(plan, plan.present, dict.fromkeys(rowids, 0.0)), limit)
            if plan.first == plan.present:
                return self._ranked(self._match(plan.present, limit, where, params), limit)
            found = self._match(plan.first, max(limit, self.rescored), where, params)
            if len(found) < limit:
                return self._ranked(self._match(plan.present, limit, where, params), limit)
            rest = [term for term in plan.present if term not in plan.first]
            return self._ranked(self._score(plan, rest, found), limit)

    def _plan(self, query: str) -> _Plan:
        wanted = sorted(set(terms(query)))
        held: dict[str, int] = {}
        if wanted:
            held = dict(
                self._db.execute(
                    f"SELECT term, chunks FROM term_chunks WHERE term IN ({','.join('?' * len(wanted))})", wanted
                ).fetchall()
            )
        present = [term for term in wanted if term in held]
        chunks, tokens = self._db.execute("SELECT chunks, tokens FROM totals").fetchone()
        idf = {}
        for term in present:
            # FTS5's idf, floored the same way: a term in over half the chunks would otherwise weigh less than zero.
            value = math.log((chunks - held[term] + 0.5) / (held[term] + 0.5))
            idf[term] = value if value > 0 else _IDF_FLOOR
        by_rarity = sorted(present, key=lambda t: held[t])
        if self.score_budget is None or not present or idf[by_rarity[0]] == _IDF_FLOOR:
            # When even the rarest term is in half the chunks, BM25 gives every term the same floor weight: no term
            # is less telling than the others, so none is left out.
            return _Plan(present, present, idf, tokens / chunks if chunks else 0.0)
        # The chunks the first terms match, estimated as if terms fell into chunks independently; related terms
        # share more chunks than that, so the estimate errs high.
        first: list[str] = []
        missed = 1.0  # the share of chunks that hold none of the first terms
        for term in by_rarity:
            missed_too = missed * (1 - held[term] / chunks)
            if first and chunks * (1 - missed_too) > self.score_budget:
                break
            first.append(term)
            missed = missed_too
        return _Plan(present, sorted(first), idf, tokens / chunks if chunks else 0.0)

    def _match(self, query_terms: Sequence[str], limit: int, where: str, params: list[object]) -> dict[int, float]:
        """Rowid and BM25 score of the best chunks (after the filters) holding any of ``query_terms``, best first."""
        # The weights go to bm25() itself: FTS5's "ORDER BY rank" with a configured rank function sorts every
        # match in full before the limit applies, which measured 40% slower at 100,000 chunks. Without filters the
        # join to chunk_rows waits for the limit (in _ranked), rather than running for every match.
        sql = f"SELECT t.rowid, bm25(chunk_terms, {HEADING_WEIGHT}, {BODY_WEIGHT}) AS score FROM chunk_terms t"
        if where:
            # FTS5 must drive the join: run the other way, or as "rowid IN (...)", it would match once per row.
            sql += f" CROSS JOIN chunk_rows r ON r.rowid = t.rowid WHERE chunk_terms MATCH ? AND {where}"
        else:
            sql += " WHERE chunk_terms MATCH ?"
        sql += " ORDER BY score LIMIT ?"
        match = " OR ".join(f'"{term}"' for term in query_terms)
        # SQLite's bm25() is lower-is-better; flip it so every score in the project is higher-is-better.
        return {rowid: -float(score) for rowid, score in self._db.execute(sql, [match, *params, limit])}

    def _score(self, plan: _Plan, query_terms: Sequence[str], base: dict[int, float]) -> dict[int, float]:
        """Add to each chunk's ``base`` score the BM25 share of ``query_terms``, as FTS5's bm25() computes it.

        The chunks that hold none of ``query_terms`` and have no base score are left out, as FTS5 would.
        """
        out = {}
        rowids = list(base)
        for start in range(0, len(rowids), _BATCH):
            part = rowids[start : start + _BATCH]
            for rowid, heading, body in self._db.execute(
                f"SELECT rowid, heading, body FROM chunk_terms WHERE rowid IN ({','.join('?' * len(part))})", part
            ):
                heading_terms, body_terms = heading.split(), body.split()
                length = _K1 * (1 - _B + _B * (len(heading_terms) + len(body_terms)) / plan.average_length)
                score = base[rowid]
                matched = score > 0
                for term in query_terms:
                    freq = HEADING_WEIGHT * heading_terms.count(term) + BODY_WEIGHT * body_terms.count(term)
                    if freq:
                        score += plan.idf[term] * (freq * (_K1 + 1)) / (freq + length)
                        matched = True
                if matched:
                    out[rowid] = score
        return out

    def _ranked(self, scores: dict[int, float], limit: int) -> list[LexicalHit]:
        """The ``limit`` best of the scored chunks, with their ids."""
        best = sorted(scores, key=lambda rowid: -scores[rowid])[:limit]
        ids = dict(
            self._db.execute(f"SELECT rowid, id FROM chunk_rows WHERE rowid IN ({','.join('?' * len(best))})", best)
        )
        return [LexicalHit(ids[rowid], scores[rowid]) for rowid in best]

    # -- state -----------------------------------------------------------------------------------------------------
    def get_state(self, key: str) -> str | None:
        """A value remembered beside the index (e.g. the store generation it was synced to)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_state(self, key: str, value: str) -> None:
        """Remember a value beside the index."""
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", (key, value))
