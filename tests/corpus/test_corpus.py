"""The bundled corpus: each page parses, carries metadata and sources, ingests into anchored sections, is our prose."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from ingest.chunk import chunk
from ingest.manifest import manifest
from ingest.sources import CORPUS_DIR, to_page
from tests.conftest import SHARED
from tests.originality import copied_runs, reference_texts, shingles
from vectorstore.embeddings import Embedder

PAGES = sorted(CORPUS_DIR.glob("*.html"))
OFFICIAL = re.compile(r"^https://([a-z0-9-]+\.)*europa\.eu/")
DOCTYPES = {"overview", "legal act", "guide", "statistics"}


def test_the_corpus_has_at_least_forty_pages() -> None:
    assert len(PAGES) >= 40


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_page_metadata_and_structure(path: Path) -> None:
    page = to_page(path.read_bytes(), location=str(path), url=f"corpus/pages/{path.name}")
    assert page.title and page.description
    assert OFFICIAL.match(page.source_url), page.source_url
    assert page.source_title
    checked = dt.date.fromisoformat(page.checked)
    assert dt.date(2025, 1, 1) <= checked <= dt.date.today()
    assert page.doctype in DOCTYPES
    assert page.tags and page.language == "en"
    words = len(page.text.split())
    assert 450 <= words <= 1700, words
    headings = [b for b in page.blocks if b.kind == "heading" and b.level >= 2]
    assert len(headings) >= 3
    assert all(h.anchor for h in headings), [h.text for h in headings if not h.anchor]
    assert len({h.anchor for h in headings}) == len(headings)
    assert any(h.anchor == "official-sources" for h in headings)


def test_internal_links_point_to_existing_pages_and_anchors() -> None:
    from bs4 import BeautifulSoup

    ids = {p.name: {t["id"] for t in BeautifulSoup(p.read_text(), "lxml").find_all(id=True)} for p in PAGES}
    broken = []
    for path in PAGES:
        for link in BeautifulSoup(path.read_text(), "lxml").find_all("a", href=True):
            href = str(link["href"])
            if href.startswith(("http://", "https://", "mailto:")):
                continue
            name, _, anchor = href.partition("#")
            target = name or path.name
            if target not in ids or (anchor and anchor not in ids[target]):
                broken.append(f"{path.name} -> {href}")
    assert not broken


def test_every_page_ingests_into_sections_with_deep_links(bundled: Embedder) -> None:
    for path in PAGES:
        page = to_page(path.read_bytes(), location=str(path), url=f"corpus/pages/{path.name}")
        chunks = chunk(page, count_tokens=bundled.count_tokens, max_tokens=bundled.max_tokens, chunk_tokens=200)
        sections = [c for c in chunks if c.heading_path != page.title]  # all but the lead under the title
        assert len(sections) >= 3, path.name
        for c in sections:
            assert c.link.startswith(f"corpus/pages/{path.name}#"), c.link
            assert c.heading_path.startswith(page.title)
            assert bundled.count_tokens([c.embed_text])[0] + 2 <= bundled.max_tokens


def test_manifest_lists_every_page_with_source_and_date() -> None:
    readme = (CORPUS_DIR.parent / "README.md").read_text(encoding="utf-8")
    assert readme == manifest(), "corpus/README.md is out of date: run python -m ingest.manifest"
    for path in PAGES:
        assert f"(pages/{path.name})" in readme
    assert "official sources prevail" in readme


@pytest.mark.skipif(not (SHARED / "reference").is_dir(), reason="shared reference texts not present")
def test_no_page_repeats_twelve_words_of_the_reference_texts() -> None:
    reference = shingles(reference_texts(SHARED))
    copied = {p.name: runs for p in PAGES if (runs := copied_runs(p.read_text(encoding="utf-8"), reference))}
    assert not copied
