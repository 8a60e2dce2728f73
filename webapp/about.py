"""The About page: what the assistant is, and what is in its store (pages, chunks, last ingest, model, sources)."""

from __future__ import annotations

import logging

from vectorstore.store import Store
from webapp import render

log = logging.getLogger(__name__)


def overview_html(store: Store) -> str:
    """The store's figures and a table of its pages, each linked to where it can be read."""
    try:
        documents = store.list_documents()
        chunks = store.count()
        # A page's date and official source are on its chunks: its first chunk says them as a citation would.
        first = {c.id: c for c in store.get_chunks([d.chunk_ids[0] for d in documents if d.chunk_ids])}
    except Exception:
        log.exception("the store could not be described")
        return render.message_html("Sorry, the list of sources cannot be shown right now.", kind="error")
    last = max((d.ingested_at for d in documents if d.ingested_at), default="")
    facts = [
        ("Pages", f"{len(documents):,}"),
        ("Passages (chunks)", f"{chunks:,}"),
        ("Last ingest (UTC)", last.replace("T", " ").replace("+00:00", "") or "never"),
        ("Embedding model", store.settings.embedding_model),
    ]
    rows = []
    for d in documents:
        chunk = first.get(d.chunk_ids[0]) if d.chunk_ids else None
        dated = d.updated or (chunk.updated or chunk.checked if chunk else "")
        official = render.link_html(chunk.source_url, chunk.source_title or "official source") if chunk else ""
        rows.append(
            f"<tr><td>{render.link_html(d.url, d.title or d.url)}</td><td>{render.e(dated or '—')}</td>"
            f'<td>{official or "—"}</td><td class="num">{len(d.chunk_ids)}</td></tr>'
        )
    return (
        '<div class="euma-about">'
        "<dl>" + "".join(f"<dt>{render.e(k)}</dt><dd>{render.e(v)}</dd>" for k, v in facts) + "</dl>"
        "<table><caption>The pages the assistant answers from</caption>"
        '<thead><tr><th scope="col">Page</th><th scope="col">Last updated</th><th scope="col">Official source</th>'
        '<th scope="col">Chunks</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
