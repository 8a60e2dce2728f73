"""Helpdesk drafts: from a citizen's message, a reply a helpdesk worker edits and sends, with the same grounding.

The draft holds a greeting, the verified answer in paragraphs (citations kept as ``[n]``), the numbered sources
with their addresses and last-updated dates, a closing and the sign-off. A refused answer becomes a polite reply
pointing to the official channels.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answer import Answer, AnswerSentence
from assistant.scope import clean_question
from assistant.verify import render
from vectorstore.sentences import split_sentences

GREETINGS = {"formal": "Dear Sir or Madam,", "friendly": "Hello,"}
OPENINGS = {
    "formal": "Thank you for your message. Based on the official EU sources listed below:",
    "friendly": "Thanks for getting in touch! Here is what the official EU sources say:",
}
REFUSAL_OPENINGS = {
    "formal": "Thank you for your message.",
    "friendly": "Thanks for getting in touch!",
}
CLOSINGS = {
    "formal": (
        "This reply gives general information, not legal advice; the national authorities decide individual cases.\n"
        "Kind regards,"
    ),
    "friendly": (
        "Please note this is general information, not legal advice: the national authorities decide each case.\n"
        "Best wishes,"
    ),
}
SENTENCES_PER_PARAGRAPH = 2
LONG_MESSAGE_WORDS = 80  # longer messages are searched by their questions
_SALUTATION = re.compile(
    r"^(dear|hello|hi|hey|good (morning|afternoon|evening)|greetings|to whom it may concern)\b[^,.!?\n]*[,.!]?\s*",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(
    r"(?:\n|(?<=[.!?])\s)\s*"
    r"(kind regards|best regards|regards|best wishes|thanks|thank you|many thanks|sincerely|yours)\b.*$",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class Draft:
    """A reply to a citizen, in parts and as one text."""

    greeting: str
    body: str
    sources: str
    closing: str
    signoff: str
    answer: Answer

    @property
    def text(self) -> str:
        """The whole reply, ready to edit."""
        parts = [self.greeting, self.body]
        if self.sources:
            parts.append(f"Sources:\n{self.sources}")
        parts.append(f"{self.closing}\n{self.signoff}")
        return "\n\n".join(p for p in parts if p)


def question_of(message: str, *, max_chars: int) -> str:
    """What to look up for a message: the message without greeting and signature; in a long message, its questions
    with the sentence before each (which usually says whose situation it is)."""
    text = clean_question(message, max_chars=max_chars)
    body = _SIGNATURE.sub("", message.replace("\r\n", "\n")).strip()
    body = _SALUTATION.sub("", body).strip() or text
    sentences = split_sentences(body)
    if len(body.split()) <= LONG_MESSAGE_WORDS:
        return " ".join(sentences)
    picked: list[str] = []
    for i, sentence in enumerate(sentences):
        if sentence.endswith("?"):
            picked.extend(s for s in sentences[max(0, i - 1) : i + 1] if s not in picked)
    return " ".join(picked or sentences)


def paragraphs(sentences: Sequence[AnswerSentence]) -> str:
    """The answer's sentences with their markers, a blank line between paragraphs of a few sentences each."""
    groups = [sentences[i : i + SENTENCES_PER_PARAGRAPH] for i in range(0, len(sentences), SENTENCES_PER_PARAGRAPH)]
    return "\n\n".join(render(group) for group in groups)


def sources_list(answer: Answer) -> str:
    """The numbered sources with their addresses and dates."""
    lines = []
    for c in answer.citations:
        lines.append(f"{c.label()}: {c.url}")
        if c.official():
            lines.append(f"    Official source: {c.official()}")
    return "\n".join(lines)


def make_draft(answer: Answer, *, tone: str, signoff: str) -> Draft:
    """The reply for a verified answer (or a refusal) in the given tone."""
    if answer.refused:
        body = f"{REFUSAL_OPENINGS[tone]}\n\n{answer.text}"
        return Draft(GREETINGS[tone], body, "", CLOSINGS[tone], signoff, answer)
    body = f"{OPENINGS[tone]}\n\n{paragraphs(answer.sentences)}"
    return Draft(GREETINGS[tone], body, sources_list(answer), CLOSINGS[tone], signoff, answer)
