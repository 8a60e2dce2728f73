"""Ingest end to end with the real bundled model and a real Chroma store in tmp_path."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common.errors import ModelMismatchError, StoreError
from common.settings import Settings
from ingest.pipeline import Summary
from tests.ingest.pages import ingest_into, page_html, write_pages
from vectorstore.embeddings import Embedder
from vectorstore.store import Store

TOPICS = {
    "screening": "screening at the border",
    "eurodac": "the Eurodac database",
    "reception": "reception conditions",
}
ROOT = Path(__file__).resolve().parents[2]


def _ingest(settings: Settings, embedder: Embedder, sources: list[str], *, prune: bool = False) -> Summary:
    return ingest_into(settings, sources, embedder=embedder, prune=prune)


def test_ingest_stores_chunks_with_citation_metadata(tmp_path: Path, settings: Settings, bundled: Embedder) -> None:
    write_pages(tmp_path / "pages", TOPICS)
    summary = _ingest(settings, bundled, [str(tmp_path / "pages")])
    assert len(summary.added) == 3 and not summary.skipped
    store = Store(settings, embedder=bundled)
    assert store.count() == summary.chunks_total == summary.chunks_embedded == 12  # lead + 3 sections per page
    hits = store.dense_search(bundled.embed(["how long does the Eurodac authority take to decide?"])[0], k=3)
    top = hits[0].chunk
    assert top.title == "The eurodac database"
    assert top.link.startswith((tmp_path / "pages" / "eurodac.html").as_uri() + "#eurodac-part-")
    assert top.heading_path.startswith("The eurodac database > Part ")
    assert top.source_url == "https://eur-lex.europa.eu/eli/reg/2024/1001/oj"
    assert top.checked == "2026-11-29" and "eurodac" in top.tags
    lexical = store.lexical.search("eurodac office help", limit=5)
    assert lexical and all(h.id in set(store.all_chunk_ids()) for h in lexical)
    assert store.lexical.count() == store.count()
    store.close()


def test_reingest_unchanged_embeds_nothing(tmp_path: Path, settings: Settings, bundled: Embedder) -> None:
    write_pages(tmp_path / "pages", TOPICS)
    _ingest(settings, bundled, [str(tmp_path / "pages")])
    again = _ingest(settings, bundled, [str(tmp_path / "pages")])
    assert again.chunks_embedded == 0
    assert len(again.unchanged) == 3 and not again.added and not again.changed


def test_changed_page_replaces_exactly_its_chunks(tmp_path: Path, settings: Settings, bundled: Embedder) -> None:
    paths = write_pages(tmp_path / "pages", TOPICS)
    _ingest(settings, bundled, [str(tmp_path / "pages")])
    store = Store(settings, embedder=bundled)
    before = {c.doc_id: c for c in store.get_chunks(store.all_chunk_ids())}
    other_ids = {cid for cid in store.all_chunk_ids() if "eurodac" not in store.get_chunks([cid])[0].title.lower()}
    store.close()
    # Rewrite one page: one section fewer and new wording in another.
    paths[1].write_text(
        page_html("eurodac", "the Eurodac database", sections=2, number=1001, extra="Data are kept for ten years.")
    )
    summary = _ingest(settings, bundled, [str(tmp_path / "pages")])
    assert summary.changed == [str(paths[1].resolve())] and len(summary.unchanged) == 2
    store = Store(settings, embedder=bundled)
    chunks = store.get_chunks(store.all_chunk_ids())
    eurodac = [c for c in chunks if c.title == "The eurodac database"]
    assert len(eurodac) == 3  # the lead and two sections; the third section's chunk is gone
    assert any("ten years" in c.text for c in eurodac)
    assert other_ids <= {c.id for c in chunks}  # the other pages' chunks are untouched
    assert store.lexical.count() == store.count() == 11
    hits = store.lexical.search("eurodac database", limit=20, doc_ids=[eurodac[0].doc_id])
    assert {h.id for h in hits} == {c.id for c in eurodac}  # the lexical index lost the removed section too
    assert len(before) == 3
    store.close()


def test_prune_removes_pages_no_longer_present(tmp_path: Path, settings: Settings, bundled: Embedder) -> None:
    paths = write_pages(tmp_path / "pages", TOPICS)
    _ingest(settings, bundled, [str(tmp_path / "pages")])
    paths[2].unlink()
    kept = _ingest(settings, bundled, [str(tmp_path / "pages")])
    assert not kept.removed and kept.pages_total == 3  # without --prune nothing is removed
    pruned = _ingest(settings, bundled, [str(tmp_path / "pages")], prune=True)
    assert pruned.removed == [str(paths[2].resolve())]
    store = Store(settings, embedder=bundled)
    assert pruned.pages_total == 2 and store.count() == 8 == store.lexical.count()
    assert all(c.title != "Reception conditions" for c in store.get_chunks(store.all_chunk_ids()))
    store.close()


def test_bad_sources_are_reported_and_skipped(tmp_path: Path, settings: Settings, bundled: Embedder) -> None:
    folder = tmp_path / "mixed"
    write_pages(folder, {"good": "a good page"})
    (folder / "binary.html").write_bytes(bytes(range(256)) * 20)
    (folder / "empty.html").write_text("   \n")
    (folder / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me, d\xe9j\xe0 vu.".encode("latin-1"))
    (folder / "menu-only.html").write_text(
        "<html><body><nav><a href='/'>Home</a></nav><footer>x</footer></body></html>"
    )
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    sources = [
        str(folder),
        str(tmp_path / "missing.html"),
        "http://127.0.0.1:9/unreachable",
        str(tmp_path / "notes.docx"),
    ]
    summary = _ingest(settings, bundled, sources)
    reasons = {Path(source).name: reason for source, reason in summary.skipped}
    assert len(summary.added) == 1
    assert "binary" in reasons["binary.html"]
    assert "empty" in reasons["empty.html"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert "no main content" in reasons["menu-only.html"]
    assert "PDF" in reasons["broken.pdf"]
    assert "no such file" in reasons["missing.html"]
    assert "unsupported file type" in reasons["notes.docx"]
    assert "cannot reach" in reasons["unreachable"]


def test_store_built_with_one_model_refuses_another(tmp_path: Path, settings: Settings, bundled: Embedder) -> None:
    write_pages(tmp_path / "pages", {"one": "one topic"})
    _ingest(settings, bundled, [str(tmp_path / "pages")])
    with pytest.raises(ModelMismatchError, match="all-MiniLM-L6-v2.*hash"):
        Store(settings.replace(embedding_model="hash")).open()


def test_missing_store_is_a_clear_error(settings: Settings, bundled: Embedder) -> None:
    with pytest.raises(StoreError, match="no store at .*python -m ingest"):
        Store(settings, embedder=bundled).open()


def test_cli_prints_summary_and_fails_clearly(tmp_path: Path) -> None:
    write_pages(tmp_path / "pages", {"one": "one topic"})
    env = {**os.environ, "EUMA_DATA_DIR": str(tmp_path / "cli"), "EUMA_EMBEDDING_MODEL": "hash"}
    ok = subprocess.run(
        [sys.executable, "-m", "ingest", str(tmp_path / "pages")], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert "pages: 1 added, 0 changed, 0 unchanged, 0 removed, 0 skipped" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "ingest", "--precision", "fp8"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: unknown embedding precision 'fp8'; valid values: auto, fp32, bf16"


def test_ingest_killed_halfway_leaves_a_whole_index_and_resumes(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    topics = {f"topic-{i:03d}": f"subject number {i} of migration law" for i in range(120)}
    write_pages(folder, dict(list(topics.items())[:10]))
    env = {**os.environ, "EUMA_DATA_DIR": str(tmp_path / "kill")}
    cmd = [sys.executable, "-m", "ingest", str(folder), "--quiet", "--verbose"]
    first = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    write_pages(folder, topics, sections=4)  # the first ten pages change, 110 are new
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    stored = 0
    deadline = time.monotonic() + 300
    while stored < 30 and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        stored += line.startswith("INFO stored ")
    assert stored >= 30, "ingest finished or stalled before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    settings = Settings(data_dir=tmp_path / "kill")
    store = Store(settings).open()
    records = store.list_documents()
    assert 10 <= len(records) < 120
    ids = set(store.all_chunk_ids())
    for record in records:  # every page the store lists is complete
        assert set(record.chunk_ids) <= ids
    hits = store.dense_search(store.embedder.embed(["subject number 5 of migration law"])[0], k=3)
    assert hits and "subject number 5 " in hits[0].chunk.text
    assert store.lexical.search("subject 5 migration law", limit=3)
    store.close()

    resumed = subprocess.run([*cmd, "--json"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    store = Store(settings).open()
    records = store.list_documents()
    assert len(records) == 120
    ids = set(store.all_chunk_ids())
    assert ids == {cid for record in records for cid in record.chunk_ids}  # no orphan chunk survives
    assert len(ids) == 120 * 5 == store.lexical.count()
    store.close()
