"""The lexical (BM25) index in SQLite FTS5: terms, writes, stemmed search, heading weight, filters, persistence,
the upgrade of old index files, and the scoring outside FTS5 (small filtered sets, pruned common terms)."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import random
import sqlite3
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
import snowballstemmer

from common import text as text_module
from common.settings import Settings
from common.text import terms
from vectorstore import lexical
from vectorstore.embeddings import Embedder
from vectorstore.lexical import SCHEMA_VERSION, LexicalHit, LexicalIndex
from vectorstore.records import Chunk
from vectorstore.store import Store


def make_chunk(cid: str, text: str, *, heading: str = "", doc_id: str = "doc-1", doctype: str = "guide") -> Chunk:
    url = f"https://example.org/{doc_id}"
    return Chunk(
        id=cid, doc_id=doc_id, text=text, title=doc_id, url=url, link=url, heading_path=heading, doctype=doctype
    )


# Chunks without the words the tests look for, so that those words are rare (BM25 gives common words no weight).
FILLER = [
    make_chunk(
        f"filler-{i}", f"Short stay visas number {i} allow travel for tourism.", heading=f"Visas {i}", doc_id="visas"
    )
    for i in range(6)
]


@pytest.fixture
def index(tmp_path: Path) -> Iterator[LexicalIndex]:
    idx = LexicalIndex(tmp_path / "lexical" / "index.sqlite3")
    yield idx
    idx.close()


def _ids(hits: list[LexicalHit]) -> list[str]:
    return [h.id for h in hits]


def test_upsert_search_and_delete(index: LexicalIndex) -> None:
    index.upsert(
        [*FILLER, make_chunk("a", "Asylum seekers get a decision within six months.", heading="Asylum > Time limits")]
    )
    assert index.count() == 7 and "a" in index.ids()
    hits = index.search("how long does an asylum decision take?")
    assert _ids(hits)[0] == "a" and hits[0].score > 0
    assert all(earlier.score >= later.score for earlier, later in itertools.pairwise(hits))
    index.delete(["a", "never-stored"])  # unknown ids are ignored
    assert index.count() == 6 and "a" not in index.ids()
    assert index.search("asylum decision") == []


def test_upsert_replaces_a_chunk_stored_under_the_same_id(index: LexicalIndex) -> None:
    index.upsert([*FILLER, make_chunk("a", "Family reunification for refugees.")])
    index.upsert([make_chunk("a", "Long-term residence after five years.")])
    assert index.count() == 7
    assert index.search("family reunification") == []
    assert _ids(index.search("long-term residence")) == ["a"]


def test_search_meets_other_forms_of_a_word(index: LexicalIndex) -> None:
    index.upsert(
        [
            *FILLER,
            make_chunk("noun", "Each application is examined by the authority."),
            make_chunk("verb", "The rules applying to minors are stricter."),
            make_chunk("accent", "Le statut de réfugié est reconnu."),
        ]
    )
    assert _ids(index.search("applications")) == ["noun"]
    assert _ids(index.search("applied")) == ["verb"]  # "applied" and "applying" share a stem
    assert _ids(index.search("refugie")) == ["accent"]  # accents do not matter
    assert _ids(index.search("EXAMINING")) == ["noun"]


def test_heading_terms_weigh_more_than_body_terms(index: LexicalIndex) -> None:
    # Same terms, same total length; only where "asylum" stands differs.
    in_heading = make_chunk("heading", "Rules for procedures.", heading="Asylum")
    in_body = make_chunk("body", "Rules for asylum.", heading="Procedures")
    index.upsert([*FILLER, in_body, in_heading])
    hits = index.search("asylum")
    assert _ids(hits) == ["heading", "body"]
    assert hits[0].score > hits[1].score


def test_doc_ids_and_doctype_filters(index: LexicalIndex) -> None:
    index.upsert(
        [
            *FILLER,
            make_chunk("g1", "Border screening takes seven days.", doc_id="screening", doctype="guide"),
            make_chunk("g2", "Screening includes a health check.", doc_id="screening", doctype="guide"),
            make_chunk("l1", "Article 8: screening of third-country nationals.", doc_id="regulation", doctype="law"),
            make_chunk("f1", "Where is screening done?", doc_id="faq", doctype="faq"),
        ]
    )
    assert set(_ids(index.search("screening"))) == {"g1", "g2", "l1", "f1"}
    assert set(_ids(index.search("screening", doc_ids=["screening"]))) == {"g1", "g2"}
    assert set(_ids(index.search("screening", doc_ids=["regulation", "faq"]))) == {"l1", "f1"}
    assert _ids(index.search("screening", doctype="law")) == ["l1"]
    assert _ids(index.search("screening", doc_ids=["screening", "faq"], doctype="faq")) == ["f1"]
    assert index.search("screening", doc_ids=["screening"], doctype="law") == []
    assert index.search("screening", doc_ids=[]) == []
    assert len(index.search("screening", limit=2)) == 2


def test_index_and_state_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "persist.sqlite3"
    first = LexicalIndex(path)
    first.upsert(
        [*FILLER, make_chunk("a", "Temporary protection for displaced persons.", heading="Temporary protection")]
    )
    first.set_state("generation", "gen-1")
    first.close()
    second = LexicalIndex(path)
    try:
        assert second.count() == 7 and second.ids() == {"a"} | {c.id for c in FILLER}
        assert _ids(second.search("displaced persons protection"))[0] == "a"
        assert second.get_state("generation") == "gen-1"
    finally:
        second.close()


def test_state_get_and_set(index: LexicalIndex) -> None:
    assert index.get_state("generation") is None
    index.set_state("generation", "one")
    index.set_state("other", "x")
    index.set_state("generation", "two")  # replaces, does not add
    assert index.get_state("generation") == "two" and index.get_state("other") == "x"


@pytest.mark.parametrize("query", ["", "   ", "the of and", "What is it? Is it so?", "?!;"])
def test_empty_or_stop_word_query_returns_nothing(index: LexicalIndex, query: str) -> None:
    index.upsert([*FILLER, make_chunk("a", "What is it that the rules say? It is so.")])
    assert index.search(query) == []


def test_query_with_search_syntax_is_taken_as_words(index: LexicalIndex) -> None:
    index.upsert([*FILLER, make_chunk("a", "Asylum procedures near the border.")])
    for query in ['asylum AND "procedures', "NEAR(asylum border", "asylum* OR", "heading: asylum", "-border ^asylum"]:
        assert _ids(index.search(query)) == ["a"], query


# -- terms -------------------------------------------------------------------------------------------------------

VARIED = [
    "The Member State's authority examines the applicant’s claim; it doesn't decide at the border.",
    "Le statut de réfugié, l’asile et la protection subsidiaire — Ünterkunft, naïve façade, São Tomé, Ærø.",
    "ﬁngerprints in ＥＵＲＯＤＡＣ are kept 10 years (Article 17(2)); “quoted” ‘words’ and o'clock.",
    "Regulation (EU) 2024/1351\u00a0applies from 12\u2011June\u20112026 – not earlier; ΕΛΛΑΔΑ, Россия, 日本語.",
    "APPLICATIONS applied applying Applicant's APPLICANTS' ’tis rock’n’roll _under_scored_ x_y.",
    "",
    "   ",
    "Ĳssel Œuvre İstanbul ǅemal ß STRASSE straße ﬀ ﬃ ½ ² ①",
]


def reference_terms(text: str) -> list[str]:
    """What terms() returned before it remembered words: every word folded and stemmed afresh."""
    stemmer = snowballstemmer.stemmer("english")
    words = []
    for word in text_module._WORD.findall(text_module.normalize(text)):
        decomposed = unicodedata.normalize("NFD", word)
        folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
        words.append(folded.replace("'", "").replace("’", ""))
    return list(stemmer.stemWords([w for w in words if w and w not in text_module.STOPWORDS]))


def varied_texts() -> list[str]:
    rng = random.Random(3)
    pieces = " ".join(VARIED).split(" ")
    mixed = [" ".join(rng.choices(pieces, k=rng.randint(1, 40))) for _ in range(200)]
    return VARIED + mixed + [text.upper() for text in VARIED]


@pytest.mark.parametrize("cache_size", [text_module.TERM_CACHE_SIZE, 7])
def test_terms_match_uncached_snowball_stemming(monkeypatch: pytest.MonkeyPatch, cache_size: int) -> None:
    monkeypatch.setattr(text_module, "TERM_CACHE_SIZE", cache_size)
    text_module._term_cache.clear()
    for text in varied_texts() * 2:  # the second round reads remembered words
        assert terms(text) == reference_terms(text), text
        assert len(text_module._term_cache) <= cache_size
    assert terms("The Member State's applicants") == ["member", "state", "applic"]


# -- layout, counts and upgrade ------------------------------------------------------------------------------------

OLD_LAYOUT = """
CREATE TABLE chunk_rows (rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, doc_id TEXT NOT NULL,
    doctype TEXT NOT NULL DEFAULT '', tags TEXT NOT NULL DEFAULT '', source_url TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '', doc_hash TEXT NOT NULL DEFAULT '');
CREATE INDEX chunk_rows_doc ON chunk_rows(doc_id);
CREATE VIRTUAL TABLE chunk_terms USING fts5(heading, body, tokenize = 'unicode61');
CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def write_old_layout(path: Path, *, generation: str) -> None:
    """An index file as the first layout wrote it: one chunk and the generation it was synced to."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(OLD_LAYOUT)
    db.execute("INSERT INTO chunk_rows (rowid, id, doc_id) VALUES (1, 'old', 'doc-old')")
    db.execute("INSERT INTO chunk_terms (rowid, heading, body) VALUES (1, 'old', 'asylum procedur')")
    db.execute("INSERT INTO state VALUES ('generation', ?)", (generation,))
    db.commit()
    db.close()


def test_a_file_of_the_old_layout_is_emptied_and_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    write_old_layout(path, generation="gen-1")
    index = LexicalIndex(path)
    try:
        assert index.count() == 0 and index.get_state("generation") is None  # so the store re-syncs it
        index.upsert([*FILLER, make_chunk("a", "Asylum procedures at the border.")])
        assert _ids(index.search("asylum procedure")) == ["a"]
    finally:
        index.close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    reopened = LexicalIndex(path)  # the current layout is kept as it is
    try:
        assert reopened.count() == 7
    finally:
        reopened.close()


def test_store_resyncs_an_index_file_of_the_old_layout(tmp_path: Path, hash_embedder: Embedder) -> None:
    settings = Settings(data_dir=tmp_path / "data", embedding_model="hash")
    chunks = [*FILLER, make_chunk("a", "Asylum procedures at the border.", doc_id="asylum")]
    store = Store(settings, embedder=hash_embedder).open(create=True)
    store.add_chunks(chunks, hash_embedder.embed([c.embed_text for c in chunks]))
    path, generation = store.lexical.path, store.generation()
    store.close()
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    write_old_layout(path, generation=generation)  # claims to be in step, and is not
    store = Store(settings, embedder=hash_embedder)
    try:
        assert store.lexical.ids() == {c.id for c in chunks}
        assert _ids(store.lexical.search("asylum procedure")) == ["a"]
        assert store.lexical.get_state("generation") == generation
    finally:
        store.close()


def test_upsert_of_one_id_twice_keeps_the_last(index: LexicalIndex) -> None:
    index.upsert([*FILLER, make_chunk("a", "Family reunification."), make_chunk("a", "Long-term residence.")])
    assert index.count() == 7
    assert index.search("family") == [] and _ids(index.search("residence")) == ["a"]


# -- scoring outside FTS5: filters that leave few chunks, and the pruning of common terms ---------------------------

WORDS = ["asylum", "border", "procedure", "member", "state", "family", "child", "visa", "eurodac", "appeal",
         "court", "detention", "return", "screening", "permit", "work", "solidarity", "crisis"]  # fmt: skip


def random_chunks(n: int, seed: int) -> list[Chunk]:
    """Chunks of Zipf-like random words (the first words common, the last rare), in ten documents of two types."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(WORDS))]
    return [
        make_chunk(
            f"c{i}",
            " ".join(rng.choices(WORDS, weights, k=rng.randint(5, 40))),
            heading=" ".join(rng.choices(WORDS, weights, k=rng.randint(0, 3))),
            doc_id=f"d{i % 10}",
            doctype=("guide", "law")[i % 2],
        )
        for i in range(n)
    ]


QUERIES = ["eurodac asylum", "crisis solidarity member state", "child family visa permit work", "asylum border",
           "court appeal return detention screening", "asylum member state procedure border"]  # fmt: skip


def _scored(hits: list[LexicalHit]) -> list[tuple[str, float]]:
    # Sorted by score, then id: chunks with equal scores may come in either order.
    return sorted(((h.id, round(h.score, 9)) for h in hits), key=lambda hit: (-hit[1], hit[0]))


def _bm25_index(tmp_path: Path, name: str, chunks: list[Chunk], **options: int | None) -> LexicalIndex:
    index = LexicalIndex(tmp_path / f"{name}.sqlite3", **options)
    index.upsert(chunks)
    return index


def test_filtered_search_scores_like_fts5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chunks = random_chunks(200, seed=1)
    index = _bm25_index(tmp_path, "filters", chunks)
    try:
        # Writes, replacements and deletes keep the counts that scoring outside FTS5 relies on.
        index.upsert(random_chunks(30, seed=2))
        index.delete([f"c{i}" for i in range(40, 60)])
        for query in QUERIES:
            for filters in ({"doc_ids": ["d1", "d2"]}, {"doctype": "law"}, {"doc_ids": ["d3"], "doctype": "law"}):
                scanned = index.search(query, limit=15, **filters)  # type: ignore[arg-type]
                with monkeypatch.context() as patch:
                    patch.setattr(lexical, "SCANNED", 0)  # through FTS5 instead
                    matched = index.search(query, limit=15, **filters)  # type: ignore[arg-type]
                assert scanned and _scored(scanned) == _scored(matched), (query, filters)
    finally:
        index.close()


def test_pruned_search_ranks_the_rare_terms_chunks_by_their_full_score(tmp_path: Path) -> None:
    chunks = random_chunks(300, seed=4)
    full = _bm25_index(tmp_path, "full", chunks, score_budget=None)
    # A budget of one chunk: only the rarest term is matched; every chunk that holds it is rescored.
    pruned = LexicalIndex(full.path, score_budget=1, rescored=len(chunks))
    texts = {c.id: f"{c.heading_path} {c.text}".split() for c in chunks}
    try:
        for query in QUERIES:
            rarest = min(query.split(), key=lambda word: sum(word in words for words in texts.values()))
            want = [h for h in full.search(query, limit=300) if rarest in texts[h.id]]
            assert len(want) >= 5, query
            assert _scored(pruned.search(query, limit=5)) == _scored(want)[:5], query
            # Fewer chunks hold the rarest term than asked for: the search falls back to every term.
            assert _scored(pruned.search(query, limit=len(want) + 1)) == _scored(
                full.search(query, limit=len(want) + 1)
            )
    finally:
        pruned.close()
        full.close()


def test_common_terms_are_kept_when_no_term_is_rarer_than_half(tmp_path: Path) -> None:
    counts = [(1, 4), (2, 3), (3, 2), (4, 1)] * 3
    chunks = [make_chunk(f"c{i}", "asylum " * a + "border " * b) for i, (a, b) in enumerate(counts)]
    full = _bm25_index(tmp_path, "common", chunks, score_budget=None)
    pruned = LexicalIndex(full.path, score_budget=1, rescored=1)
    try:
        # Both terms are in every chunk, so BM25 weighs them alike: matching only one of them would rank the
        # chunks that say it four times first, but those that say each two or three times score higher.
        want = [round(h.score, 9) for h in full.search("asylum border", limit=5)]
        assert [round(h.score, 9) for h in pruned.search("asylum border", limit=5)] == want
    finally:
        pruned.close()
        full.close()


def test_pruned_search_misses_only_chunks_without_a_rare_term(tmp_path: Path) -> None:
    common = [make_chunk(f"visa-{i}", "visa " * (i + 1)) for i in range(5)]
    rare = [make_chunk("eurodac-0", "eurodac record"), make_chunk("eurodac-1", "eurodac data record"),
            make_chunk("eurodac-2", "eurodac " + "long text of other words " * 6)]  # fmt: skip
    filler = [make_chunk(f"f{i}", f"travel permit {i}") for i in range(10)]
    full = _bm25_index(tmp_path, "miss", [*common, *rare, *filler], score_budget=None)
    pruned = LexicalIndex(full.path, score_budget=3, rescored=3)
    try:
        assert _ids(full.search("eurodac visa", limit=3)) == ["eurodac-0", "eurodac-1", "visa-4"]
        # With the rarest term matched first, the chunk that says "visa" five times but not "eurodac" is missed ...
        assert _ids(pruned.search("eurodac visa", limit=3)) == ["eurodac-0", "eurodac-1", "eurodac-2"]
        # ... and when the rare term's chunks cannot fill the list, the search falls back to every term.
        assert _scored(pruned.search("eurodac visa", limit=8)) == _scored(full.search("eurodac visa", limit=8))
    finally:
        pruned.close()
        full.close()


def test_doc_ids_matching_tags_pages_and_sources(index: LexicalIndex) -> None:
    def page(doc_id: str, title: str, tags: str, source: str) -> Chunk:
        url = f"corpus/pages/{doc_id}.html"
        return Chunk(id=f"{doc_id}-1", doc_id=doc_id, text="Some text.", title=title, url=url, link=url, tags=tags,
                     source_url=source)  # fmt: skip

    index.upsert(
        [
            page("etias", "ETIAS: the travel authorisation", "visas; travel", "https://travel-europe.europa.eu/etias"),
            page("ees", "Entry/Exit System", "borders; travel", "https://travel-europe.europa.eu/ees"),
            page("blue-card", "EU Blue Card", "work; visas-long-stay", "https://eur-lex.europa.eu/eli/dir/2021/1883"),
        ]
    )
    assert index.doc_ids_matching(tags=["visas"]) == {"etias"}  # a whole tag, not a part of one
    assert index.doc_ids_matching(tags=["Travel", "work"]) == {"etias", "ees", "blue-card"}
    assert index.doc_ids_matching(pages=["corpus/pages/ees.html", "eu blue card"]) == {"ees", "blue-card"}
    assert index.doc_ids_matching(sources=["https://travel-europe.europa.eu/ees"]) == {"ees"}
    assert index.doc_ids_matching(tags=["travel"], sources=["https://travel-europe.europa.eu/ees"]) == {"ees"}
    assert index.doc_ids_matching(tags=["no-such-tag"]) == set()
    assert index.doc_ids_matching() == {"etias", "ees", "blue-card"}
    # A page's latest chunks give its metadata; a page goes when its last chunk goes.
    index.upsert([page("ees", "Entry/Exit System", "borders", "https://travel-europe.europa.eu/ees")])
    index.upsert([dataclasses.replace(page("ees", "Entry/Exit System", "borders", "x"), id="ees-2")])
    assert index.doc_ids_matching(tags=["travel"]) == {"etias"}
    index.delete(["ees-1", "etias-1"])
    assert index.doc_ids_matching(tags=["borders"]) == {"ees"} and index.doc_ids_matching(sources=["x"]) == {"ees"}
    index.delete(["ees-2"])
    assert index.doc_ids_matching() == {"blue-card"}
