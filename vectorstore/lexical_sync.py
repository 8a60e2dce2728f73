"""Keeping the lexical index in step with the chunk collection it is derived from.

The index records the collection's ``generation`` token when it was last in step. When the token differs (another
process or machine wrote to the collection), the index is brought in step: chunks it lacks are added, chunks gone
from the collection are dropped, and chunks of pages whose registry hash changed (same ids, new metadata) are
rewritten.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from vectorstore.lexical import LexicalIndex

if TYPE_CHECKING:
    from vectorstore.store import Store

log = logging.getLogger(__name__)

BATCH = 500


def sync(index: LexicalIndex, store: Store) -> tuple[int, int]:
    """Bring ``index`` in step with ``store``'s chunks; return (added or rewritten, removed)."""
    generation = store.generation()
    stored = set(store.all_chunk_ids())
    indexed = index.ids()
    hashes = index.doc_hashes()
    stale_docs = [
        r.doc_id for r in store.list_documents() if hashes.get(r.doc_id, {r.content_hash}) != {r.content_hash}
    ]
    refresh = {cid for doc_id in stale_docs for cid in store.chunk_ids_of(doc_id)}
    missing = sorted((stored - indexed) | (refresh & stored))
    extra = sorted(indexed - stored)
    for start in range(0, len(missing), BATCH):
        index.upsert(store.get_chunks(missing[start : start + BATCH]))
    index.delete(extra)
    index.set_state("generation", generation)
    if missing or extra:
        log.info("lexical index synced: %d added, %d removed", len(missing), len(extra))
    return len(missing), len(extra)


def in_step(index: LexicalIndex, store: Store) -> bool:
    """Whether the index was built from the collection as it is now."""
    return index.get_state("generation") == store.generation()
