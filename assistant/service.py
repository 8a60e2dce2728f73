"""The assistant: question (and earlier turns) -> retrieval -> composer -> verified, cited answer, or a refusal.

``Assistant.stream`` yields the answer as verified sentences arrive, then the whole ``Answer``; ``ask`` returns only
the latter. Every path ends in an answer whose sentences passed verification, or in a refusal with the official
channels. A language model that fails (unreachable, too slow, nonsense) gives way to the extractive composer.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant import messages, policy, prompts, rules, topic
from assistant.answer import Answer, AnswerSentence, RetrievedPassage
from assistant.compose import NOT_IN_SOURCES, Composer
from assistant.compose.extractive import ExtractiveComposer
from assistant.compose.llm import LLMComposer
from assistant.compose.rewrite import Rewriter
from assistant.conversation import Turn, bounded, is_follow_up
from assistant.draft import TONES, AskAnswer, Draft, make_draft, read_message
from assistant.errors import ComposerError, ConfigError
from assistant.language import SOURCE_LANGUAGE, Detected, detect
from assistant.names import NameBook
from assistant.policy import Refusal
from assistant.retrieve import Filters, Retrieval, Retriever
from assistant.scope import InstructionCheck, clean_question
from assistant.sentences import SentenceBank
from assistant.trace import Trace
from assistant.understand import Query, language_of, resolve, search_for, understood
from assistant.verify import Checker, Cited, CrossLanguageVerifier, Verifier, parse_citations, render
from common.settings import Settings
from vectorstore.store import Store

log = logging.getLogger(__name__)


_UNCLOSED_MARKER = re.compile(r"\[[\d\s,;]*$")


@dataclass(frozen=True)
class Partial:
    """The verified part of an answer that is still being written (text with ``[n]`` markers), and the note in the
    question's language that goes above it."""

    text: str
    note: str = ""

    @property
    def shown_text(self) -> str:
        return f"{self.note}\n\n{self.text}" if self.note and self.text else self.note or self.text


@dataclass
class _Context:
    """What a refusal at any stage reports: the question, its language, what was searched and found so far."""

    question: str
    language: str
    started: float
    trace: Trace
    query: str = ""
    passages: list[RetrievedPassage] = field(default_factory=list)
    composer: str = ""


@dataclass(frozen=True)
class Final:
    """The finished answer."""

    answer: Answer


def make_composer(settings: Settings) -> Composer:
    """The composer the settings name (in rewrite mode the extractive one: the model only rewrites its answer)."""
    if settings.composer == "extractive" or settings.rewrites:
        return ExtractiveComposer()
    return LLMComposer(settings)


def make_rewriter(settings: Settings) -> Rewriter | None:
    """The rewriter of extractive answers, when the settings ask for rewrite mode."""
    if not settings.rewrites:
        return None
    llm = LLMComposer(settings)
    model = settings.llm_model.rsplit("/", 1)[-1] or settings.composer
    return Rewriter(
        lambda: llm.model,
        name=f"{settings.composer} rewrite ({model})",
        timeout=settings.rewrite_timeout,
        translate=settings.rewrite_prompt == "translate",
    )


class Assistant:
    """Answers questions from one store with the composer the settings name."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        composer: Composer | None = None,
        rewriter: Rewriter | None = None,
    ) -> None:
        self.settings = settings
        self.store = store or Store(settings)
        self.composer = composer or make_composer(settings)
        self.rewriter = rewriter or (make_rewriter(settings) if composer is None else None)
        self.fallback = ExtractiveComposer()
        self.retriever = Retriever(self.store, settings)
        self.bank = SentenceBank(self.store)
        self.names = NameBook(self.store)
        self._verifier: Verifier | None = None
        self._cross_verifier: CrossLanguageVerifier | None = None
        self._confirming_verifier: CrossLanguageVerifier | None = None
        self._instruction_check: InstructionCheck | None = None

    @property
    def verifier(self) -> Verifier:
        """The citation verifier, with the store's embedding model."""
        if self._verifier is None:
            self._verifier = Verifier(self.store.embedder, threshold=self.settings.support_threshold)
        return self._verifier

    @property
    def cross_verifier(self) -> CrossLanguageVerifier:
        """The verifier of sentences written in another language than their sources (multilingual model)."""
        if self._cross_verifier is None:
            self._cross_verifier = CrossLanguageVerifier(
                self.store.encoder, threshold=rules.value("cross-language-support")
            )
        return self._cross_verifier

    @property
    def confirming_verifier(self) -> CrossLanguageVerifier:
        """The multilingual model held to the English threshold on its English scale: the second check of a sentence
        a language model wrote in English (rewrite mode), from the same language as its sources."""
        if self._confirming_verifier is None:
            self._confirming_verifier = CrossLanguageVerifier(
                self.store.encoder, threshold=self.settings.support_threshold
            )
        return self._confirming_verifier

    @property
    def instruction_check(self) -> InstructionCheck:
        """The check of questions against example instructions, with the store's embedding model."""
        if self._instruction_check is None:
            self._instruction_check = InstructionCheck(self.store.embedder)
        return self._instruction_check

    def warm_up(self) -> None:
        """Open the store, load the model and the lexical index now rather than on the first question.

        Called by a server before it serves: it also sets the encoder's threads to ``serve_threads``, since one
        thread per question keeps latency steady when several questions or other work share the cores.
        """
        if self.settings.serve_threads > 0:
            import torch

            torch.set_num_threads(self.settings.serve_threads)
        self.store.open()
        self.store.embedder.embed(["warm up"])
        self.instruction_check.examples  # noqa: B018 - encoding the example instructions is the point
        self.store.lexical  # noqa: B018 - syncing the lexical index is the point
        self.names.get()
        if self.rewriter is not None:
            self.rewriter.warm_up()

    def ask(
        self, question: str, *, history: Sequence[Turn] = (), filters: Filters | None = None, language: str = ""
    ) -> Answer:
        """The verified answer to ``question`` (QuestionError for an empty or over-long one)."""
        for event in self.stream(question, history=history, filters=filters, language=language):
            if isinstance(event, Final):
                return event.answer
        raise AssertionError("stream ended without an answer")  # pragma: no cover - stream always ends in Final

    def stream(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        filters: Filters | None = None,
        language: str = "",
    ) -> Iterator[Partial | Final]:
        """The answer as it is verified, sentence by sentence, then the whole answer.

        The stages, in order, each recorded in the answer's trace: guard, language, instructions, follow-up,
        retrieve, scope, compose (with verification), checks. ``language`` is a hint (the language chosen in the
        app): it decides when detection is unsure.
        """
        started = time.perf_counter()
        trace = Trace()
        with trace.stage("guard") as step:
            question = clean_question(question, max_chars=self.settings.max_question_chars)
            refusal = policy.guard(question)
            step.decision = "refuse" if refusal else "pass"
            step.rule = refusal.rule if refusal else ""
        with trace.stage("language") as step:
            detected = language_of(question, history, language)
            step.decision = detected.code
            step.details = {"confidence": round(detected.confidence, 3), "by": detected.by}
        context = _Context(question, detected.code, started, trace)
        if refusal is None:
            self.store.open()  # a missing store is an error (StoreError), an empty one a refusal
            refusal = policy.empty_store(self.store.lexical.count())
        if refusal is not None:
            yield Final(self._refusal(context, refusal))
            return
        lexical = self.store.lexical  # each access checks the collection's generation
        multilingual = detected.code != SOURCE_LANGUAGE and self.store.has_multilingual
        with trace.stage("instructions") as step:
            if multilingual:
                vectors = self.instruction_check.multilingual_vectors(question, self.store.encoder)
                instructs = self.instruction_check.instructs_multilingual(vectors, self.store.encoder)
            else:
                vectors = self.instruction_check.vectors(question)
                instructs = self.instruction_check.instructs(vectors)
            refusal = policy.instructions(instructs)
            step.decision, step.rule = ("refuse", refusal.rule) if refusal else ("pass", "")
        if refusal is not None:
            yield Final(self._refusal(context, refusal))
            return
        query, retrieval = self.find(
            question, history, detected=detected, vector=vectors[0], filters=filters, trace=trace
        )
        search = query.search
        context.query = search
        context.passages = self._reported(retrieval)
        off_topic = self.off_topic(retrieval)  # read by the scope and, when no sentence is close, by the checks
        with trace.stage("scope") as step:
            refusal = policy.scope(
                question,
                search,
                retrieval,
                floor=self.floor(retrieval),
                vocabulary=lexical.vocabulary(),
                off_topic=off_topic,
            )
            step.decision = "refuse" if refusal else "pass"
            if refusal:
                step.rule, step.details = refusal.rule, dict(refusal.details)
        if refusal is not None:
            yield Final(self._refusal(context, refusal))
            return
        with trace.stage("compose") as step:
            sentences = self.bank.get([p.chunk for p in retrieval.passages], space=retrieval.space)
            verifier = self.cross_verifier if retrieval.space == "multilingual" else self.verifier
            checker = Checker(retrieval.passages, sentences, verifier)
            composer_name = self.composer.name
            # Quoting sources in another language than the question's: one line in the question's language says so.
            sources = {(p.chunk.language or SOURCE_LANGUAGE) for p in retrieval.passages}
            note = messages.text("quoted_in_english", query.language) if sources != {query.language} else ""
            if note:
                yield Partial("", note=note)
            try:
                yield from self._verified(self.composer, search, retrieval, sentences, checker, note)
            except ComposerError as exc:
                if checker.kept:
                    # The model broke off after some verified sentences: keep them, say so.
                    log.warning("%s; keeping the %d sentences verified before", exc, len(checker.kept))
                    composer_name = f"{self.composer.name} (cut short: {exc})"
                else:
                    log.warning("%s; answering with the extractive composer instead", exc)
                    composer_name = f"extractive (fallback: {exc})"
                    yield from self._verified(self.fallback, search, retrieval, sentences, checker, note)
            step.decision = f"{len(checker.kept)} sentences kept, {len(checker.dropped)} dropped"
            step.details = {"composer": composer_name}
        context.composer = composer_name
        with trace.stage("checks") as step:
            refusal = policy.answer(
                question, checker.kept, checker.dropped, retrieval.alternatives, off_topic=off_topic
            )
            step.decision = "refuse" if refusal else "pass"
            if refusal:
                step.rule, step.details = refusal.rule, dict(refusal.details)
        if refusal is not None:
            yield Final(self._refusal(context, refusal, dropped=checker.dropped))
            return
        sentences_shown, dropped = list(checker.kept), list(checker.dropped)
        quotes: list[AnswerSentence] = []
        if self.rewriter is not None:
            # The verified extract shows at once, said to be quoted; once checked, the rewrite comes above it.
            waiting = " ".join(filter(None, [note, messages.text("rewriting", query.language)]))
            yield Partial(render(checker.kept), note=waiting)
            with trace.stage("rewrite") as step:
                # An English rewrite is checked by the English model and confirmed by the multilingual one.
                second = None if retrieval.space == "multilingual" else self.confirming_verifier
                rewrite = self.rewriter.rewrite(
                    question, checker.kept, language=query.language, verifier=verifier, second=second
                )
                step.details = {
                    "model": self.rewriter.name,
                    "first_token_ms": None if rewrite.first_token is None else round(rewrite.first_token * 1000, 1),
                    "kept": len(rewrite.sentences),
                    "dropped": len(rewrite.dropped),
                }
                if rewrite.left_out:
                    step.details["left_out"] = rewrite.left_out
                if rewrite.fallback:
                    step.decision, step.rule = "extract shown", rewrite.fallback
                else:
                    step.decision = "rewrite shown"
                    quotes = list(checker.kept)
                    sentences_shown = rewrite.sentences
                    note = messages.text("rewritten", query.language)
                    composer_name = self.rewriter.name
                dropped += rewrite.dropped
        yield Final(
            Answer(
                question=question,
                text=render(sentences_shown),
                citations=checker.citations(),
                sentences=sentences_shown,
                dropped=dropped,
                passages=context.passages,
                search_query=search,
                composer=composer_name,
                seconds=time.perf_counter() - started,
                language=query.language,
                note=note,
                trace=trace.to_list(),
                quotes=quotes,
                extract=render(quotes),
            )
        )

    def find(
        self,
        question: str,
        history: Sequence[Turn] = (),
        *,
        detected: Detected | None = None,
        vector: np.ndarray | None = None,
        filters: Filters | None = None,
        trace: Trace | None = None,
    ) -> tuple[Query, Retrieval]:
        """The follow-up and retrieve stages: the question understood (``Query``) and the passages found for it.

        ``detected`` and ``vector`` (the question's language and its vector in that language's space) are computed
        by the earlier stages when the question is asked; given none, they are computed here, so that a benchmark
        runs the same stages as an answer.
        """
        trace = trace if trace is not None else Trace()
        detected = detected or language_of(question, history)
        multilingual = detected.code != SOURCE_LANGUAGE and self.store.has_multilingual
        space_language = detected.code if multilingual else SOURCE_LANGUAGE
        with trace.stage("follow-up") as step:
            turns = bounded(history, self.settings.history_turns)
            follow_up, why, alone = resolve(
                question, turns, self.retriever, floor=self.floor, language=space_language, filters=filters,
                vector=vector,
            )  # fmt: skip
            condense = self.composer.condense if isinstance(self.composer, LLMComposer) else None
            search = search_for(
                question, turns, follow_up=follow_up, condense=condense, max_chars=self.settings.max_question_chars
            )
            space = "multilingual" if multilingual else "en"
            query = understood(question, detected, space=space, follow_up=follow_up, rule=why, search=search)
            step.decision, step.rule = ("follow-up" if follow_up else "stands alone"), why
            step.details = {"kinds": sorted(query.kinds)}
            if search != question:
                step.details["search"] = search
            if query.parts:
                step.details["asks"] = list(query.parts)
        with trace.stage("retrieve") as step:
            if alone is not None and search == question:
                retrieval = alone  # the question alone was searched to decide: that search is the answer's
            else:
                retrieval = self.retriever.retrieve(
                    search,
                    filters=filters,
                    focus=query.focus,
                    vector=vector if search == question else None,
                    language=space_language,
                )
            retrieval.named, retrieval.off_target = self.names.get().off_target(
                search, [p.chunk for p in retrieval.passages]
            )
            step.decision = f"{len(retrieval.passages)} passages"
            step.details = {
                "space": retrieval.space,
                "best_match": round(retrieval.best_match, 4),
                "pages": list(dict.fromkeys(p.chunk.doc_id for p in retrieval.passages)),
            }
            if retrieval.off_target:
                step.details["named"] = sorted(retrieval.named)
                step.details["about_something_else"] = [n + 1 for n in retrieval.off_target]
        return query, retrieval

    def draft(
        self,
        message: str,
        *,
        history: Sequence[Turn] = (),
        tone: str | None = None,
        signoff: str | None = None,
        filters: Filters | None = None,
    ) -> Draft:
        """A helpdesk reply to a citizen's message: each of its asks answered and grounded like any question."""
        tone = tone or self.settings.draft_tone
        if tone not in TONES:
            raise ConfigError(f"unknown tone {tone!r}; valid values: {', '.join(TONES)}")
        read = read_message(message, max_chars=self.settings.max_message_chars)
        language = detect(read.body).code
        answers = []
        for ask in read.asks:
            # The sentence an ask refers back to ("My wife is Ghanaian. Can she join me?") helps find it, as an
            # earlier turn would; it does not decide whether the ask is answered.
            turns = [Turn("user", read.context[ask])] if ask in read.context else list(history)
            answer = self.ask(
                ask[: self.settings.max_question_chars], history=turns, filters=filters, language=language
            )
            answers.append(AskAnswer(ask, answer))
        return make_draft(read, answers, tone=tone, signoff=signoff or self.settings.draft_signoff, language=language)

    def off_topic(self, retrieval: Retrieval) -> float | None:
        """The topic model's probability that a question in another language is off topic (None in English, or
        when the shipped weights are missing or were learnt on another model's vectors)."""
        if retrieval.space != "multilingual" or retrieval.vector is None:
            return None
        model = topic.load()
        if model is None or model.encoder != self.store.encoder.model_id:
            return None
        return model.off_topic(retrieval.vector)

    def floor(self, retrieval: Retrieval) -> float:
        """The relevance floor for a retrieval: the English one, or the multilingual space's."""
        if retrieval.space == "multilingual":
            return self.settings.relevance_floor_multilingual
        return self.settings.relevance_floor

    def search_query(self, question: str, history: Sequence[Turn], *, follow_up: bool | None = None) -> str:
        """What retrieval searches for: the question, or the follow-up made to stand alone (``follow_up``: as
        decided by ``understand.resolve``; by the question's words when not given)."""
        condense = self.composer.condense if isinstance(self.composer, LLMComposer) else None
        decided = is_follow_up(question) if follow_up is None else follow_up
        return search_for(
            question, history, follow_up=decided, condense=condense, max_chars=self.settings.max_question_chars
        )

    def _verified(
        self,
        composer: Composer,
        query: str,
        retrieval: Retrieval,
        sentences: dict,
        checker: Checker,
        note: str = "",
    ) -> Iterator[Partial]:
        """Run a composer and pass on each complete sentence once verified."""
        buffer = ""
        done = 0
        for piece in composer.stream(query, retrieval, sentences):
            if isinstance(piece, Cited):
                if checker.add([piece]):
                    yield Partial(render(checker.kept), note=note)
                continue
            buffer += piece
            # A marker still arriving ("... 2026. [1") must not leave its sentence looking uncited.
            parsed = parse_citations(_UNCLOSED_MARKER.sub("", buffer.replace(NOT_IN_SOURCES, "")))
            complete = parsed[done : max(done, len(parsed) - 1)]
            if complete:
                done += len(complete)
                if checker.add(complete):
                    yield Partial(render(checker.kept), note=note)
        if buffer.strip() == NOT_IN_SOURCES:
            return
        rest = parse_citations(buffer.replace(NOT_IN_SOURCES, ""))[done:]
        if rest and checker.add(rest):
            yield Partial(render(checker.kept), note=note)

    @staticmethod
    def _reported(retrieval: Retrieval) -> list[RetrievedPassage]:
        return [
            RetrievedPassage(
                rank=rank,
                score=round(p.score, 5),
                relevance=round(p.relevance, 4),
                title=p.chunk.title,
                url=p.chunk.link or p.chunk.url,
                section=p.chunk.section,
                chunk_id=p.chunk.id,
                text=p.chunk.text,
                dense_rank=p.dense_rank,
                lexical_rank=p.lexical_rank,
                source_url=p.chunk.source_url,
            )
            for rank, p in enumerate(retrieval.passages, start=1)
        ]

    def _refusal(self, context: _Context, refusal: Refusal, *, dropped: Sequence = ()) -> Answer:
        return Answer(
            question=context.question,
            text=prompts.refusal(refusal.reason, context.language),
            refused=True,
            reason=refusal.reason,
            dropped=list(dropped),
            passages=context.passages,
            search_query=context.query,
            composer=context.composer or self.composer.name,
            seconds=time.perf_counter() - context.started,
            language=context.language,
            rule=refusal.rule,
            trace=context.trace.to_list(),
        )


__all__ = ["Answer", "AnswerSentence", "Assistant", "Draft", "Final", "Partial", "Turn"]
