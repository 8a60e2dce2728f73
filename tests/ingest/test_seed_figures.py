"""The Commission's overview page as scraped text (../shared/seed, when present): its run-on figures panel is read
as one statement per figure, and plain figure questions about it are answered with the figure, cited."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.service import Assistant
from common.settings import Settings
from ingest.pipeline import Ingestor
from tests.conftest import SHARED
from vectorstore.embeddings import Embedder
from vectorstore.store import Store

SEED = SHARED / "seed" / "eu-migration-and-asylum-overview.txt"

pytestmark = pytest.mark.skipif(not SEED.exists(), reason="../shared/seed is not here")


@pytest.fixture(scope="module")
def seed_assistant(tmp_path_factory: pytest.TempPathFactory, bundled: Embedder) -> Assistant:
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("seed")))
    store = Store(settings, embedder=bundled)
    summary = Ingestor(settings, store=store).run([str(SEED)], progress=False)
    assert not summary.skipped
    return Assistant(settings, store=store)


@pytest.mark.parametrize(
    ("question", "figure"),
    [
        ("How many people from outside the EU live in the EU?", "27.3 million"),
        ("how many irregular border crossings were registered in 2023", "385 445"),
        ("How many legal entries were there in 2023?", "3 741 015"),
        ("How many non-EU citizens have a job in the EU?", "11.2 million"),
    ],
)
def test_figure_questions_about_the_scraped_page_are_answered(
    seed_assistant: Assistant, question: str, figure: str
) -> None:
    answer = seed_assistant.ask(question)
    assert not answer.refused, answer.trace
    assert figure in answer.text and answer.citations
