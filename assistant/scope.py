"""Questions the assistant must not answer from its sources: empty or over-long ones, and attempts to instruct it.

Whether a question is about EU migration and asylum policy at all is decided by retrieval (the relevance floor);
``on_topic`` only chooses which refusal message fits.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import cache

import numpy as np

from assistant import classify, prompts, rules
from assistant.errors import QuestionError
from assistant.lexicon import Alternatives
from common.text import normalize, safe_text, terms
from vectorstore.embeddings import Embedder
from vectorstore.multilingual import MultilingualEncoder, calibrated
from vectorstore.sentences import split_sentences


def clean_question(question: object, *, max_chars: int) -> str:
    """The question as text, with control characters removed; QuestionError if it is empty or too long."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    text = normalize(safe_text(question))
    if not text:
        raise QuestionError("the question is empty: type a question about EU migration or asylum policy")
    if len(text) > max_chars:
        raise QuestionError(
            f"the question is too long ({len(text):,} characters; at most {max_chars:,}): shorten it to the point"
        )
    return text


def tries_to_instruct(question: str) -> str:
    """Whether the question tries to change the assistant's instructions or role (prompt injection): the id of the
    first pattern of ``rules/instructions.toml`` it matches, '' when none does."""
    return classify.instruction(question)


@cache
def _topic_stems() -> frozenset[str]:
    return frozenset(terms(" ".join(rules.word_list("topic-words"))))


def on_topic(question: str) -> bool:
    """Whether the question uses any word of the migration and asylum field (only to word a refusal)."""
    return bool(set(terms(question)) & _topic_stems())


# The country tables of rules/scope.toml, in order: EU and Schengen countries first.
_COUNTRY_TABLES = ("countries-eu-schengen", "countries-outside-eu", "countries-elsewhere")


@cache
def _places_table() -> dict[str, tuple[str, ...]]:
    """Every country's English name (lower case) -> the words that name it."""
    return {place: tuple(words.split()) for t in _COUNTRY_TABLES for place, words in rules.table(t).items()}


@cache
def _place_words() -> dict[str, str]:
    return {word: place for place, words in _places_table().items() for word in words}


def _as_origin(word: str, question: str) -> bool:
    """Whether the question names a country as where the person comes from ("I come from Tunisia", "a Tunisian
    national"), which leaves the EU rule asked about in force, rather than as where a rule applies."""
    return bool(rules.template("as-origin", country=word).search(question))


def _as_destination(word: str, question: str) -> bool:
    """Whether the question names a country as where someone goes or whose permits it asks about ("moving to
    Australia", "an Australian work permit"), rather than in passing ("a US-based employer") or as a language
    ("an interview in Japanese")."""
    if word.lower() not in _places_table() and word.lower() not in rules.words("country-name-words"):
        return False
    return bool(rules.template("as-destination", country=word).search(question))


def _places(question: str) -> list[tuple[str, str]]:
    """The countries a question names (the word as written, the country), "New Zealand" and "US" included."""
    lowered = question.lower()
    found = [(name, name) for name in _places_table() if " " in name and re.search(rf"\b{name}\b", lowered)]
    for word in re.findall(r"[A-Za-zÀ-ÿ]+", question):
        place = _place_words().get(word.lower())
        if place is None or (word.lower() == "us" and word != "US") or (place, place) in found:
            continue
        found.append((word, place))
    return found


def countries_named(text: str, *, european_only: bool = False) -> list[str]:
    """The countries a text names, as their English names ("the Netherlands" for "Dutch"), in order;
    ``european_only``: only EU and Schengen countries, whose authorities apply the EU rules."""
    european = rules.table("countries-eu-schengen")
    display = rules.table("country-display-names")
    places = [place for _, place in _places(text) if not european_only or place in european]
    return list(dict.fromkeys(display.get(place, place.title()) for place in places))


def uncovered_specifics(question: str, passages: str, vocabulary: Collection[str]) -> list[str]:
    """What the question asks for that the sources cannot answer: the outcome of one person's case, years the
    passages do not mention, a country outside the EU whose own rules are asked about (when they do not mention
    it), and, in a question asking for a figure or a date, countries the passages do not mention or names the
    store has never seen. A country named as where the person comes from does not count (``uncovered``: with the
    rule that found each)."""
    return list(dict.fromkeys(missing for missing, _ in uncovered(question, passages, vocabulary)))


def uncovered(question: str, passages: str, vocabulary: Collection[str]) -> list[tuple[str, str]]:
    """``uncovered_specifics`` with the id of the rule that found each thing missing: ``as-destination`` (a country
    outside the EU asked about as a destination), the question rule that made it ask for a figure (a country or a
    name in a figure question), ``case-outcome``, ``capitalised-name`` or ``year``.

    Passages about the EU rule in general do not answer the fee in one named country, the figures for a year they
    never mention or how one named person's appeal will end, however close they are otherwise; the assistant then
    says it could not find it.
    """
    text = normalize(passages).lower()
    found: list[tuple[str, str]] = []
    asked = classify.kinds(question)
    figure = classify.matched(question, "figure") if "figure" in asked else ""
    outside = rules.table("countries-outside-eu")
    for word, place in _places(question):
        if _as_origin(word, question):
            continue
        rule_id = figure or ("as-destination" if place in outside and _as_destination(word, question) else "")
        if not rule_id:
            continue
        if not any(re.search(rf"\b{re.escape(w)}\b", text) for w in (place, *_places_table()[place])):
            found.append((word, rule_id))
    if "case-outcome" in asked:
        found.append(("the outcome of an individual case", "case-outcome"))
    months = rules.words("months")
    for match in rules.pattern("capitalised-name").finditer(question) if figure else ():
        word = match.group(1)
        stems = terms(word)
        if word.lower() in _place_words() or word.lower() in months or not stems:
            continue
        if not all(stem in vocabulary for stem in stems):
            found.append((word, "capitalised-name"))
    for year in rules.pattern("year").findall(question):
        if year not in text:
            found.append((year, "year"))
    return found


_WORD = re.compile(r"[\w%-]+(?:[,.]\d+)*")


@cache
def _time_units() -> frozenset[str]:
    return frozenset(terms(" ".join(rules.word_list("time-units"))))


def unanswered_count(question: str, answer: str, alternatives: Alternatives | None = None) -> str:
    """The thing a "how many ...?" question counts when the answer gives no number of it ('' otherwise).

    A question counting applicants is not answered by sentences about a timetable, however close they are: a number
    must stand with the thing counted (or, for a duration, with any unit of time), or close a clause on its own
    ("fixed at 5,000."). An everyday word counts through its policy word ("kids": children).
    """
    asked = classify.kinds(question)
    if "how-many" not in asked or "asks-who" in asked:
        return ""
    match = rules.pattern("how-many").search(question)
    if match is None:
        return ""
    stems = terms(match.group(1))
    if not stems:
        return ""
    unit = stems[0]
    answer = rules.pattern("legal-reference").sub(" ", answer)  # article and act numbers count nothing
    if unit in _time_units():
        return "" if rules.pattern("time-amount").search(answer) else match.group(1)
    if rules.pattern("bare-amount").search(answer):
        return ""
    wanted = {unit} | set((alternatives or Alternatives()).by_term.get(unit, frozenset()))
    words = _WORD.findall(answer)
    window = rules.count("how-many-number-window")
    amount = rules.pattern("counted-amount")
    for index, word in enumerate(words):
        if set(terms(word)) & wanted and amount.search(" ".join(words[max(0, index - window) : index])):
            return ""
    return match.group(1)


def states_a_gap(sentence: str) -> bool:
    """Whether a sentence of the corpus says that the sources lack the information."""
    return bool(rules.pattern("states-a-gap").search(sentence))


INSTRUCTION_SIMILARITY = rules.value("instruction-similarity")


class InstructionCheck:
    """Instructions in words no pattern foresaw: each sentence of a question is compared with example instructions
    (``prompts/instruction_examples.txt``) by the embedding model's cosine similarity.

    None of the 533 answerable questions of the project's QA sets and Pact benchmark comes closer than 0.57 to an
    example, and ``INSTRUCTION_SIMILARITY`` is set just above; tests/data/instructions_blind.jsonl measures what it
    adds to the patterns (docs/evaluation.md).
    """

    def __init__(self, embedder: Embedder, *, threshold: float = INSTRUCTION_SIMILARITY) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self._examples: np.ndarray | None = None
        self._examples_multilingual: np.ndarray | None = None

    @property
    def examples(self) -> np.ndarray:
        """The example instructions' vectors (encoded on first use)."""
        if self._examples is None:
            self._examples = self.embedder.embed(self._example_lines())
        return self._examples

    @staticmethod
    def _example_lines() -> list[str]:
        lines = prompts.load("instruction_examples").splitlines()
        return [s for s in (line.strip() for line in lines) if s and s[0] != "#"]

    def vectors(self, question: str) -> np.ndarray:
        """The question's vector, then one per sentence when it has several (one call to the model)."""
        sentences = split_sentences(question.replace("\n", ". "))
        return self.embedder.embed([question, *(sentences if len(sentences) > 1 else [])])

    @staticmethod
    def multilingual_vectors(question: str, encoder: MultilingualEncoder) -> np.ndarray:
        """The question's multilingual vector, then one per sentence when it has several (one call to the model);
        retrieval reuses the first."""
        sentences = split_sentences(question.replace("\n", ". "))
        return encoder.query([question, *(sentences if len(sentences) > 1 else [])])

    def instructs_multilingual(self, vectors: np.ndarray, encoder: MultilingualEncoder) -> bool:
        """The same check for a question in another language, with the multilingual model: the example
        instructions are English, and the model places an instruction in any language near them. Its cosines are
        mapped onto the English model's scale first (``vectorstore.multilingual.calibrated``)."""
        if self._examples_multilingual is None:
            self._examples_multilingual = encoder.query(self._example_lines())
        return bool(calibrated(float((vectors @ self._examples_multilingual.T).max())) >= self.threshold)

    def instructs(self, vectors: np.ndarray) -> bool:
        """Whether any of the vectors is as close to an example instruction as the threshold."""
        return bool(float((vectors @ self.examples.T).max()) >= self.threshold)
