"""Chunking follows the structure, keeps the heading path and never cuts a sentence."""

from __future__ import annotations

from ingest.chunk import chunk
from ingest.clean import split_sentences
from ingest.model import Block, Page
from vectorstore.embeddings import Embedder


def _page(paragraph_count: int) -> Page:
    long_text = " ".join(
        f"Sentence number {i} explains one rule about the border procedure and the time limits that apply to it."
        for i in range(paragraph_count)
    )
    blocks = [
        Block("heading", "Border procedure", level=1),
        Block("text", "A short lead paragraph.", sentences=["A short lead paragraph."]),
        Block("heading", "Time limits", level=2, anchor="time-limits"),
        Block("heading", "Extensions", level=3, anchor="extensions"),
        Block("text", long_text, sentences=split_sentences(long_text)),
        Block("heading", "Who is excluded", level=2, anchor="excluded"),
        Block("text", "Unaccompanied minors are excluded.", sentences=["Unaccompanied minors are excluded."]),
    ]
    return Page(
        url="https://example.org/border", title="Border procedure", blocks=blocks, updated="2026-06-12", tags=["asylum"]
    )


def test_sections_keep_heading_path_and_deep_link(bundled: Embedder) -> None:
    chunks = chunk(_page(3), count_tokens=bundled.count_tokens, max_tokens=bundled.max_tokens, chunk_tokens=200)
    paths = [c.heading_path for c in chunks]
    assert paths == [
        "Border procedure",
        "Border procedure > Time limits > Extensions",
        "Border procedure > Who is excluded",
    ]
    assert chunks[1].link == "https://example.org/border#extensions"
    assert chunks[1].section == "Extensions"
    assert chunks[2].text == "Unaccompanied minors are excluded."
    assert all(c.updated == "2026-06-12" and c.tags == "asylum" for c in chunks)


def test_long_section_is_split_at_sentences_within_the_model_limit(bundled: Embedder) -> None:
    page = _page(40)
    source_sentences = set(page.blocks[4].sentences)
    chunks = chunk(page, count_tokens=bundled.count_tokens, max_tokens=bundled.max_tokens, chunk_tokens=120)
    extension_chunks = [c for c in chunks if c.section == "Extensions"]
    assert len(extension_chunks) > 1
    for c in extension_chunks:
        # every chunk is made of whole sentences of the source
        assert set(split_sentences(c.text)) <= source_sentences
        assert bundled.count_tokens([c.text])[0] <= 120
        assert bundled.count_tokens([c.embed_text])[0] + 2 <= bundled.max_tokens
    rebuilt = " ".join(c.text for c in extension_chunks)
    assert rebuilt == " ".join(page.blocks[4].sentences)


def test_chunk_ids_depend_on_text_and_place_only(bundled: Embedder) -> None:
    first = chunk(_page(3), count_tokens=bundled.count_tokens, max_tokens=256, chunk_tokens=200, doc_hash="a")
    second = chunk(_page(3), count_tokens=bundled.count_tokens, max_tokens=256, chunk_tokens=200, doc_hash="b")
    assert [c.id for c in first] == [c.id for c in second]
    assert len({c.id for c in first}) == len(first)
