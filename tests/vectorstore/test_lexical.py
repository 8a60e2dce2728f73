"""The lexical (BM25) index in SQLite FTS5: writes, stemmed search, heading weight, filters, persistence."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from vectorstore.lexical import LexicalHit, LexicalIndex
from vectorstore.records import Chunk


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
