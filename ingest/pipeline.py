"""The ingest run: sources -> pages -> chunks -> store, incremental, resumable and tolerant of bad sources."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from common.settings import Settings
from ingest.chunk import CHUNKING_VERSION, chunk
from ingest.errors import SourceError
from ingest.fetch import Fetcher
from ingest.model import Page
from ingest.sources import SourceItem, default_url, expand, read_file, to_page
from vectorstore.records import Chunk, DocumentRecord
from vectorstore.store import Store

log = logging.getLogger(__name__)

EMBED_BATCH_CHUNKS = 256  # pages are embedded together until this many new chunks wait


@dataclass
class Summary:
    """What an ingest run did, for the closing report."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks_embedded: int = 0
    tokens_embedded: int = 0
    chunks_total: int = 0
    pages_total: int = 0
    seconds: float = 0.0

    def report(self) -> str:
        """The summary printed at the end of a run."""
        lines = [
            f"pages: {len(self.added)} added, {len(self.changed)} changed, {len(self.unchanged)} unchanged, "
            f"{len(self.removed)} removed, {len(self.skipped)} skipped",
            f"chunks: {self.chunks_embedded} embedded this run, {self.chunks_total} in the store "
            f"({self.pages_total} pages)",
            f"time: {self.seconds:.1f} s",
        ]
        lines += [f"skipped {source}: {reason}" for source, reason in self.skipped]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        """The summary as JSON-ready data."""
        return {
            "added": self.added,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": [{"source": s, "reason": r} for s, r in self.skipped],
            "chunks_embedded": self.chunks_embedded,
            "tokens_embedded": self.tokens_embedded,
            "chunks_total": self.chunks_total,
            "pages_total": self.pages_total,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _Pending:
    item: SourceItem
    page: Page
    chunks: list[Chunk]
    new: list[Chunk]
    previous: DocumentRecord | None
    content_hash: str
    etag: str = ""
    last_modified: str = ""


def content_hash(page: Page, *, chunk_tokens: int = 0) -> str:
    """A hash of everything about a page that ends up in the store: text, structure, metadata, and how it is cut."""
    payload = {
        "version": CHUNKING_VERSION,
        "chunk_tokens": chunk_tokens,
        "url": page.url,
        "title": page.title,
        "updated": page.updated,
        "checked": page.checked,
        "source": [page.source_url, page.source_title],
        "tags": page.tags,
        "doctype": page.doctype,
        "language": page.language,
        "blocks": [[b.kind, b.level, b.anchor, b.text] for b in page.blocks],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class Ingestor:
    """Runs ingest against one store with one embedding model."""

    def __init__(self, settings: Settings, *, store: Store | None = None, fetcher: Fetcher | None = None) -> None:
        self.settings = settings
        self.store = store or Store(settings)
        self._fetcher = fetcher

    @property
    def fetcher(self) -> Fetcher:
        if self._fetcher is None:
            self._fetcher = Fetcher(self.settings)
        return self._fetcher

    def run(
        self,
        sources: list[str] | None = None,
        *,
        prune: bool = False,
        progress: bool = True,
        on_pages: Callable[[int, int], None] | None = None,
    ) -> Summary:
        """Ingest ``sources`` (the bundled corpus when empty); with ``prune``, drop stored pages not among them.
        ``on_pages(done, total)`` hears how many pages are done (stored, unchanged or skipped) as the run goes: pages
        are stored in batches, so the count moves in steps."""
        started = time.perf_counter()
        summary = Summary()
        items, bad = expand(list(sources or []))
        summary.skipped.extend(bad)
        total = len(items) + len(bad)

        def report() -> None:
            if on_pages is not None:
                done = len(summary.added) + len(summary.changed) + len(summary.unchanged) + len(summary.skipped)
                on_pages(min(done, total), total)

        store = self.store.open(create=True)
        store.lexical  # noqa: B018 - bring the lexical index in step before writing to it
        seen: set[str] = set()
        pending: list[_Pending] = []
        waiting = 0
        bar = tqdm(items, desc="ingest", unit="page", disable=not progress, leave=False)
        for item in bar:
            seen.add(item.doc_id)
            report()
            try:
                prepared = self._prepare(item, summary)
            except SourceError as exc:
                log.warning("skipped %s: %s", item.location, exc)
                summary.skipped.append((item.location, str(exc)))
                continue
            if prepared is None:
                continue
            pending.append(prepared)
            waiting += len(prepared.new)
            if waiting >= EMBED_BATCH_CHUNKS:
                self._flush(pending, summary)
                report()
                pending, waiting = [], 0
            bar.set_postfix(embedded=summary.chunks_embedded + waiting)
        self._flush(pending, summary)
        report()
        bar.close()
        self._backfill_multilingual(progress=progress)
        if prune:
            for record in store.list_documents():
                if record.doc_id not in seen:
                    store.delete_document(record.doc_id)
                    summary.removed.append(record.source or record.url)
        summary.chunks_total = store.count()
        summary.pages_total = len(store.list_documents())
        summary.seconds = time.perf_counter() - started
        return summary

    def _prepare(self, item: SourceItem, summary: Summary) -> _Pending | None:
        """Load and parse one source; None when it is unchanged since the last run."""
        previous = self.store.get_document(item.doc_id)
        etag = last_modified = content_type = ""
        if item.is_url:
            fetched = self.fetcher.fetch(
                item.location,
                etag=previous.etag if previous else "",
                last_modified=previous.last_modified if previous else "",
            )
            if fetched.status == 304 and previous is not None:
                summary.unchanged.append(item.location)
                return None
            raw, etag, last_modified, content_type = (
                fetched.content,
                fetched.etag,
                fetched.last_modified,
                fetched.content_type,
            )
        else:
            raw = read_file(item, self.settings.max_page_bytes)
        page = to_page(raw, location=item.location, url=default_url(item), content_type=content_type)
        digest = content_hash(page, chunk_tokens=self.settings.chunk_tokens)
        if previous is not None and previous.content_hash == digest:
            if (etag, last_modified) != (previous.etag, previous.last_modified) and item.is_url:
                # Same content under new validators: remember them, or the next run downloads the page again.
                self.store.put_document(dataclasses.replace(previous, etag=etag, last_modified=last_modified))
            summary.unchanged.append(item.location)
            return None
        embedder = self.store.embedder
        chunks = chunk(
            page,
            count_tokens=embedder.count_tokens,
            max_tokens=embedder.max_tokens,
            chunk_tokens=self.settings.chunk_tokens,
            doc_id=item.doc_id,
            doc_hash=digest,
        )
        if not chunks:
            raise SourceError("no main content found")
        existing = self.store.existing_ids([c.id for c in chunks])
        new = [c for c in chunks if c.id not in existing]
        return _Pending(item, page, chunks, new, previous, digest, etag, last_modified)

    def _flush(self, pending: list[_Pending], summary: Summary) -> None:
        """Embed the new chunks of the waiting pages in one go, then write each page, its registry record last."""
        new = [c for p in pending for c in p.new]
        sentence_vectors: list[np.ndarray] = []
        if not new:
            vectors = np.zeros((0, 1), dtype=np.float32)
        else:
            # Chunks and their answer sentences are encoded in one call: the model batches them by length.
            texts = [c.embed_text for c in new]
            sentences = [c.sentences for c in new]
            flat = [c.sentence_in_context(s) for c, group in zip(new, sentences, strict=True) for s in group]
            encoded = self.store.embedder.embed(texts + flat)
            vectors, sentence_rows = encoded[: len(texts)], encoded[len(texts) :]
            summary.tokens_embedded += sum(
                min(n, self.store.embedder.max_tokens) for n in self.store.embedder.count_tokens(texts + flat)
            )
            bounds = np.cumsum([0] + [len(group) for group in sentences])
            sentence_vectors = [sentence_rows[a:b] for a, b in itertools.pairwise(bounds)]
        multilingual = self._multilingual_vectors(new) if new else []
        offset = 0
        for p in pending:
            count = len(p.new)
            if count:
                # Sentence vectors before chunks: a chunk present in the store always has them.
                self.store.add_sentence_vectors(p.new, sentence_vectors[offset : offset + count])
                if multilingual:
                    self.store.add_multilingual_vectors(p.new, multilingual[offset : offset + count])
                self.store.add_chunks(p.new, vectors[offset : offset + count])
            offset += count
            new_ids = {c.id for c in p.new}
            kept = [c for c in p.chunks if c.id not in new_ids]
            if kept:
                self.store.update_metadata(kept)
            ids = {c.id for c in p.chunks}
            stale = [i for i in self._stored_ids(p) if i not in ids]
            if stale:
                self.store.delete_chunks(stale)
            self.store.put_document(
                DocumentRecord(
                    doc_id=p.item.doc_id,
                    title=p.page.title,
                    url=p.page.url,
                    content_hash=p.content_hash,
                    chunk_ids=tuple(c.id for c in p.chunks),
                    source=p.item.location,
                    updated=p.page.updated,
                    ingested_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    etag=p.etag,
                    last_modified=p.last_modified,
                )
            )
            summary.chunks_embedded += count
            (summary.changed if p.previous else summary.added).append(p.item.location)
            log.info("stored %s (%d chunks, %d new)", p.item.location, len(p.chunks), count)

    def _multilingual_vectors(self, chunks: list[Chunk], *, progress: bool = False) -> list[np.ndarray]:
        """The multilingual vector of every answer sentence of the chunks (shipped ones reused), or [] when off."""
        if not self.store.multilingual_enabled:
            return []
        flat = [c.sentence_in_context(s) for c in chunks for s in c.sentences]
        rows = self.store.encoder.passage(flat, progress=progress)
        bounds = np.cumsum([0] + [len(c.sentences) for c in chunks])
        return [rows[a:b] for a, b in itertools.pairwise(bounds)]

    def _backfill_multilingual(self, *, progress: bool) -> None:
        """Give multilingual vectors to chunks stored without them (a store built before they existed)."""
        if self.store.multilingual_complete():
            return
        missing = self.store.chunks_without_multilingual()
        if missing:
            log.info("adding multilingual vectors to %d stored chunks", len(missing))
            self.store.add_multilingual_vectors(missing, self._multilingual_vectors(missing, progress=progress))

    def _stored_ids(self, p: _Pending) -> set[str]:
        """Every chunk id the store holds for this page (its record's, plus any left by an interrupted run)."""
        stored = self.store.chunk_ids_of(p.item.doc_id)
        return stored | set(p.previous.chunk_ids if p.previous else ())


def ingest(
    settings: Settings, sources: list[str] | None = None, *, prune: bool = False, progress: bool = True
) -> Summary:
    """Ingest sources into the store the settings name; see ``Ingestor.run``."""
    ingestor = Ingestor(settings)
    try:
        return ingestor.run(sources, prune=prune, progress=progress)
    finally:
        ingestor.store.close()
