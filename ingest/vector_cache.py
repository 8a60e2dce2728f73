"""Write the multilingual vectors of the bundled corpus's answer sentences to ``corpus/vectors/``.

``python -m ingest.vector_cache`` after changing a page of ``corpus/pages/``: ingest then finds every sentence of
the bundled corpus there and encodes nothing, so a first run stays fast on a laptop. A test checks that the file is
up to date with the pages.
"""

from __future__ import annotations

import argparse
import logging
import sys

from common.settings import Settings
from ingest.chunk import chunk
from ingest.sources import default_url, expand, read_file, to_page
from vectorstore.embeddings import get_embedder
from vectorstore.multilingual import CACHE_FILE, MultilingualEncoder, VectorCache
from vectorstore.records import Chunk


def corpus_chunks(settings: Settings) -> list[Chunk]:
    """The chunks of the bundled corpus, cut as ingest cuts them."""
    embedder = get_embedder(settings)
    items, bad = expand([])
    if bad:
        raise SystemExit(f"error: unreadable corpus pages: {bad}")
    out: list[Chunk] = []
    for item in items:
        page = to_page(read_file(item, settings.max_page_bytes), location=item.location, url=default_url(item))
        out.extend(
            chunk(
                page,
                count_tokens=embedder.count_tokens,
                max_tokens=embedder.max_tokens,
                chunk_tokens=settings.chunk_tokens,
                doc_id=item.doc_id,
                doc_hash="",
            )
        )
    return out


def sentence_texts(chunks: list[Chunk]) -> list[str]:
    """What the multilingual model encodes for the chunks: each answer sentence with its section's name."""
    return list(dict.fromkeys(c.sentence_in_context(s) for c in chunks for s in c.sentences))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest.vector_cache", description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = Settings()
    texts = sentence_texts(corpus_chunks(settings))
    encoder = MultilingualEncoder(cache=VectorCache(CACHE_FILE))
    vectors = encoder.passage(texts, progress=True)
    VectorCache.write(CACHE_FILE, texts, vectors)
    print(f"{len(texts)} sentences ({encoder.encoded} encoded now) -> {CACHE_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
