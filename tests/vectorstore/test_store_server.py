"""The store on a real Chroma server: ingest, dense and lexical search, and two "machines" sharing one server.

Each machine is a ``Store`` with its own data_dir (so its own lexical index) and the same server and collection.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from common.errors import StoreError
from common.settings import Settings
from ingest.pipeline import Ingestor, Summary
from tests.conftest import free_port
from tests.ingest.pages import ingest_into, page_html, write_pages
from vectorstore.embeddings import Embedder
from vectorstore.store import Store

TOPICS = {
    "screening": "screening at the border",
    "eurodac": "the Eurodac database",
    "reception": "reception conditions",
}
QUESTION = "how long does the Eurodac authority take to decide?"


@pytest.fixture
def collection() -> str:
    """A collection name of its own for each test, so tests on the shared server do not meet."""
    return f"test-{uuid.uuid4().hex[:12]}"


def machine(tmp_path: Path, name: str, url: str, collection: str) -> Settings:
    return Settings(data_dir=tmp_path / name, chroma_url=url, collection=collection)


def _ingest(settings: Settings, embedder: Embedder, sources: list[str]) -> Summary:
    return ingest_into(settings, sources, embedder=embedder)


def two_machines(
    tmp_path: Path, url: str, collection: str, embedder: Embedder
) -> tuple[list[Path], Settings, Settings]:
    """Test pages ingested into the server by machine A; the settings of A and of a second machine B."""
    paths = write_pages(tmp_path / "pages", TOPICS)
    a_settings, b_settings = (machine(tmp_path, name, url, collection) for name in ("a", "b"))
    _ingest(a_settings, embedder, [str(tmp_path / "pages")])
    return paths, a_settings, b_settings


def test_ingest_into_the_server_and_search_it(
    tmp_path: Path, chroma_server: str, collection: str, bundled: Embedder
) -> None:
    write_pages(tmp_path / "pages", TOPICS)
    a = machine(tmp_path, "a", chroma_server, collection)
    summary = _ingest(a, bundled, [str(tmp_path / "pages")])
    assert len(summary.added) == 3 and summary.chunks_embedded == summary.chunks_total == 12 and not summary.skipped
    assert not a.store_path.exists()  # nothing was written to an embedded store
    store = Store(a, embedder=bundled)
    try:
        assert store.location == chroma_server and store.exists() and store.count() == 12
        hits = store.dense_search(bundled.embed([QUESTION])[0], k=3)
        assert hits[0].chunk.title == "The eurodac database" and hits[0].score > 0.3
        assert hits[0].chunk.source_url == "https://eur-lex.europa.eu/eli/reg/2024/1001/oj"
        lexical = store.lexical.search("Eurodac", limit=10)
        assert len(lexical) == 4  # the lead and three sections of that page, and nothing else
        assert {c.title for c in store.get_chunks([h.id for h in lexical])} == {"The eurodac database"}
        assert store.lexical.count() == 12
        assert store.lexical.path.is_relative_to(tmp_path / "a" / "lexical")
        guides = store.dense_search(bundled.embed(["reception"])[0], k=20, where={"doctype": "guide"})
        assert len(guides) == 12
    finally:
        store.close()
    again = _ingest(a, bundled, [str(tmp_path / "pages")])
    assert again.chunks_embedded == 0 and len(again.unchanged) == 3 and again.chunks_total == 12


def test_second_machine_syncs_its_lexical_index_from_the_server(
    tmp_path: Path, chroma_server: str, collection: str, bundled: Embedder
) -> None:
    _, a_settings, b_settings = two_machines(tmp_path, chroma_server, collection, bundled)
    a, b = Store(a_settings, embedder=bundled), Store(b_settings, embedder=bundled)
    try:
        assert not (tmp_path / "b" / "lexical").exists()  # machine B has never built an index
        assert b.lexical.count() == 12 and b.lexical.ids() == set(a.all_chunk_ids())
        assert b.lexical.get_state("generation") == a.generation() == b.generation() != "0"
        query = "reception conditions national office"
        found_by_b = {h.id: round(h.score, 6) for h in b.lexical.search(query)}
        assert found_by_b and found_by_b == {h.id: round(h.score, 6) for h in a.lexical.search(query)}
        vector = bundled.embed([QUESTION])[0]
        assert [h.chunk.id for h in b.dense_search(vector, k=3)] == [h.chunk.id for h in a.dense_search(vector, k=3)]
    finally:
        a.close()
        b.close()


def test_change_on_one_machine_reaches_the_other_after_its_next_read(
    tmp_path: Path, chroma_server: str, collection: str, bundled: Embedder
) -> None:
    paths, a_settings, b_settings = two_machines(tmp_path, chroma_server, collection, bundled)
    b = Store(b_settings, embedder=bundled)
    assert b.lexical.search("ten years kept") == []
    before = b.lexical.get_state("generation")
    b.close()

    paths[1].write_text(
        page_html("eurodac", "the Eurodac database", sections=2, number=1001, extra="Data are kept for ten years.")
    )
    summary = _ingest(a_settings, bundled, [str(tmp_path / "pages")])
    assert summary.changed == [str(paths[1].resolve())]

    b = Store(b_settings, embedder=bundled)  # machine B reads again, e.g. after a restart
    try:
        assert b.generation() != before
        hits = b.lexical.search("ten years kept")
        assert hits and "ten years" in b.get_chunks([hits[0].id])[0].text
        assert b.lexical.get_state("generation") == b.generation()
        assert b.lexical.count() == b.count() == 11  # the removed section is gone from B's index too
        assert b.lexical.ids() == set(b.all_chunk_ids())
    finally:
        b.close()


def test_open_store_sees_a_change_made_by_another_machine(
    tmp_path: Path, chroma_server: str, collection: str, bundled: Embedder
) -> None:
    paths, a_settings, b_settings = two_machines(tmp_path, chroma_server, collection, bundled)
    b = Store(b_settings, embedder=bundled)
    try:
        assert b.lexical.search("ten years kept") == []
        paths[1].write_text(
            page_html("eurodac", "the Eurodac database", sections=2, number=1001, extra="Data are kept for ten years.")
        )
        assert _ingest(a_settings, bundled, [str(tmp_path / "pages")]).changed
        hits = b.lexical.search("ten years kept")  # the same Store object reads again
        assert hits and "ten years" in b.get_chunks([hits[0].id])[0].text
    finally:
        b.close()


def test_metadata_change_on_one_machine_reaches_the_others_lexical_filters(
    tmp_path: Path, chroma_server: str, collection: str, bundled: Embedder
) -> None:
    paths, a_settings, b_settings = two_machines(tmp_path, chroma_server, collection, bundled)
    b = Store(b_settings, embedder=bundled)
    assert len(b.lexical.search("eurodac", doctype="guide")) == 4
    b.close()

    paths[1].write_text(paths[1].read_text().replace('content="guide"', 'content="law"'))
    assert _ingest(a_settings, bundled, [str(tmp_path / "pages")]).changed == [str(paths[1].resolve())]
    a = Store(a_settings, embedder=bundled)
    b = Store(b_settings, embedder=bundled)
    try:
        assert {c.doctype for c in a.get_chunks(a.all_chunk_ids()) if c.title == "The eurodac database"} == {"law"}
        assert len(a.lexical.search("eurodac", doctype="law")) == 4  # the writing machine's index is right
        assert len(b.lexical.search("eurodac", doctype="law")) == 4
    finally:
        a.close()
        b.close()


def test_unreachable_server_is_a_store_error_naming_the_address(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    settings = Settings(data_dir=tmp_path / "data", chroma_url=url, embedding_model="hash")
    store = Store(settings)
    with pytest.raises(StoreError, match=f"cannot reach the Chroma server at {url}"):
        store.open()
    with pytest.raises(StoreError, match=f"cannot reach the Chroma server at {url}"):
        Ingestor(settings, store=store).run([str(tmp_path)], progress=False)
