"""What the assistant returns: an answer whose sentences carry verified, numbered citations, as plain data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Why an answer was refused; the app and the evaluation read these codes.
NO_MATCH = "no_match"  # nothing relevant enough was found
OUT_OF_SCOPE = "out_of_scope"  # the question is not about EU migration and asylum policy
INSTRUCTIONS = "instructions"  # the question tries to instruct the assistant
UNVERIFIED = "unverified"  # a composer wrote something, but no sentence of it survived verification
EMPTY_STORE = "empty_store"  # nothing has been ingested
REFUSAL_REASONS = (NO_MATCH, OUT_OF_SCOPE, INSTRUCTIONS, UNVERIFIED, EMPTY_STORE)


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer: the passage behind ``[n]``, with where to read it and how fresh it is."""

    n: int
    title: str
    url: str  # deep link to the section where the page has anchors
    section: str
    snippet: str
    last_updated: str
    source_url: str = ""  # the official page or legal act the passage summarises
    source_title: str = ""
    chunk_id: str = ""

    def label(self) -> str:
        """``[n] Title — Section (last updated DATE)``: how a source is named in plain text."""
        where = f"{self.title} — {self.section}" if self.section and self.section != self.title else self.title
        dated = f" (last updated {self.last_updated})" if self.last_updated else ""
        return f"[{self.n}] {where}{dated}"

    def official(self) -> str:
        """The official page or act the passage summarises, when it has one: ``Title, address``."""
        if not self.source_url or self.source_url == self.url:
            return ""
        return f"{self.source_title or 'official page'}, {self.source_url}"


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer with the citation numbers that support it."""

    text: str
    citations: tuple[int, ...]
    support: float = 1.0


@dataclass(frozen=True)
class Dropped:
    """A sentence a composer wrote that verification removed, and why."""

    text: str
    reason: str


@dataclass(frozen=True)
class RetrievedPassage:
    """A passage retrieval found for the question, as reported with the answer."""

    rank: int
    score: float
    relevance: float
    title: str
    url: str
    section: str
    chunk_id: str
    text: str
    dense_rank: int | None = None
    lexical_rank: int | None = None
    source_url: str = ""


@dataclass(frozen=True)
class Answer:
    """The assistant's answer: text with ``[n]`` markers, the citations they point to, or a refusal."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    reason: str = ""  # one of REFUSAL_REASONS when refused
    sentences: list[AnswerSentence] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    passages: list[RetrievedPassage] = field(default_factory=list)
    search_query: str = ""  # what retrieval searched for (the question, or the follow-up resolved from history)
    composer: str = ""
    seconds: float = 0.0
    language: str = "en"  # the question's language: the assistant's own words are in it
    note: str = ""  # a line in that language shown above the answer (e.g. that it quotes English sources)
    rule: str = ""  # for a refusal: the rule that made it
    trace: list[dict[str, Any]] = field(default_factory=list)  # per stage: decision, rule, details, ms
    # In rewrite mode, when a model's rewrite is the text: the verified quotes it was written from, shown below it.
    quotes: list[AnswerSentence] = field(default_factory=list)
    extract: str = ""  # the quotes as text with their markers

    @property
    def shown_text(self) -> str:
        """The answer as shown to a person: the note, if any, above the text; a rewrite, its note, then its quotes."""
        if self.extract:
            return f"{self.text}\n\n{self.note}\n\n{self.extract}"
        return f"{self.note}\n\n{self.text}" if self.note else self.text

    def to_dict(self, *, passages: bool = True) -> dict[str, Any]:
        """The answer as JSON-ready data."""
        data = asdict(self)
        if not passages:
            data.pop("passages")
        return data

    def sources_text(self) -> str:
        """The numbered list of sources, with their addresses, for plain-text output."""
        lines = []
        for c in self.citations:
            lines.append(f"{c.label()}\n    {c.url}")
            if c.official():
                lines.append(f"    official source: {c.official()}")
        return "\n".join(lines)
