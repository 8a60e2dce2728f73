"""Retrieval quality on the nine Pact acts: does the right article come back among the first five?

``python -m bench.retrieval_bench`` ingests the acts (from ../shared/reference, as Markdown with one section per
article) with the project's pipeline, then asks the 160 development questions of bench/pact_questions.jsonl (each
names its act and the articles that answer it) of several retrievers:

- ``tutorial``: the pipeline of a LangChain tutorial: whole documents, RecursiveCharacterTextSplitter(1000, 200),
  the same MiniLM model, Chroma similarity top 5;
- ``dense``: our article-sized chunks (heading path in front), vector search alone;
- ``lexical``: the same chunks, stemmed BM25 alone;
- ``hybrid``: reciprocal rank fusion of the two;
- ``assistant``: the assistant's retriever as configured (fusion, typo repair, at most ``max_per_page`` passages
  of one page);
- ``assistant, no page cap``: the same with the cap lifted (the acts are nine very long pages).

A passage counts when it belongs to a named article of the named act (for the tutorial's splits: when the split
holds the article's heading or most of the split lies inside the article). Figures per question style (plain,
paraphrase, typo, keyword) go to bench/results/retrieval.json and docs/benchmarks.md.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import pact
from common.settings import Settings
from ingest.pipeline import Ingestor
from vectorstore.embeddings import Embedder, get_embedder
from vectorstore.records import Chunk
from vectorstore.store import Store

QUESTIONS = Path(__file__).resolve().parent / "pact_questions.jsonl"
RESULTS = Path(__file__).resolve().parent / "results"
K = 5
_ARTICLE = re.compile(r"Article (\d+)\b")


def act_addresses() -> dict[str, str]:
    """Each act's ELI address (the url its chunks carry) -> its short name in the questions file."""
    return {pact.eli(str(pact.load(act)["celex"])): act for act in pact.ACTS}


def article_of(chunk: Chunk, acts: dict[str, str]) -> tuple[str, int | None]:
    """The act and the article number a chunk belongs to."""
    match = _ARTICLE.match(chunk.section) or _ARTICLE.search(chunk.heading_path.rsplit(" > ", 1)[-1])
    return acts.get(chunk.url.split("#")[0], chunk.url), int(match.group(1)) if match else None


class TutorialRetriever:
    """Whole documents, 1,000-character splits with 200 of overlap, top-k cosine similarity in Chroma."""

    def __init__(self, folder: Path, embedder: Embedder, workdir: Path) -> None:
        from langchain_chroma import Chroma
        from langchain_core.documents import Document
        from langchain_core.embeddings import Embeddings
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        class _Model(Embeddings):
            def embed_documents(self, texts: list[str]) -> list[list[float]]:
                return embedder.embed(texts).tolist()

            def embed_query(self, text: str) -> list[float]:
                return embedder.embed([text])[0].tolist()

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
        self.spans: dict[str, list[tuple[int, int, int]]] = {}
        documents = []
        for path in sorted(folder.glob("*.md")):
            text = path.read_text(encoding="utf-8")
            heads = [(m.start(), int(m.group(1))) for m in re.finditer(r"^## Article (\d+)", text, re.MULTILINE)]
            ends = [start for start, _ in heads[1:]] + [len(text)]
            self.spans[path.stem] = [(start, end, n) for (start, n), end in zip(heads, ends, strict=True)]
            documents += splitter.split_documents([Document(page_content=text, metadata={"act": path.stem})])
        from chromadb.config import Settings as ChromaSettings

        self.db = Chroma(
            collection_name="tutorial",
            embedding_function=_Model(),
            persist_directory=str(workdir),
            client_settings=ChromaSettings(anonymized_telemetry=False, is_persistent=True),
        )
        self.db.add_documents(documents)

    def articles(self, question: str) -> list[tuple[str, set[int]]]:
        """For each of the top splits, its act and the articles it covers (heading inside, or most of it)."""
        out = []
        for doc in self.db.similarity_search(question, k=K):
            start = int(doc.metadata["start_index"])
            end = start + len(doc.page_content)
            covered = set()
            for a_start, a_end, n in self.spans[doc.metadata["act"]]:
                overlap = min(end, a_end) - max(start, a_start)
                if start <= a_start < end or overlap >= (end - start) / 2:
                    covered.add(n)
            out.append((doc.metadata["act"], covered))
        return out


def score(found: Sequence[Sequence[tuple[str, set[int]]]], questions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """hit@1, hit@5 and MRR@5, overall and per style."""
    rows: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for q, results in zip(questions, found, strict=True):
        wanted = set(q["articles"])
        ranks = [i for i, (act, arts) in enumerate(results[:K], start=1) if act == q["act"] and arts & wanted]
        first = ranks[0] if ranks else None
        row = (float(first == 1), float(first is not None), 1.0 / first if first else 0.0)
        rows["all"].append(row)
        rows[q["style"]].append(row)
    return {
        style: {
            "n": len(values),
            "hit@1": round(sum(v[0] for v in values) / len(values), 3),
            "hit@5": round(sum(v[1] for v in values) / len(values), 3),
            "mrr@5": round(sum(v[2] for v in values) / len(values), 3),
        }
        for style, values in rows.items()
    }


def chunk_results(
    search: Callable[[str], list[Chunk]], questions: Sequence[dict[str, Any]], acts: dict[str, str]
) -> list[Any]:
    """Run a chunk retriever over the questions, as (act, {article}) lists."""
    out = []
    for q in questions:
        found = []
        for c in search(q["question"]):
            act, article = article_of(c, acts)
            found.append((act, {article} if article is not None else set()))
        out.append(found)
    return out


def main() -> int:
    """Run every retriever over the questions and write the figures."""
    from assistant.retrieve import Retriever, fuse

    if not pact.available():
        print("the Pact texts are not beside the checkout (../shared/reference): nothing to measure", file=sys.stderr)
        return 1
    questions = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    report: dict[str, Any] = {"questions": len(questions), "k": K, "retrievers": {}}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "pact"
        pact.write_markdown(folder)
        settings = Settings(data_dir=Path(tmp) / "data")
        embedder = get_embedder(settings)
        store = Store(settings, embedder=embedder)
        started = time.perf_counter()
        Ingestor(settings, store=store).run([str(folder)], progress=False)
        report["ingest_s"] = round(time.perf_counter() - started, 1)
        report["chunks"] = store.count()

        def dense(q: str) -> list[Chunk]:
            return [h.chunk for h in store.dense_search(embedder.embed([q])[0], k=K)]

        def lexical(q: str) -> list[Chunk]:
            return store.get_chunks([h.id for h in store.lexical.search(q, limit=K)])

        def hybrid(q: str) -> list[Chunk]:
            d = [h.chunk.id for h in store.dense_search(embedder.embed([q])[0], k=settings.candidates)]
            lex = [h.id for h in store.lexical.search(q, limit=settings.candidates)]
            fused = fuse(d, lex)
            return store.get_chunks(sorted(fused, key=fused.__getitem__, reverse=True)[:K])

        retriever = Retriever(store, settings)
        uncapped = Retriever(store, dataclasses.replace(settings, max_per_page=K))
        runs: dict[str, Callable[[str], list[Chunk]]] = {
            "dense": dense,
            "lexical": lexical,
            "hybrid": hybrid,
            "assistant": lambda q: [p.chunk for p in retriever.retrieve(q, k=K).passages],
            "assistant, no page cap": lambda q: [p.chunk for p in uncapped.retrieve(q, k=K).passages],
        }
        tutorial = TutorialRetriever(folder, embedder, Path(tmp) / "tutorial")
        report["retrievers"]["tutorial"] = score([tutorial.articles(q["question"]) for q in questions], questions)
        for name, search in runs.items():
            report["retrievers"][name] = score(chunk_results(search, questions, act_addresses()), questions)
        store.close()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "retrieval.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    styles = ["all", "plain", "paraphrase", "typo", "keyword"]
    print(f"hit@{K} by question style ({len(questions)} questions, {report['chunks']} chunks)")
    print("retriever".ljust(24) + "".join(s.rjust(12) for s in styles))
    for name, figures in report["retrievers"].items():
        print(name.ljust(24) + "".join(str(figures.get(s, {}).get(f"hit@{K}", "-")).rjust(12) for s in styles))
    return 0


if __name__ == "__main__":
    sys.exit(main())
