"""Rewrite mode: a language model turns the verified extract into a short answer in the question's language.

The extractive stages choose the sentences and verify them; the model sees only those sentences, each with its
``[n]``, and the question (a prompt of a few hundred tokens). Each sentence it writes is then checked against the
sentences it was given (``assistant.verify``: numbers must appear in them; meaning by the English model, or by the
multilingual one when the answer is in another language; an English sentence must also pass the multilingual model,
``confirmed``). A sentence without a marker, or with a wrong one, is credited to the given sentence that supports
it, when one does, and one whose markers pass also cites the given sentence that backs it best when that is another
(a small model often cites a neighbour of the right source); an unsupported one is dropped.

For a question in another language than the sources', the model is asked by default to translate the sentences
instead, line for line (``prompts/translate_user.txt``), without the question, which a small model would answer in
its own words instead: each line it writes is then credited to the sentence in the same place, and checked against
the sentences of that sentence's source; a line left in English, or written in a third language, is dropped, since
it is not the translation asked for. A small model keeps a translation closer to its sentence than a free answer in
another language, and the check across languages is surer of it (docs/evaluation.md, "Composers on a local model").
The setting ``rewrite_prompt`` (``rewrite``) asks for the free answer instead.

The rewrite is shown above the extract, which stays below it as the quotes it was written from: a shorter answer
loses no fact, and what the rewrite left out (figures, sources) is still there and named in the trace. The extract
is shown alone when the model fails or is too slow, or writes nothing that passes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant import prompts, rules
from assistant.answer import AnswerSentence, Dropped
from assistant.compose import NOT_IN_SOURCES
from assistant.compose.llm import _as_data, _text
from assistant.errors import ComposerError
from assistant.language import ENGLISH_NAMES, SOURCE_LANGUAGE, detect
from assistant.sentences import ChunkSentences
from assistant.verify import Cited, Verifier, numbers_in, parse_citations
from common.text import normalize, terms

log = logging.getLogger(__name__)


REWRITE_TOKENS_BASE = 40  # the reply's token budget: this, plus this many per word of the extract
REWRITE_TOKENS_PER_WORD = 2  # words in other languages take more tokens than English ones
MAX_REPEATS = 2  # the rewrite stops when sentences have come back this many times
TRANSLATE_WORDS = 50  # a translation takes the extract's first sentences up to this many words (one at least)
COPIED_WORDS = 0.5  # a line of a translation with this share of the English sentences' words, in English, is a copy


def _repeats(text: str) -> int:
    sentences = [normalize(c.text).lower() for c in parse_citations(text)]
    return len(sentences) - len(set(sentences))


@dataclass
class Rewrite:
    """What the model made of an extract: the sentences kept (numbered as in the extract), those dropped, and why the
    extract is shown alone (empty when the rewrite is shown above it)."""

    sentences: list[AnswerSentence] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    fallback: str = ""
    left_out: str = ""  # figures and sources of the extract the rewrite does not give (they stay in the quotes)
    raw: str = ""
    first_token: float | None = None  # seconds from the request to the model's first piece of text
    seconds: float = 0.0


def numbered(extract: Sequence[AnswerSentence]) -> str:
    """The extract's sentences as the model sees them: one a line, ending in its markers as the answer's should."""
    return "\n".join(f"- {_as_data(s.text)} {''.join(f'[{n}]' for n in s.citations)}" for s in extract)


def _sources(extract: Sequence[AnswerSentence], verifier: Verifier) -> dict[int, ChunkSentences]:
    """For each marker of the extract, its sentences with their vectors in the verifier's model."""
    texts = [s.text for s in extract]
    vectors = np.asarray(verifier.embedder.embed(texts))
    out: dict[int, ChunkSentences] = {}
    for n in sorted({n for s in extract for n in s.citations}):
        rows = [i for i, s in enumerate(extract) if n in s.citations]
        out[n] = ChunkSentences([texts[i] for i in rows], vectors[rows])
    return out


def check(
    written: Sequence[Cited], extract: Sequence[AnswerSentence], verifier: Verifier
) -> tuple[list[AnswerSentence], list[Dropped]]:
    """Keep the written sentences that the extract's sentences support, each citing the markers that back it."""
    sources = _sources(extract, verifier)
    kept: list[AnswerSentence] = []
    dropped: list[Dropped] = []
    vectors = list(verifier.embedder.embed([c.text for c in written])) if written else []
    seen: set[str] = set()
    for c, vector in zip(written, vectors, strict=True):
        key = normalize(c.text).lower()
        if key in seen:  # small models repeat themselves
            dropped.append(Dropped(c.text, "repeats a sentence of the rewrite"))
            continue
        if c.text.endswith("?"):  # the question said back, or one asked of the reader: not an answer
            dropped.append(Dropped(c.text, "a question, not an answer"))
            continue
        seen.add(key)
        scored = [(verifier.support(c.text, [src], vector=vector), n) for n, src in sources.items()]
        passing = [(s.score, n) for s, n in scored if s.passes(verifier.threshold)]
        best = max(passing, default=None)
        valid = tuple(n for n in c.citations if n in sources)
        if valid:
            support = verifier.support(c.text, [sources[n] for n in valid], vector=vector)
            if support.passes(verifier.threshold):
                # The model's markers pass; the sentence that backs it best is cited too when it is another one.
                if best is not None and best[1] not in valid and best[0] > support.score:
                    valid = tuple(sorted((*valid, best[1])))
                    support = verifier.support(c.text, [sources[n] for n in valid], vector=vector)
                kept.append(AnswerSentence(c.text, valid, round(support.score, 3)))
                continue
        if best is not None:
            score, n = best
            kept.append(AnswerSentence(c.text, (n,), round(score, 3)))
            continue
        cited = ", ".join(f"[{n}]" for n in c.citations) or "no marker"
        dropped.append(Dropped(c.text, f"rewrite not supported by the sentences it was given ({cited})"))
    return kept, dropped


def confirmed(
    kept: Sequence[AnswerSentence], extract: Sequence[AnswerSentence], second: Verifier
) -> tuple[list[AnswerSentence], list[Dropped]]:
    """The kept sentences that a second model also finds in the sentences they cite. Meaning checked by one small
    embedding model can pass a short sentence on shared words (all-MiniLM-L6-v2 took "you do not have to pay"
    from sentences that never said it); a sentence two models read as the sources' is surer. The extract stays below
    the rewrite, so a sentence dropped here loses no fact."""
    if not kept:
        return [], []
    sources = _sources(extract, second)
    vectors = second.embedder.embed([s.text for s in kept])
    out: list[AnswerSentence] = []
    dropped: list[Dropped] = []
    for sentence, vector in zip(kept, vectors, strict=True):
        if second.support(sentence.text, [sources[n] for n in sentence.citations], vector=vector).passes(
            second.threshold
        ):
            out.append(sentence)
        else:
            dropped.append(Dropped(sentence.text, "rewrite not confirmed by the multilingual model"))
    return out, dropped


def line_for_line(raw: str, extract: Sequence[AnswerSentence]) -> list[Cited]:
    """A translation's lines, each credited to the extract's sentence in the same place (the model's own markers
    are not trusted); empty when the lines and the sentences do not pair up one to one."""
    lines = [line.strip().lstrip("-*•").strip() for line in raw.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) != len(extract):
        return []
    out: list[Cited] = []
    for line, sentence in zip(lines, extract, strict=True):
        parsed = parse_citations(line)
        text = " ".join(c.text for c in parsed).strip() if parsed else line
        if not text:
            return []
        out.append(Cited(text, tuple(sentence.citations)))
    return out


def translated(
    written: Sequence[Cited], given: Sequence[AnswerSentence], language: str
) -> tuple[list[Cited], list[Dropped]]:
    """The lines of a translation into ``language`` that are translations into it.

    A small model sometimes copies a sentence instead of translating it, which verification would pass (it is the
    source) though it is not what was asked: a line is a copy when it reads as English and most of its words are the
    given sentences' words (a translation shares names and figures with them, and a detector can take a short line
    with an English term in it for English). It also writes a neighbouring language instead of a smaller one (Italian
    for Maltese): a line the detector is sure is in a third language is dropped too, since the person did not ask
    in it."""
    source_words = set(terms(" ".join(s.text for s in given)))
    kept: list[Cited] = []
    dropped: list[Dropped] = []
    for c in written:
        words = terms(c.text)
        shared = sum(w in source_words for w in words) / len(words) if words else 1.0
        found = detect(c.text)
        if found.code == SOURCE_LANGUAGE and shared >= COPIED_WORDS:
            dropped.append(Dropped(c.text, "left in English, not translated"))
        elif found.by == "detected" and found.code not in (language, SOURCE_LANGUAGE):
            wrote = ENGLISH_NAMES.get(found.code, found.code)
            dropped.append(Dropped(c.text, f"written in {wrote}, not in {ENGLISH_NAMES.get(language, language)}"))
        else:
            kept.append(c)
    return kept, dropped


def missing(extract: Sequence[AnswerSentence], kept: Sequence[AnswerSentence]) -> str:
    """What of the extract the rewrite lost (figures, sources), as a short reason; empty when nothing."""
    text = " ".join(s.text for s in kept)
    lost_numbers = sorted(numbers_in(" ".join(s.text for s in extract)) - numbers_in(text))
    cited = {n for s in kept for n in s.citations}
    lost_sources = sorted({n for s in extract for n in s.citations} - cited)
    parts = []
    if lost_numbers:
        parts.append(f"figures {', '.join(lost_numbers)}")
    if lost_sources:
        parts.append(f"sources {', '.join(f'[{n}]' for n in lost_sources)}")
    return f"the rewrite left out {' and '.join(parts)}" if parts else ""


class Rewriter:
    """Asks a chat model (anything with ``stream(messages)``, see ``assistant.compose.llm``) to rewrite extracts."""

    def __init__(self, model: Callable[[], Any], *, name: str, timeout: float = 30.0, translate: bool = True) -> None:
        self._model = model  # called on first use: loading a local model waits for the first question
        self.name = name
        self.timeout = timeout
        self.translate = translate  # questions in other languages: a translation line for line (module docstring)

    def translates(self, language: str) -> bool:
        """Whether the model is asked to translate the extract (rather than rewrite it) for this language."""
        return self.translate and language != SOURCE_LANGUAGE

    def given(self, extract: Sequence[AnswerSentence], language: str) -> list[AnswerSentence]:
        """The sentences the model is given: all of them to rewrite; to translate, the first ones up to
        ``TRANSLATE_WORDS`` words, since a small model writes other languages slowly (the rest stay in the quotes)."""
        if not self.translates(language):
            return list(extract)
        out: list[AnswerSentence] = []
        words = 0
        for sentence in extract:
            words += len(sentence.text.split())
            if out and words > TRANSLATE_WORDS:
                break
            out.append(sentence)
        return out

    @property
    def model(self) -> Any:
        return self._model()

    def warm_up(self) -> None:
        """Load the model now; a local one also reads the system message once (see ``assistant.compose.local``)."""
        warm = getattr(self.model, "warm_up", None)
        if warm is not None:
            warm(prompts.load("rewrite_system"))

    def messages(self, question: str, extract: Sequence[AnswerSentence], language: str) -> list[dict[str, str]]:
        # One system message for both tasks, so that a local model reads it once (the prefix it keeps).
        user = prompts.load("translate_user" if self.translates(language) else "rewrite_user").format(
            question=_as_data(question),
            sentences=numbered(extract),
            language=ENGLISH_NAMES.get(language, ENGLISH_NAMES[SOURCE_LANGUAGE]),
        )
        return [{"role": "system", "content": prompts.load("rewrite_system")}, {"role": "user", "content": user}]

    def rewrite(
        self,
        question: str,
        extract: Sequence[AnswerSentence],
        *,
        language: str,
        verifier: Verifier,
        second: Verifier | None = None,
    ) -> Rewrite:
        """The model's rewrite of ``extract``, checked by ``verifier`` and, when given, confirmed by ``second``
        (another model); ``fallback`` says why the extract stands instead."""
        result = Rewrite()
        given = self.given(extract, language)
        started = time.perf_counter()
        # Room for the extract said again in other words, not for a model that runs on.
        budget = REWRITE_TOKENS_BASE + REWRITE_TOKENS_PER_WORD * sum(len(s.text.split()) for s in given)
        try:
            for piece in self._stream(self.messages(question, given, language), max_tokens=budget):
                if result.first_token is None:
                    result.first_token = time.perf_counter() - started
                result.raw += piece
                if time.perf_counter() - started > self.timeout:
                    raise ComposerError(f"the rewrite took more than {self.timeout:g} s")
                if ("\n" in piece or piece.rstrip().endswith((".", "]"))) and _repeats(result.raw) >= MAX_REPEATS:
                    break  # a small model caught in a loop: what it wrote so far is checked
        except ComposerError as exc:
            result.fallback = str(exc)
        result.seconds = time.perf_counter() - started
        if result.fallback:
            return result
        raw = rules.pattern("rewrite-label").sub("", result.raw.replace(NOT_IN_SOURCES, "")).strip()
        if not raw:
            result.fallback = "the model wrote no answer"
            return result
        written = parse_citations(raw)
        untranslated: list[Dropped] = []
        if self.translates(language):
            written = line_for_line(raw, given) or written
            written, untranslated = translated(written, given, language)
        result.sentences, result.dropped = check(written, given, verifier)
        unconfirmed: list[Dropped] = []
        if second is not None:
            result.sentences, unconfirmed = confirmed(result.sentences, given, second)
        result.dropped = untranslated + result.dropped + unconfirmed
        if not result.sentences:
            result.fallback = "no sentence of the rewrite passed verification"
        else:
            result.left_out = missing(extract, result.sentences)
        return result

    def _stream(self, messages: list[dict[str, str]], *, max_tokens: int) -> Iterator[str]:
        model = self.model
        # The in-process model takes a token budget per reply; a server's client has its own from the settings.
        local = getattr(model, "local", False)
        stream = model.stream(messages, max_tokens=max_tokens) if local else model.stream(messages)
        try:
            for piece in stream:
                text = _text(getattr(piece, "content", piece))
                if text:
                    yield text
        except ComposerError:
            raise
        except Exception as exc:  # network errors, timeouts, bad payloads: the extract stands
            raise ComposerError(f"the {self.name} model failed: {type(exc).__name__}: {exc}") from exc
