"""Questions the assistant must not answer from its sources: empty or over-long ones, and attempts to instruct it.

Whether a question is about EU migration and asylum policy at all is decided by retrieval (the relevance floor);
``on_topic`` only chooses which refusal message fits.
"""

from __future__ import annotations

import re
from collections.abc import Collection

import numpy as np

from assistant import prompts
from assistant.errors import QuestionError
from assistant.lexicon import Alternatives
from vectorstore.embeddings import Embedder
from vectorstore.multilingual import MultilingualEncoder, calibrated
from vectorstore.sentences import split_sentences
from vectorstore.text import normalize, terms

# A verb told to the assistant (opening a clause, or after "please", "you must"...), not asked about someone
# ("can a state ignore the rules?", "do I need to write an essay?").
_TOLD = r"(?:^|[.!?:;,(\[\n-]\s*|\b(?:please|now|just|and|then|so|you\s+(?:must|should|will|can|need\s+to))\s+)"
# Phrasings that address the assistant's instructions or role rather than asking about policy.
_INSTRUCTION_PATTERNS = [
    _TOLD + r"(ignore|disregard|forget|override|bypass|skip)\b[^.?!]{0,40}\b(instruction|instructions|rules?|prompts?|"
    r"guidelines|guardrails|context|above|previous|prior|everything|restrictions|sources?|knowledge base|database|"
    r"passages)\b",
    r"\b(ignore|disregard|forget)\b[^.?!]{0,20}\bwhat (you were|you've been|you have been|you are) told\b",
    r"\b(repeat|print|output|copy|show)\b[^.?!]{0,30}\b(everything|all|the text|the words)\s+(above|before this)\b",
    # A role label inside the question, as if the conversation's own turns were being written.
    r"(^|[\n>])\s*(system|assistant|developer)\s*:\s",
    r"\b(assume|pretend|imagine)\b[^.?!]{0,30}\b(your )?(sources?|knowledge base)\s+(says?|said|states?|allows?)\b",
    # Text hidden from a human reader (an HTML comment, a markup tag) that addresses the assistant.
    r"<!--[^>]{0,300}\b(assistant|ai|model|bot|system|ignore|instead|tell the user)\b",
    # Role-play that asks the assistant to drop its role.
    r"\b(stay|remain|staying)\s+in\s+character\b|\blet'?s\s+play\s+a\s+game\b|"
    r"\byou\s+(are|have)\b[^.?!]{0,40}\bno\s+(rules|limits|restrictions|filters)\b",
    r"\b(system|developer|hidden|initial|original)\s+(prompt|message|instructions?)\b",
    r"\b(reveal|print|show|repeat|output|display|leak|tell me)\b[^.?!]{0,30}\b(prompt|instructions|configuration|"
    r"rules you|guidelines)\b",
    r"\byou are (now|no longer|free|an? (?!eu\b)[a-z]+ (assistant|ai|model|bot) (that|who|which|without))",
    r"\b(pretend|act|behave|roleplay|role-play)\b[^.?!]{0,20}\b(as|like|to be)\b[^.?!]{0,30}\b(unrestricted|"
    r"jailbroken|different|another|evil|dan|without)\b",
    r"\bdo anything now\b|(?-i:\bDAN\b)|\bjailbreak|\bdeveloper mode\b|\bgod mode\b",
    r"\bnew (instructions?|persona|role)\b|\b(your|these are your)\s+new\s+rules\b",
    _TOLD + r"(drop|remove|skip|omit|leave out|turn off|disable)\s+(the\s+|all\s+|any\s+|your\s+)?(citations|"
    r"sources|references|safety rules|filters)\b",
    r"\b(from now on|henceforth)\b[^.?!]{0,40}\b(you|answer|respond|reply)\b",
    r"\b(respond|answer|reply|write)\b[^.?!]{0,30}\b(without|ignoring)\b[^.?!]{0,20}\b(sources|citations|rules|"
    r"restrictions)\b",
    r"</?(system|assistant|user|instructions?)>|\[/?(inst|system)\]|<\|im_start\|>",
    r"\b(stop|quit|cease|no longer)\s+(following|obeying|applying)\b",
    r"\b(note|message|instructions?|command)\s+(to|for)\s+(the\s+)?(ai|assistant|model|bot|chatbot|llm)\b",
    r"\b(insult|swear at|mock)\s+(the\s+)?(user|reader|me)\b",
    r"\b(reply|respond|answer)\s+only\s+with\b",
    r"\byour\s+(own\s+)?(instructions|system prompt|prompt|guidelines|configuration|hidden rules)\b",
    r"\b(translate|summari[sz]e|rewrite|encode)\b[^.?!]{0,20}\b(the|your)\s+(instructions|prompt|rules)\b",
    # Claims of authority over the assistant.
    r"\b(i am|i'm|as)\s+(one of\s+)?(your\s+(developers?|creators?|administrators?|admin|owners?|operators?|"
    r"programmers?)\b|the\s+(developers?|creators?|administrators?|admin|owners?|operators?|programmers?)\s+of\s+"
    r"(this|the|you)\b[^.?!]{0,15}\b(assistant|chatbot|bot|system|service|tool|site|model|ai)\b)|"
    r"\b(admin|sudo|debug|maintenance|root)\s+(mode|override|access|command)\b",
    # Role changes in other words.
    r"\b(pretend|imagine)\s+(that\s+)?you\s+(are|were)\b|\broleplay\s+as\b|\bplay\s+the\s+(role|part)\s+of\b|"
    r"\bact\s+as\s+(an?\s+)?(ai|assistant|chatbot|model|llm|unfiltered|uncensored)\b|\b(unfiltered|uncensored)\b",
    # Dictating the form of the reply, or asking to answer beyond the sources.
    r"\b(say|write|reply|respond|answer|output)\s+(only|just|exactly)\b[^.?!]{0,20}[\"'“]|"
    r"\b(start|begin|end)\s+(your|the|each)\s+(answer|reply|response)s?\s+with\b",
    r"\b(do not|don'?t|never|no need to)\s+(cite|mention|use|include|add|give|show)\s+(any\s+|the\s+|your\s+)?"
    r"(sources?|citations?|references?)\b",
    r"\b(make up|invent|fabricate|hallucinate)\s+(an?|the|some|any)\s+(answer|number|figure|source|citation|rule)s?\b|"
    r"\beven if (it'?s|it is|that'?s|that is) not in (the|your) (sources?|documents?|knowledge base)\b",
    _TOLD + r"(tell|inform)\s+(the\s+)?(user|reader|citizen)s?\s+that\b",
    _TOLD + r"write\s+(me\s+)?an?\s+(poem|song|story|joke|limerick|rap|haiku|essay)\b",
    r"\b(begin|end)\s+(of\s+)?(instructions|system|prompt)\b|<<\s*sys\s*>>|#{2,}\s*(instruction|system)",
]
_INSTRUCTIONS = re.compile("|".join(f"(?:{p})" for p in _INSTRUCTION_PATTERNS), re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Words of the migration and asylum field (stemmed like the question before comparing).
_TOPIC_WORDS = """migration migrant migrants immigration immigrant emigration asylum refugee refugees protection border
    borders schengen visa visas residence resident permit permits citizen citizenship nationality national frontex
    eurodac deportation deported return returns readmission smuggling smuggler trafficking family families
    reunification integration worker workers job employment student students researcher seasonal blue talent
    passport travel traveller etias ees entry exit pact solidarity relocation resettlement reception detention
    screening crisis application applicant stay undocumented irregular illegal non-eu third-country member state
    union eu european commission council parliament regulation directive law legal rights ukraine displaced
    temporary safe unaccompanied child children minor language course fund amif statistics strategy portal consulate
    embassy""".split()
_TOPIC_STEMS = frozenset(terms(" ".join(_TOPIC_WORDS)))


def clean_question(question: object, *, max_chars: int) -> str:
    """The question as text, with control characters removed; QuestionError if it is empty or too long."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    text = normalize(_CONTROL.sub(" ", question))
    if not text:
        raise QuestionError("the question is empty: type a question about EU migration or asylum policy")
    if len(text) > max_chars:
        raise QuestionError(
            f"the question is too long ({len(text):,} characters; at most {max_chars:,}): shorten it to the point"
        )
    return text


def tries_to_instruct(question: str) -> bool:
    """Whether the question tries to change the assistant's instructions or role (prompt injection)."""
    return bool(_INSTRUCTIONS.search(question))


def on_topic(question: str) -> bool:
    """Whether the question uses any word of the migration and asylum field (only to word a refusal)."""
    return bool(set(terms(question)) & _TOPIC_STEMS)


# Countries and their adjectives: a question about one asks for something the sources must name.
_PLACES = {
    "austria": "austria austrian",
    "belgium": "belgium belgian",
    "bulgaria": "bulgaria bulgarian",
    "croatia": "croatia croatian",
    "cyprus": "cyprus cypriot",
    "czechia": "czechia czech",
    "denmark": "denmark danish",
    "estonia": "estonia estonian",
    "finland": "finland finnish",
    "france": "france french",
    "germany": "germany german",
    "greece": "greece greek",
    "hungary": "hungary hungarian",
    "ireland": "ireland irish",
    "italy": "italy italian",
    "latvia": "latvia latvian",
    "lithuania": "lithuania lithuanian",
    "luxembourg": "luxembourg",
    "malta": "malta maltese",
    "netherlands": "netherlands dutch holland",
    "poland": "poland polish",
    "portugal": "portugal portuguese",
    "romania": "romania romanian",
    "slovakia": "slovakia slovak",
    "slovenia": "slovenia slovenian",
    "spain": "spain spanish",
    "sweden": "sweden swedish",
    "norway": "norway norwegian",
    "switzerland": "switzerland swiss",
    "iceland": "iceland icelandic",
    "liechtenstein": "liechtenstein",
    "united kingdom": "uk britain british england",
    "united states": "us usa america american",
    "canada": "canada canadian",
    "australia": "australia australian",
    "turkey": "turkey turkish türkiye",
    "morocco": "morocco moroccan",
    "tunisia": "tunisia tunisian",
    "egypt": "egypt egyptian",
    "libya": "libya libyan",
    "syria": "syria syrian",
    "afghanistan": "afghanistan afghan",
    "india": "india indian",
    "china": "china chinese",
    "nigeria": "nigeria nigerian",
    "colombia": "colombia colombian",
    "new zealand": "zealand",
    "japan": "japan japanese",
    "brazil": "brazil brazilian",
    "mexico": "mexico mexican",
    "south africa": "african",
    "pakistan": "pakistan pakistani",
    "bangladesh": "bangladesh bangladeshi",
    "iraq": "iraq iraqi",
    "iran": "iran iranian",
    "ukraine": "ukraine ukrainian",
    "russia": "russia russian",
    "belarus": "belarus belarusian",
}
# Outside the EU and the Schengen area: another country's own immigration rules are not EU policy.
_NON_EU = frozenset(
    {"united kingdom", "united states", "canada", "australia", "new zealand", "japan", "brazil", "mexico",
     "south africa", "india", "china", "turkey"}
)  # fmt: skip
_PLACE_WORDS = {word: place for place, words in _PLACES.items() for word in words.split()}
_CAPITALISED = re.compile(r"(?<![.?!]\s)(?<!^)\b([A-Z][a-zà-ÿ]+|[A-Z]{2,})\b")


_MONTHS = frozenset("january february march april may june july august september october november december".split())
_FIGURE_QUESTION = re.compile(
    r"\b(how (much|many|long)|minimum|maximum|exact|fees?|costs?|charges?|income|salary|threshold|level|"
    r"rate|deadline|when|what date)\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
# Asking how one person's case will end: no source answers that, and guessing would be advice.
_OUTCOME = re.compile(
    r"\b(will|would)\s+(my|his|her|their|our)\b[^.?!]{0,60}\b(be\s+)?(succeed|successful|accepted|approved|"
    r"granted|rejected|refused|win|won|lose)\b|\bwhat are (my|his|her|their|our) chances\b|"
    r"\b(will|would)\s+(i|he|she|they|we)\s+(get|be given|be granted|receive|obtain|win)\s+(refugee status|"
    r"asylum|protection|subsidiary protection|the permit|a permit|the visa|a visa|the appeal|my appeal|his appeal|"
    r"her appeal)\s*\?",
    re.IGNORECASE,
)


def _as_origin(word: str, question: str) -> bool:
    """Whether the question names a country as where the person comes from ("I'm from Morocco", "a Moroccan
    citizen"), which leaves the EU rule asked about in force, rather than as where a rule applies."""
    w = re.escape(word)
    return bool(
        re.search(
            rf"\b(from|of)\s+(the\s+)?{w}\b|\b{w}\s+(citizens?|nationals?|passports?|nationality|people)\b|"
            rf"\b(i'?m|i am|he'?s|she'?s|they'?re|we'?re|is|are)\s+(an?\s+)?{w}\b",
            question,
            re.IGNORECASE,
        )
    )


_COUNTRY_NAMES = frozenset({"us", "usa", "america", "uk", "britain", "england", "zealand", "türkiye"})


def _as_destination(word: str, question: str) -> bool:
    """Whether the question names a country as where someone goes or whose permits it asks about ("to Canada",
    "a New Zealand working holiday visa"), rather than in passing ("my company's US parent") or as a language
    ("an interview in Japanese")."""
    if word.lower() not in _PLACES and word.lower() not in _COUNTRY_NAMES:
        return False
    w = re.escape(word)
    return bool(
        re.search(
            rf"\b(to|in|into)\s+(the\s+)?{w}\b|\b{w}\s+(visas?|permits?|citizenship|residence|immigration|"
            rf"working holiday|green card|embassy|consulate|work)\b",
            question,
            re.IGNORECASE,
        )
    )


def _places(question: str) -> list[tuple[str, str]]:
    """The countries a question names (the word as written, the country), "New Zealand" and "US" included."""
    lowered = question.lower()
    found = [(name, name) for name in _PLACES if " " in name and re.search(rf"\b{name}\b", lowered)]
    for word in re.findall(r"[A-Za-zÀ-ÿ]+", question):
        place = _PLACE_WORDS.get(word.lower())
        if place is None or (word.lower() == "us" and word != "US") or (place, place) in found:
            continue
        found.append((word, place))
    return found


_DISPLAY = {
    "netherlands": "the Netherlands",
    "united kingdom": "the United Kingdom",
    "united states": "the United States",
}
# Countries whose authorities apply the EU's migration rules (the EU and the rest of the Schengen area).
_EUROPEAN = frozenset(list(_PLACES)[: list(_PLACES).index("liechtenstein") + 1])


def countries_named(text: str, *, european_only: bool = False) -> list[str]:
    """The countries a text names, as their English names ("the Netherlands" for "Dutch"), in order;
    ``european_only``: only EU and Schengen countries, whose authorities apply the EU rules."""
    places = [place for _, place in _places(text) if not european_only or place in _EUROPEAN]
    return list(dict.fromkeys(_DISPLAY.get(place, place.title()) for place in places))


def uncovered_specifics(question: str, passages: str, vocabulary: Collection[str]) -> list[str]:
    """What the question asks for that the sources cannot answer: the outcome of one person's case, years the
    passages do not mention, a country outside the EU whose own rules are asked about (when they do not mention
    it), and, in a question asking for a figure or a date, countries the passages do not mention or names the
    store has never seen. A country named as where the person comes from ("I'm from Morocco") does not count.

    Passages about the EU rule in general do not answer "the fee in Austria", "the figures for 2019" or "Ahmed's
    appeal", however close they are otherwise; the assistant then says it could not find it.
    """
    text = normalize(passages).lower()
    missing: list[str] = []
    figure = bool(_FIGURE_QUESTION.search(question))
    for word, place in _places(question):
        if _as_origin(word, question) or not (figure or (place in _NON_EU and _as_destination(word, question))):
            continue
        if not any(re.search(rf"\b{re.escape(w)}\b", text) for w in (place, *_PLACES[place].split())):
            missing.append(word)
    if _OUTCOME.search(question):
        missing.append("the outcome of an individual case")
    for match in _CAPITALISED.finditer(question) if figure else ():
        word = match.group(1)
        stems = terms(word)
        if word.lower() in _PLACE_WORDS or word.lower() in _MONTHS or not stems:
            continue
        if not all(stem in vocabulary for stem in stems):
            missing.append(word)
    for year in _YEAR.findall(question):
        if year not in text:
            missing.append(year)
    return list(dict.fromkeys(missing))


_NUMBER = (
    r"(?:\d[\d,.]*(?:\s(?:million|billion|thousand))?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
    r"twelve|fifteen|eighteen|twenty|thirty|forty|fifty|sixty|hundred|thousand|several|a few|dozens?)"
)
_HOW_MANY = re.compile(r"\bhow many\s+(?:more\s+|of the\s+|different\s+)?([a-z][a-z-]*)", re.IGNORECASE)
_ASKS_SOMETHING_ELSE = re.compile(r"^\s*(who|which|whose|what (body|authority|institution))\b", re.IGNORECASE)
_TIME_UNITS = frozenset(terms("hours days weeks months years"))
_TIME_AMOUNT = re.compile(rf"\b{_NUMBER}[\s-]+(?:\w+[\s-]+)?(?:hours?|days?|weeks?|months?|years?)\b", re.IGNORECASE)
_BARE_AMOUNT = re.compile(rf"\b(?!(?:19|20)\d\d\b){_NUMBER}\s*(?:[.;:)]|$)", re.IGNORECASE)  # not a year
_WORD = re.compile(r"[\w%-]+(?:[,.]\d+)*")
_REFERENCE = re.compile(r"\b(articles?|recitals?|annex)\s+\d+\w*(\(\w+\))*|\b\d+/\d+(/\w+)?", re.IGNORECASE)


def unanswered_count(question: str, answer: str, alternatives: Alternatives | None = None) -> str:
    """The thing a "how many ...?" question counts when the answer gives no number of it ('' otherwise).

    "How many travellers have been registered?" is not answered by sentences about the timetable, however close
    they are: a number must stand with the thing counted (or, for a duration, with any unit of time), or close a
    clause on its own ("set at 30,000."). An everyday word counts through its policy word ("kids": children).
    """
    match = _HOW_MANY.search(question)
    if match is None or _ASKS_SOMETHING_ELSE.match(question):
        return ""
    stems = terms(match.group(1))
    if not stems:
        return ""
    unit = stems[0]
    answer = _REFERENCE.sub(" ", answer)  # article and act numbers ("Article 2", "2024/1350") count nothing
    if unit in _TIME_UNITS:
        return "" if _TIME_AMOUNT.search(answer) else match.group(1)
    if _BARE_AMOUNT.search(answer):
        return ""
    wanted = {unit} | set((alternatives or Alternatives()).by_term.get(unit, frozenset()))
    words = _WORD.findall(answer)
    for index, word in enumerate(words):
        if set(terms(word)) & wanted and re.search(rf"\b{_NUMBER}\b", " ".join(words[max(0, index - 4) : index])):
            return ""
    return match.group(1)


# How the corpus says that it does not know something ("This knowledge base does not have confirmed information
# on ..."): quoting it would pass off a gap as an answer.
_GAP = re.compile(
    r"\b(this knowledge base|our sources|the sources|this page)\s+(does|do|has|have)\s+not\s+(have\s+)?"
    r"(confirm|confirmed|hold|contain|record)",
    re.IGNORECASE,
)


def states_a_gap(sentence: str) -> bool:
    """Whether a sentence of the corpus says that the sources lack the information."""
    return bool(_GAP.search(sentence))


INSTRUCTION_SIMILARITY = 0.6  # least cosine between a sentence of the question and an example instruction


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

    def instructs_multilingual(self, question: str, encoder: MultilingualEncoder) -> bool:
        """The same check for a question in another language, with the multilingual model: the example
        instructions are English, and the model places an instruction in any language near them. Its cosines are
        mapped onto the English model's scale first (``vectorstore.multilingual.calibrated``)."""
        if self._examples_multilingual is None:
            self._examples_multilingual = encoder.query(self._example_lines())
        sentences = split_sentences(question.replace("\n", ". "))
        vectors = encoder.query([question, *(sentences if len(sentences) > 1 else [])])
        return bool(calibrated(float((vectors @ self._examples_multilingual.T).max())) >= self.threshold)

    def instructs(self, vectors: np.ndarray) -> bool:
        """Whether any of the vectors is as close to an example instruction as the threshold."""
        return bool(float((vectors @ self.examples.T).max()) >= self.threshold)
