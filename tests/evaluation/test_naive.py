"""The tutorial baseline: whole pages in 1000-character splits, the top split quoted and cited, never a refusal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.verify import Verifier
from common.settings import Settings
from evaluation.dataset import QAItem, Turn
from evaluation.naive import CHUNK_SIZE, TOP_K, NaivePipeline, page_text
from evaluation.runner import Scorer
from tests.ingest.pages import ingest_into, write_pages
from vectorstore.embeddings import Embedder
from vectorstore.records import Chunk
from vectorstore.sentences import answer_units, split_sentences
from vectorstore.store import Store


def test_page_text_puts_each_new_sections_heading_before_its_text() -> None:
    def part(position: int, section: str, text: str) -> Chunk:
        return Chunk(
            id=str(position), doc_id="d", text=text, title="T", url="u", link="u", section=section, position=position
        )

    chunks = [
        part(2, "Fees", "It costs EUR 20."),
        part(1, "Fees", "A fee applies."),
        part(3, "Exemptions", "Children pay nothing."),
    ]
    assert page_text(chunks) == "Fees\nA fee applies.\n\nIt costs EUR 20.\n\nExemptions\nChildren pay nothing."


@pytest.fixture(scope="module")
def store(corpus_settings: Settings, bundled: Embedder) -> Iterator[Store]:
    store = Store(corpus_settings, embedder=bundled)
    yield store
    store.close()


@pytest.fixture(scope="module")
def naive(store: Store, corpus_settings: Settings) -> Iterator[NaivePipeline]:
    pipeline = NaivePipeline(store, corpus_settings)
    yield pipeline
    pipeline.close()


@pytest.mark.slow
def test_answers_quote_the_top_1000_character_split_and_cite_it(naive: NaivePipeline, store: Store) -> None:
    answer = naive.answer(QAItem(id="q", question="How much does the ETIAS travel authorisation cost?"))
    assert not answer.refused
    assert [p.rank for p in answer.passages] == list(range(1, TOP_K + 1))
    top = answer.passages[0]
    assert all(len(p.text) <= CHUNK_SIZE and "#" not in p.url and p.section == "" for p in answer.passages)
    pages = {r.url: page_text(store.get_chunks(r.chunk_ids)) for r in store.list_documents()}
    assert all(p.text in pages[p.url] for p in answer.passages)  # splits of whole pages, not the store's chunks
    stored = {c.text for c in store.get_chunks(store.all_chunk_ids())}
    assert not all(p.text in stored for p in answer.passages)
    assert [s.text for s in answer.sentences] == answer_units(split_sentences(top.text))
    assert all(s.citations == (1,) for s in answer.sentences) and answer.text.endswith("[1]")
    assert len(answer.citations) == 1
    citation = answer.citations[0]
    assert (citation.n, citation.url, citation.title, citation.section) == (1, top.url, top.title, "")
    assert citation.chunk_id == top.chunk_id and top.text.startswith(citation.snippet.rstrip("…"))


@pytest.mark.slow
def test_it_never_refuses_and_ignores_history(naive: NaivePipeline) -> None:
    off_topic = naive.answer(QAItem(id="x", question="What is a good recipe for lasagne?"))
    assert not off_topic.refused and off_topic.citations and len(off_topic.passages) == TOP_K
    follow_up = QAItem(
        id="f",
        question="And for children?",
        history=(Turn("user", "How much does ETIAS cost?"), Turn("assistant", "EUR 20.")),
    )
    alone = QAItem(id="a", question="And for children?")
    assert [p.chunk_id for p in naive.answer(follow_up).passages] == [p.chunk_id for p in naive.answer(alone).passages]


@pytest.mark.slow
def test_scored_its_citations_resolve_and_anchors_never_match(naive: NaivePipeline, bundled: Embedder) -> None:
    answer = naive.answer(QAItem(id="etias", question="How much does ETIAS cost?"))
    page = answer.passages[0].url
    item = QAItem(id="etias", question="How much does ETIAS cost?", reference_sources=(f"{page}#a-section",))
    row = Scorer(bundled, Verifier(bundled, threshold=0.62), k=5).score_row(item, answer)
    assert row["faithfulness"] == 1.0  # it quotes the passage it cites, and the citation resolves to its text
    assert row["page/hit@5"] == 1.0 and row["section/hit@5"] == 0.0  # the right page, never a section


def test_the_index_lives_in_the_data_folder_until_closed(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", embedding_model="hash")
    ingest_into(
        settings, [str(p) for p in write_pages(tmp_path / "pages", {"fees": "visa fees", "work": "work permits"})]
    )
    store = Store(settings)
    with NaivePipeline(store, settings) as pipeline:
        answer = pipeline.answer(QAItem(id="q", question="Who decides on visa fees?"))
        assert answer.passages and answer.passages[0].url.endswith("fees.html")
        assert len(list((settings.data_dir / "tmp").iterdir())) == 1
    assert list((settings.data_dir / "tmp").iterdir()) == []
    store.close()
