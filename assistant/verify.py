"""Citation checking: parse ``[n]`` markers, test each sentence against the passages it cites, keep only supported ones.

A sentence is supported by a set of passages when all three hold:
- every number it states (figures, dates, article numbers) appears in those passages;
- ``LEXICAL_FLOOR`` of its content words (stemmed) appear in them;
- its support score, the mean of that word share and of its best cosine similarity to a sentence of the passages
  (the bundled embedding model), reaches the threshold (``Settings.support_threshold``, default 0.62).
A near-copy of a passage sentence that adds or removes a negation is not supported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant import rules
from assistant.answer import AnswerSentence, Citation, Dropped
from assistant.retrieve import Passage
from assistant.sentences import ChunkSentences
from common.text import normalize, terms
from vectorstore.embeddings import Embedder
from vectorstore.multilingual import MultilingualEncoder, calibrated
from vectorstore.sentences import split_sentences

LEXICAL_FLOOR = rules.value("lexical-floor")
NEGATION_CHECK_FROM = rules.value("negation-check-from")  # word share from which a sentence is a near-copy
SNIPPET_CHARS = 280

_MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\s*\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\s*\d{1,3}(?:\s*[,;]\s*\d{1,3})*\s*\])+[.,;]?\s*")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_NUMBER = re.compile(r"\d+(?:[.,\u202f\u00a0 ]\d{3})*(?:[.,]\d+)?")


@dataclass(frozen=True)
class Cited:
    """A sentence of a composed answer, without its markers, and the numbers it cited."""

    text: str
    citations: tuple[int, ...]


@dataclass(frozen=True)
class Support:
    """How well some passages back a sentence."""

    score: float
    lexical: float
    semantic: float
    numbers_ok: bool
    negation_ok: bool = True
    cross_language: bool = False  # words are not compared across languages: numbers and meaning decide

    def passes(self, threshold: float) -> bool:
        """Whether this support is enough to show the sentence as cited."""
        words_ok = self.cross_language or self.lexical >= LEXICAL_FLOOR
        return self.numbers_ok and self.negation_ok and words_ok and self.score >= threshold


def parse_citations(text: str) -> list[Cited]:
    """Split a composed answer into sentences with their ``[n]`` numbers (markers after a full stop count too)."""
    pieces: list[str] = []
    for line in text.splitlines():
        line = _BULLET.sub("", line)
        for sentence in split_sentences(line):
            lead = _LEADING_MARKERS.match(sentence)
            if lead and pieces:
                pieces[-1] = f"{pieces[-1]} {lead.group(0).strip()}"
                sentence = sentence[lead.end() :]
            if sentence.strip():
                pieces.append(sentence.strip())
    out: list[Cited] = []
    for piece in pieces:
        numbers: list[int] = []
        for match in _MARKER.finditer(piece):
            numbers.extend(int(n) for n in re.split(r"\s*[,;]\s*", match.group(1)))
        clean = normalize(_MARKER.sub("", piece))
        clean = re.sub(r"\s+([.,;:!?])", r"\1", clean).strip()
        if re.search(r"\w", clean):
            out.append(Cited(clean, tuple(dict.fromkeys(numbers))))
    return out


def numbers_in(text: str) -> set[str]:
    """The numbers a text states, with thousands separators removed ("20 000" and "20,000" are "20000")."""
    out = set()
    for match in _NUMBER.finditer(text):
        value = re.sub(r"[,\u202f\u00a0 ](?=\d{3}\b)", "", match.group(0))
        out.add(value.replace(",", "."))
    return out


def _negations(text: str) -> int:
    words = re.findall(r"[a-z']+", text.lower().replace("n't", " n't"))
    negations = rules.words("negations")
    return sum(1 for w in words if w in negations)


class Verifier:
    """Checks answer sentences against passages with words, numbers and the embedding model."""

    def __init__(self, embedder: Embedder, *, threshold: float) -> None:
        self.embedder = embedder
        self.threshold = threshold

    def support(self, sentence: str, sources: Sequence[ChunkSentences], *, vector: np.ndarray | None = None) -> Support:
        """How well ``sources`` (passages' sentences with vectors) back ``sentence``."""
        source_sentences = [s for src in sources for s in src.sentences]
        if not source_sentences:
            return Support(0.0, 0.0, 0.0, False)
        joined = " ".join(source_sentences)
        wanted = set(terms(sentence))
        lexical = len(wanted & set(terms(joined))) / len(wanted) if wanted else 0.0
        numbers_ok = numbers_in(sentence) <= numbers_in(joined)
        key = normalize(sentence).lower()
        exact = next((s for s in source_sentences if normalize(s).lower() == key), None)
        if exact is not None:
            return Support(1.0, 1.0, 1.0, numbers_ok)
        if vector is None:
            vector = self.embedder.embed([sentence])[0]
        matrix = np.vstack([src.vectors for src in sources])
        similarities = matrix @ vector
        best = int(np.argmax(similarities))
        semantic = float(similarities[best])
        negation_ok = True
        if lexical >= NEGATION_CHECK_FROM:
            negation_ok = (_negations(sentence) > 0) == (_negations(source_sentences[best]) > 0)
        return Support((lexical + semantic) / 2, lexical, semantic, numbers_ok, negation_ok)

    def supports(self, sentence: str, sources: Sequence[ChunkSentences]) -> bool:
        """Whether ``sources`` jointly back ``sentence`` (the evaluation's faithfulness check uses this too)."""
        return self.support(sentence, sources).passes(self.threshold)


class _Passages:
    """The multilingual model as the verifier's encoder: answer sentences encoded as the sources' sentences were."""

    def __init__(self, encoder: MultilingualEncoder) -> None:
        self.encoder = encoder

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.passage(list(texts))


class CrossLanguageVerifier(Verifier):
    """Checks sentences written in another language than their sources (a model answering a French question from
    English passages): every number must appear in the passages, and the sentence's best similarity to a source
    sentence by the multilingual model, on the English model's scale, must reach the threshold
    (``cross-language-support``). Words are not compared: they differ by language."""

    def __init__(self, encoder: MultilingualEncoder, *, threshold: float) -> None:
        super().__init__(_Passages(encoder), threshold=threshold)  # type: ignore[arg-type]

    def support(self, sentence: str, sources: Sequence[ChunkSentences], *, vector: np.ndarray | None = None) -> Support:
        source_sentences = [s for src in sources for s in src.sentences]
        if not source_sentences:
            return Support(0.0, 0.0, 0.0, False, cross_language=True)
        numbers_ok = numbers_in(sentence) <= numbers_in(" ".join(source_sentences))
        key = normalize(sentence).lower()
        if any(normalize(s).lower() == key for s in source_sentences):
            return Support(1.0, 1.0, 1.0, numbers_ok, cross_language=True)
        if vector is None:
            vector = self.embedder.embed([sentence])[0]
        semantic = float(calibrated(float((np.vstack([src.vectors for src in sources]) @ vector).max())))
        return Support(semantic, 0.0, semantic, numbers_ok, cross_language=True)


class Checker:
    """Verifies an answer's sentences one at a time (so that a streamed answer shows only checked sentences).

    ``[n]`` in a sentence refers to ``passages[n - 1]``. A sentence its citations support is kept, citing those of
    them that support it alone (all of them when none does alone); one that they do not support is credited to the
    passage that supports it best, if any does; otherwise it is dropped with the reason. Kept sentences are
    renumbered 1, 2, ... in the order their sources first appear.
    """

    def __init__(self, passages: Sequence[Passage], sentences: dict[str, ChunkSentences], verifier: Verifier) -> None:
        self.passages = list(passages)
        self.sources = [sentences[p.chunk.id] for p in self.passages]
        self.verifier = verifier
        self.kept: list[AnswerSentence] = []
        self.dropped: list[Dropped] = []
        self._order: dict[int, int] = {}
        self._known = {normalize(s).lower() for src in self.sources for s in src.sentences}

    def _vectors(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        need = [i for i, t in enumerate(texts) if normalize(t).lower() not in self._known]
        out: list[np.ndarray | None] = [None] * len(texts)
        if need:
            encoded = self.verifier.embedder.embed([texts[i] for i in need])
            for row, i in enumerate(need):
                out[i] = encoded[row]
        return out

    def add(self, batch: Sequence[Cited]) -> list[AnswerSentence]:
        """Check sentences; return those kept (numbered for the answer), remember those dropped."""
        out = []
        for c, vector in zip(batch, self._vectors([c.text for c in batch]), strict=True):
            kept = self._check(c, vector)
            if isinstance(kept, Dropped):
                self.dropped.append(kept)
                continue
            text, numbers, score = kept
            for n in numbers:
                self._order.setdefault(n, len(self._order) + 1)
            sentence = AnswerSentence(text, tuple(sorted(self._order[n] for n in numbers)), round(score, 3))
            self.kept.append(sentence)
            out.append(sentence)
        return out

    def _check(self, c: Cited, vector: np.ndarray | None) -> tuple[str, tuple[int, ...], float] | Dropped:
        verifier, sources = self.verifier, self.sources
        valid = tuple(n for n in c.citations if 1 <= n <= len(sources))
        invented = [n for n in c.citations if n not in valid]
        if valid:
            support = verifier.support(c.text, [sources[n - 1] for n in valid], vector=vector)
            if support.passes(verifier.threshold):
                alone = [
                    n
                    for n in valid
                    if verifier.support(c.text, [sources[n - 1]], vector=vector).passes(verifier.threshold)
                ]
                return c.text, tuple(alone) or valid, support.score
        scored = [(verifier.support(c.text, [src], vector=vector), n) for n, src in enumerate(sources, start=1)]
        passing = [(s.score, n) for s, n in scored if s.passes(verifier.threshold)]
        if passing:
            score, n = max(passing)
            return c.text, (n,), score
        if invented and not valid:
            reason = f"cites {', '.join(f'[{n}]' for n in invented)}, which is not among the sources"
        elif not c.citations:
            reason = "cites no source, and no source supports it"
        else:
            reason = f"not supported by {', '.join(f'[{n}]' for n in valid or c.citations)}"
        return Dropped(c.text, reason)

    def citations(self) -> list[Citation]:
        """The sources of the kept sentences, numbered as in the answer."""
        return [
            citation(self._order[n], self.passages[n - 1]) for n in sorted(self._order, key=self._order.__getitem__)
        ]


def verify(
    cited: Sequence[Cited],
    passages: Sequence[Passage],
    sentences: dict[str, ChunkSentences],
    verifier: Verifier,
) -> tuple[list[AnswerSentence], list[Citation], list[Dropped]]:
    """Check a whole answer at once; see ``Checker``."""
    checker = Checker(passages, sentences, verifier)
    checker.add(cited)
    return checker.kept, checker.citations(), checker.dropped


def citation(n: int, passage: Passage) -> Citation:
    """The citation numbered ``n`` for a passage."""
    chunk = passage.chunk
    snippet = (
        chunk.text if len(chunk.text) <= SNIPPET_CHARS else chunk.text[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"
    )
    return Citation(
        n=n,
        title=chunk.title,
        url=chunk.link or chunk.url,
        section=chunk.section,
        snippet=snippet,
        last_updated=chunk.updated or chunk.checked,
        source_url=chunk.source_url,
        source_title=chunk.source_title,
        chunk_id=chunk.id,
    )


def render(sentences: Sequence[AnswerSentence]) -> str:
    """Answer text with the markers after each sentence: "Sentence. [1][2]"."""
    return " ".join(f"{s.text} {''.join(f'[{n}]' for n in s.citations)}".strip() for s in sentences)
