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

    def to_dict(self, *, passages: bool = True) -> dict[str, Any]:
        """The answer as JSON-ready data."""
        data = asdict(self)
        if not passages:
            data.pop("passages")
        return data

    def sources_text(self) -> str:
        """The numbered list of sources, one line each, for plain-text output."""
        lines = []
        for c in self.citations:
            where = f"{c.title} — {c.section}" if c.section and c.section != c.title else c.title
            dated = f" (last updated {c.last_updated})" if c.last_updated else ""
            lines.append(f"[{c.n}] {where}{dated}\n    {c.url}")
            if c.source_url and c.source_url != c.url:
                lines.append(f"    official source: {c.source_title or c.source_url} {c.source_url}".rstrip())
        return "\n".join(lines)
