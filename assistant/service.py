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

from assistant import messages, prompts
from assistant.answer import (
    EMPTY_STORE,
    INSTRUCTIONS,
    NO_MATCH,
    OUT_OF_SCOPE,
    UNVERIFIED,
    Answer,
    AnswerSentence,
    RetrievedPassage,
)
from assistant.compose import NOT_IN_SOURCES, Composer
from assistant.compose.extractive import ExtractiveComposer
from assistant.compose.llm import LLMComposer
from assistant.conversation import Turn, bounded, earlier_questions, is_follow_up, search_query
from assistant.draft import TONES, AskAnswer, Draft, make_draft, read_message
from assistant.errors import ComposerError, ConfigError
from assistant.language import SOURCE_LANGUAGE, detect
from assistant.retrieve import Filters, Retrieval, Retriever
from assistant.scope import (
    InstructionCheck,
    clean_question,
    on_topic,
    tries_to_instruct,
    unanswered_count,
    uncovered_specifics,
)
from assistant.sentences import SentenceBank
from assistant.trace import Trace
from assistant.verify import Checker, Cited, Verifier, parse_citations, render
from vectorstore.settings import Settings
from vectorstore.store import Store

log = logging.getLogger(__name__)

TOPIC_PAGES = 3  # a question alone and the one before are on one topic when their best passages share a page
OFF_TOPIC_GAP = 0.1  # a question in another language this far below the floor is told it is off topic

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
    """The composer the settings name."""
    if settings.composer == "extractive":
        return ExtractiveComposer()
    return LLMComposer(settings)


class Assistant:
    """Answers questions from one store with the composer the settings name."""

    def __init__(self, settings: Settings, *, store: Store | None = None, composer: Composer | None = None) -> None:
        self.settings = settings
        self.store = store or Store(settings)
        self.composer = composer or make_composer(settings)
        self.fallback = ExtractiveComposer()
        self.retriever = Retriever(self.store, settings)
        self.bank = SentenceBank(self.store)
        self._verifier: Verifier | None = None
        self._instruction_check: InstructionCheck | None = None

    @property
    def verifier(self) -> Verifier:
        """The citation verifier, with the store's embedding model."""
        if self._verifier is None:
            self._verifier = Verifier(self.store.embedder, threshold=self.settings.support_threshold)
        return self._verifier

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

        ``language`` is a hint (the language chosen in the app): it decides when detection is unsure.
        """
        started = time.perf_counter()
        trace = Trace()
        with trace.stage("guard") as step:
            question = clean_question(question, max_chars=self.settings.max_question_chars)
            instructs = tries_to_instruct(question)
            step.decision = "refuse" if instructs else "pass"
            step.rule = "instruction-pattern" if instructs else ""
        with trace.stage("language") as step:
            detected = detect(question, hint=language or self._history_language(history))
            lang = detected.code
            step.decision = lang
            step.details = {"confidence": round(detected.confidence, 3), "by": detected.by}
        context = _Context(question, lang, started, trace)
        if instructs:
            yield Final(self._refusal(context, INSTRUCTIONS, "instruction-pattern"))
            return
        self.store.open()  # a missing store is an error (StoreError), an empty one a refusal
        lexical = self.store.lexical  # each access checks the collection's generation: once per question here
        if lexical.count() == 0:
            yield Final(self._refusal(context, EMPTY_STORE, "empty-store"))
            return
        multilingual = lang != SOURCE_LANGUAGE and self.store.multilingual_collection is not None
        with trace.stage("instructions") as step:
            if multilingual:
                vectors = None
                instructs = self.instruction_check.instructs_multilingual(question, self.store.encoder)
            else:
                vectors = self.instruction_check.vectors(question)
                instructs = self.instruction_check.instructs(vectors)
            step.decision = "refuse" if instructs else "pass"
            step.rule = "instruction-similarity" if instructs else ""
        if instructs:
            yield Final(self._refusal(context, INSTRUCTIONS, "instruction-similarity"))
            return
        space_language = lang if multilingual else SOURCE_LANGUAGE
        alone_vector = vectors[0] if vectors is not None else None
        with trace.stage("follow-up") as step:
            turns = bounded(history, self.settings.history_turns)
            follow_up, why, alone = self.resolve(
                question, turns, language=space_language, filters=filters, vector=alone_vector
            )
            query = self.search_query(question, turns, follow_up=follow_up)
            step.decision = "follow-up" if follow_up else "stands alone"
            step.rule = why
            if query != question:
                step.details = {"search": query}
        context.query = query
        with trace.stage("retrieve") as step:
            if alone is not None and query == question:
                retrieval = alone  # the question alone was searched to decide: that search is the answer's
            else:
                retrieval = self.retriever.retrieve(
                    query,
                    filters=filters,
                    focus=question if query != question else "",
                    vector=alone_vector if query == question else None,
                    language=space_language,
                )
            step.decision = f"{len(retrieval.passages)} passages"
            step.details = {
                "space": retrieval.space,
                "best_match": round(retrieval.best_match, 4),
                "pages": list(dict.fromkeys(p.chunk.doc_id for p in retrieval.passages)),
            }
        context.passages = self._reported(retrieval)
        floor = self.floor(retrieval)
        with trace.stage("scope") as step:
            missing: list[str] = []
            if retrieval.best_match < floor:
                out_of_scope = not on_topic(query) if not multilingual else retrieval.best_match < floor - OFF_TOPIC_GAP
                step.decision, step.rule = "refuse", "relevance-floor"
                step.details = {"best_match": round(retrieval.best_match, 4), "floor": floor}
                reason = OUT_OF_SCOPE if out_of_scope else NO_MATCH
            else:
                seen = " ".join(f"{p.chunk.title} {p.chunk.heading_path} {p.chunk.text}" for p in retrieval.passages)
                # Its patterns (countries, case outcomes, names) are English words: other languages skip it.
                missing = [] if multilingual else uncovered_specifics(question, seen, lexical.vocabulary())
                step.decision = "refuse" if missing else "pass"
                if missing:
                    step.rule, step.details = "uncovered-specifics", {"missing": missing}
                reason = NO_MATCH
        if step.decision == "refuse":
            yield Final(self._refusal(context, reason, step.rule))
            return
        with trace.stage("compose") as step:
            sentences = self.bank.get([p.chunk for p in retrieval.passages], space=retrieval.space)
            checker = Checker(retrieval.passages, sentences, self.verifier)
            composer_name = self.composer.name
            note = messages.text("quoted_in_english", lang) if lang != SOURCE_LANGUAGE else ""
            if note:
                yield Partial("", note=note)
            try:
                yield from self._verified(self.composer, query, retrieval, sentences, checker, note)
            except ComposerError as exc:
                if checker.kept:
                    # The model broke off after some verified sentences: keep them, say so.
                    log.warning("%s; keeping the %d sentences verified before", exc, len(checker.kept))
                    composer_name = f"{self.composer.name} (cut short: {exc})"
                else:
                    log.warning("%s; answering with the extractive composer instead", exc)
                    composer_name = f"extractive (fallback: {exc})"
                    yield from self._verified(self.fallback, query, retrieval, sentences, checker, note)
            step.decision = f"{len(checker.kept)} sentences kept, {len(checker.dropped)} dropped"
            step.details = {"composer": composer_name}
        context.composer = composer_name
        with trace.stage("checks") as step:
            counted = unanswered_count(question, render(checker.kept), retrieval.alternatives) if checker.kept else ""
            if counted:
                step.decision, step.rule, step.details = "refuse", "how-many-without-number", {"counts": counted}
            elif not checker.kept:
                step.decision = "refuse"
                step.rule = "verification-dropped-all" if checker.dropped else "no-sentence-close-enough"
            else:
                step.decision = "pass"
        if step.decision == "refuse":
            # "How many X?" answered without any number of X (a model may write around the gap): not an answer.
            reason = UNVERIFIED if step.rule == "verification-dropped-all" else NO_MATCH
            yield Final(self._refusal(context, reason, step.rule, dropped=checker.dropped))
            return
        yield Final(
            Answer(
                question=question,
                text=render(checker.kept),
                citations=checker.citations(),
                sentences=list(checker.kept),
                dropped=list(checker.dropped),
                passages=context.passages,
                search_query=query,
                composer=composer_name,
                seconds=time.perf_counter() - started,
                language=lang,
                note=note,
                trace=trace.to_list(),
            )
        )

    @staticmethod
    def _history_language(history: Sequence[Turn]) -> str:
        """The language of the conversation so far (its last user turn), as a hint for a short question."""
        earlier = [t.content for t in history if t.role == "user" and t.content.strip()]
        if not earlier:
            return ""
        found = detect(earlier[-1])
        return found.code if found.by == "detected" else ""

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

    def floor(self, retrieval: Retrieval) -> float:
        """The relevance floor for a retrieval: the English one, or the multilingual space's."""
        if retrieval.space == "multilingual":
            return self.settings.relevance_floor_multilingual
        return self.settings.relevance_floor

    def resolve(
        self,
        question: str,
        history: Sequence[Turn],
        *,
        language: str = SOURCE_LANGUAGE,
        filters: Filters | None = None,
        vector: np.ndarray | None = None,
    ) -> tuple[bool, str, Retrieval | None]:
        """Whether a question in a conversation is a follow-up, the rule that decided, and the search of the
        question alone (reused as the answer's when it stands alone).

        A question is a follow-up when it refers back in its words ("and for children?"), when alone it finds
        nothing, or when alone it finds the pages the previous question found: then it is on the same topic, and
        searching it with that question loses nothing. A question that names another topic and does not refer back
        ("what is Eurodac?" after questions on the border procedure) is answered on its own, however short.
        """
        earlier = earlier_questions(history)
        if not earlier:
            return False, "", None
        if language == SOURCE_LANGUAGE and is_follow_up(question):
            return True, "refers-back", None
        alone = self.retriever.retrieve(question, filters=filters, vector=vector, language=language)
        floor = (
            self.settings.relevance_floor if language == SOURCE_LANGUAGE else self.settings.relevance_floor_multilingual
        )
        if alone.best_match < floor:
            return True, "finds-nothing-alone", alone
        before = self.retriever.retrieve(earlier[-1], k=TOPIC_PAGES, filters=filters, language=language)
        pages = {p.chunk.doc_id for p in alone.passages[:TOPIC_PAGES]}
        if pages & {p.chunk.doc_id for p in before.passages}:
            return True, "same-pages-as-before", alone
        return False, "new-topic", alone

    def search_query(self, question: str, history: Sequence[Turn], *, follow_up: bool | None = None) -> str:
        """What retrieval searches for: the question, or the follow-up made to stand alone (``follow_up``: as
        ``resolve`` decided; by the question's words when not given)."""
        if not history or not any(t.role == "user" for t in history):
            return question
        if follow_up is None:
            follow_up = is_follow_up(question)
        if not follow_up:
            return question
        if isinstance(self.composer, LLMComposer):
            try:
                condensed = self.composer.condense(question, history)
                if (
                    condensed
                    and len(condensed) <= self.settings.max_question_chars
                    and not tries_to_instruct(condensed)
                ):
                    return condensed
            except ComposerError as exc:
                log.warning("%s; resolving the follow-up without it", exc)
        return search_query(question, history, follow_up=True)

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

    def _refusal(self, context: _Context, reason: str, rule: str, *, dropped: Sequence = ()) -> Answer:
        return Answer(
            question=context.question,
            text=prompts.refusal(reason, context.language),
            refused=True,
            reason=reason,
            dropped=list(dropped),
            passages=context.passages,
            search_query=context.query,
            composer=context.composer or self.composer.name,
            seconds=time.perf_counter() - context.started,
            language=context.language,
            rule=rule,
            trace=context.trace.to_list(),
        )


__all__ = ["Answer", "AnswerSentence", "Assistant", "Draft", "Final", "Partial", "Turn"]
