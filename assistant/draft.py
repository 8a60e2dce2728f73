"""Helpdesk drafts: from a citizen's message, a reply a helpdesk worker edits and sends, with the same grounding.

A message is read as a message (``read_message``): the greeting, the personal context and the small talk are set
apart from the asks, and the name the citizen signed with is kept for the greeting. Each ask is answered on its own
(``Assistant.draft``), with the sentence before it as context when it refers back ("Can she work?"); the context
never decides whether an ask is answered, so "I live in Germany" does not stop an answer about an EU rule.

The draft holds a greeting, one paragraph per ask with its citations, a line naming each ask the EU-level sources
do not cover and the national authority that can answer it, a note that the rules quoted are EU rules, the numbered
sources with their official addresses, a closing and the sign-off, all in the message's language (the quoted
sentences stay in English, and the draft then says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from assistant import messages, rules
from assistant.answer import Answer, AnswerSentence, Citation
from assistant.scope import clean_question, countries_named
from assistant.verify import render
from vectorstore.sentences import split_sentences

TONES = ("formal", "friendly")
SENTENCES_PER_PARAGRAPH = 2
MAX_ASKS = 4


@dataclass(frozen=True)
class Message:
    """A citizen's message as read: its asks, the context around them, the signed name and the language."""

    asks: list[str]
    context: dict[str, str]  # ask -> the sentence before it, where the ask refers back to it
    name: str = ""
    countries: list[str] = field(default_factory=list)
    body: str = ""


@dataclass(frozen=True)
class AskAnswer:
    """One ask of the message and the assistant's answer to it."""

    ask: str
    answer: Answer


@dataclass(frozen=True)
class Draft:
    """A reply to a citizen, in parts and as one text."""

    greeting: str
    body: str
    sources: str
    closing: str
    signoff: str
    answer: Answer  # all the asks' verified sentences, their citations numbered as in the draft
    asks: list[AskAnswer] = field(default_factory=list)
    language: str = "en"

    @property
    def text(self) -> str:
        """The whole reply, ready to edit."""
        parts = [self.greeting, self.body]
        if self.sources:
            parts.append(f"{messages.text('sources_title', self.language)}:\n{self.sources}")
        parts.append(f"{self.closing}\n{self.signoff}")
        return "\n\n".join(p for p in parts if p)


def _signed_name(lines: list[str]) -> tuple[str, list[str]]:
    """The name under the message (after a closing such as "Best, Luis") and the lines before the sign-off."""
    for i in range(len(lines) - 1, max(-1, len(lines) - 4), -1):
        line = lines[i].strip()
        closing = rules.pattern("message-closing").match(line)
        # A closing is short and ends the text but for a name: "Thank you for your reply." on a line of its own,
        # followed by a question, is part of the message.
        after = [x.strip() for x in lines[i + 1 :] if x.strip()]
        if closing and (len(line.split()) > 5 or len(after) > 1 or any(x.endswith("?") for x in after)):
            closing = None
        if closing:
            rest = line[closing.end() :].strip(" ,.-")
            candidate = rest or (after[0] if after else "")
            name = candidate if rules.pattern("message-signed-name").match(candidate) else ""
            return name.split()[0].rstrip(".") if name else "", lines[:i]
    last = lines[-1].strip() if lines else ""
    if len(lines) > 1 and rules.pattern("message-signed-name").match(last) and len(last.split()) <= 3:
        return last.split()[0].rstrip("."), lines[:-1]
    return "", lines


def read_message(message: str, *, max_chars: int) -> Message:
    """The asks of a message (questions, and requests written as statements), the sentence each refers back to,
    the first name it is signed with and the countries it names."""
    clean_question(message, max_chars=max_chars)  # empty, over-long or not text: QuestionError
    lines = [line for line in message.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    name, lines = _signed_name(lines)
    body = "\n".join(lines).strip()
    greeting = rules.pattern("message-greeting").match(body)
    if greeting:
        body = body[greeting.end() :].strip()
    sentences = [s for s in split_sentences(body.replace("\n", " \n")) if s.strip()]
    asks: list[str] = []
    context: dict[str, str] = {}
    for i, sentence in enumerate(sentences):
        if sentence.rstrip().endswith("?") or (
            rules.pattern("message-request").match(sentence) and len(sentence.split()) > 3
        ):
            if i and rules.pattern("message-refers-back").search(sentence) and sentences[i - 1] not in asks:
                context[sentence] = sentences[i - 1]
            asks.append(sentence)
    if not asks:
        asks = [" ".join(sentences) or message.strip()]
    return Message(asks[:MAX_ASKS], context, name, countries_named(body, european_only=True), body)


def paragraphs(sentences: Sequence[AnswerSentence]) -> str:
    """The answer's sentences with their markers, a blank line between paragraphs of a few sentences each."""
    groups = [sentences[i : i + SENTENCES_PER_PARAGRAPH] for i in range(0, len(sentences), SENTENCES_PER_PARAGRAPH)]
    return "\n\n".join(render(group) for group in groups)


def source_line(c: Citation, language: str = "en") -> str:
    """A numbered source as a citizen can follow it: the section, the official page or act with its address, and
    when it was last updated; never an address inside this installation."""
    section = c.section if c.section and c.section != c.title else ""
    updated = messages.text("source_updated", language)
    updated = updated[:1].lower() + updated[1:] if language == "en" else updated
    dated = f" ({updated} {c.last_updated})" if c.last_updated else ""
    named = f"{section} ({c.title})" if section else c.title
    if c.source_url:
        return f"[{c.n}] {named}{dated}; {c.source_title or c.title}: {c.source_url}"
    if c.url.startswith(("http://", "https://")):
        return f"[{c.n}] {named}{dated}: {c.url}"
    return f"[{c.n}] {named}{dated}"


def _renumbered(answers: Sequence[AskAnswer]) -> tuple[list[list[AnswerSentence]], list[Citation]]:
    """The sentences of every answered ask with their citations numbered across the whole draft (one number per
    cited passage), and that list of citations."""
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    per_ask: list[list[AnswerSentence]] = []
    for item in answers:
        if item.answer.refused:
            per_ask.append([])
            continue
        local: dict[int, int] = {}
        for c in item.answer.citations:
            key = c.chunk_id or f"{c.url}#{c.n}"
            if key not in numbers:
                numbers[key] = len(numbers) + 1
                citations.append(replace(c, n=numbers[key]))
            local[c.n] = numbers[key]
        per_ask.append(
            [replace(s, citations=tuple(local.get(n, n) for n in s.citations)) for s in item.answer.sentences]
        )
    return per_ask, citations


def make_draft(
    message: Message, answers: Sequence[AskAnswer], *, tone: str, signoff: str, language: str = "en"
) -> Draft:
    """The reply to a message from the answers to its asks, in the given tone and language."""
    say = messages.text
    greeting = (
        say(f"greeting_named_{tone}", language, name=message.name)
        if message.name
        else say(f"greeting_{tone}", language)
    )
    per_ask, citations = _renumbered(answers)

    def authority(ask: str) -> str:
        # The country the ask names, else the European country the message names (where the person lives).
        country = next(iter(countries_named(ask, european_only=True) + message.countries), "")
        if country:
            return say("national_authority", language, country=country)
        return say("national_authority_generic", language)

    answered = [s for group in per_ask for s in group]
    parts: list[str] = []
    uncovered: list[str] = []
    numbered = sum(1 for group in per_ask if group) > 1
    for item, sentences in zip(answers, per_ask, strict=True):
        if not sentences:
            uncovered.append(say("not_covered", language, ask=f"“{item.ask.strip()}”", authority=authority(item.ask)))
            continue
        head = f"{len(parts) + 1}. “{item.ask.strip()}”\n" if numbered else ""
        parts.append(head + paragraphs(sentences))
    if answered:
        opening = say(f"opening_{tone}", language)
        if language != "en":
            opening = f"{opening} {say('quoted_in_english', language)}"
        body = "\n\n".join([opening, *parts, *uncovered, say("eu_rules_note", language)])
    else:
        channels = say("official_channels", language)
        body = "\n\n".join([say(f"refusal_opening_{tone}", language), *uncovered, channels])

    first = next((a.answer for a in answers if not a.answer.refused), answers[0].answer if answers else None)
    combined = Answer(
        question=message.body,
        text=render(answered),
        citations=citations,
        refused=not answered,
        reason="" if answered else (first.reason if first else ""),
        sentences=answered,
        passages=[p for a in answers for p in a.answer.passages],
        composer=first.composer if first else "",
        seconds=sum(a.answer.seconds for a in answers),
        language=language,
        rule="" if answered else (first.rule if first else ""),
    )
    sources = "\n".join(source_line(c, language) for c in citations)
    return Draft(greeting, body, sources, say(f"closing_{tone}", language), signoff, combined, list(answers), language)
