"""Small HTML pages written for the tests, in the shape of the bundled corpus."""

from __future__ import annotations

from pathlib import Path

from common.settings import Settings
from ingest.fetch import Fetcher
from ingest.pipeline import Ingestor, Summary
from vectorstore.embeddings import Embedder
from vectorstore.store import Store

TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="euma:source" content="https://eur-lex.europa.eu/eli/reg/2024/{number}/oj">
<meta name="euma:checked" content="2026-11-29"><meta name="euma:tags" content="test; {slug}">
<meta name="euma:doctype" content="guide"></head>
<body><nav><a href="/">Home</a></nav><main><h1>{title}</h1>
<p>This page explains {topic} in plain words for people who ask about it.</p>
{sections}
</main><footer>Legal notice</footer></body></html>"""


def page_html(slug: str, topic: str, *, sections: int = 3, number: int = 1000, extra: str = "") -> str:
    """A page about ``topic`` with ``sections`` sections, each with an anchor and a few sentences."""
    body = "\n".join(
        f'<h2 id="{slug}-part-{i}">Part {i} of {topic}</h2>'
        f"<p>Rule {i} about {topic} says that the authority decides within {i + 2} weeks. "
        f"People concerned by {topic} may ask for help from the national office. {extra}</p>"
        for i in range(1, sections + 1)
    )
    return TEMPLATE.format(title=topic.capitalize(), number=number, slug=slug, topic=topic, sections=body)


def write_pages(folder: Path, topics: dict[str, str], **kwargs: object) -> list[Path]:
    """Write one page per (slug, topic) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, (slug, topic) in enumerate(topics.items()):
        path = folder / f"{slug}.html"
        path.write_text(page_html(slug, topic, number=1000 + index, **kwargs), encoding="utf-8")  # type: ignore[arg-type]
        paths.append(path)
    return paths


def ingest_into(
    settings: Settings,
    sources: list[str],
    *,
    embedder: Embedder | None = None,
    fetcher: Fetcher | None = None,
    prune: bool = False,
) -> Summary:
    """Run one ingest into the store the settings name, closing the store (and fetcher) afterwards."""
    store = Store(settings, embedder=embedder)
    try:
        return Ingestor(settings, store=store, fetcher=fetcher).run(sources, progress=False, prune=prune)
    finally:
        store.close()
        if fetcher is not None:
            fetcher.close()
