"""The contract ingest and serving share: what a stored chunk and a stored document carry."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from vectorstore.sentences import answer_units, split_sentences, units_from_ends

# Metadata keys of a chunk in the store; ingest writes them, retrieval reads them.
CHUNK_KEYS = (
    "doc_id",
    "title",
    "url",
    "link",
    "source_url",
    "source_title",
    "section",
    "heading_path",
    "anchor",
    "updated",
    "checked",
    "tags",
    "doctype",
    "language",
    "position",
    "doc_hash",
    "sentence_ends",
)


@dataclass(frozen=True, kw_only=True)
class Chunk:
    """One retrievable passage: a section (or part of one) of a page, with where it came from."""

    id: str
    doc_id: str
    text: str
    title: str
    url: str
    link: str
    section: str = ""
    heading_path: str = ""
    anchor: str = ""
    source_url: str = ""
    source_title: str = ""
    updated: str = ""
    checked: str = ""
    tags: str = ""
    doctype: str = ""
    language: str = ""
    position: int = 0
    doc_hash: str = ""
    sentence_ends: str = ""  # end offsets in ``text`` of the sentences an answer may quote, comma-separated

    @property
    def sentences(self) -> list[str]:
        """The chunk's answer sentences (list lead-ins keep their items; see ``answer_units``)."""
        if self.sentence_ends:
            units = units_from_ends(self.text, self.sentence_ends)
            if units:
                return units
        return answer_units(split_sentences(self.text))

    def sentence_in_context(self, sentence: str) -> str:
        """What is embedded for one of the chunk's sentences: its section's name gives it a topic."""
        return f"{self.section or self.title}: {sentence}"

    @property
    def embed_text(self) -> str:
        """What is embedded and indexed: the heading path gives a short passage its context."""
        return f"{self.heading_path}\n{self.text}" if self.heading_path else self.text

    def metadata(self) -> dict[str, Any]:
        """The chunk's metadata as stored in Chroma (scalars only)."""
        data = asdict(self)
        return {key: data[key] for key in CHUNK_KEYS}

    @classmethod
    def from_stored(cls, chunk_id: str, text: str, metadata: dict[str, Any]) -> Chunk:
        """Rebuild a chunk from what the store returns."""
        known = {key: metadata[key] for key in CHUNK_KEYS if key in metadata and metadata[key] is not None}
        known.setdefault("doc_id", "")
        known.setdefault("title", "")
        known.setdefault("url", "")
        known.setdefault("link", known["url"])
        return cls(id=chunk_id, text=text, **known)


@dataclass(frozen=True, kw_only=True)
class DocumentRecord:
    """What the store remembers of an ingested page, to skip unchanged ones and to list sources."""

    doc_id: str
    title: str
    url: str
    content_hash: str
    chunk_ids: tuple[str, ...] = ()
    source: str = ""
    updated: str = ""
    ingested_at: str = ""
    etag: str = ""
    last_modified: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        """Scalar metadata for Chroma (chunk ids joined with newlines)."""
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "url": self.url,
            "content_hash": self.content_hash,
            "chunk_ids": "\n".join(self.chunk_ids),
            "chunk_count": len(self.chunk_ids),
            "source": self.source,
            "updated": self.updated,
            "ingested_at": self.ingested_at,
            "etag": self.etag,
            "last_modified": self.last_modified,
        }

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any]) -> DocumentRecord:
        """Rebuild a record from its stored metadata."""
        ids = str(metadata.get("chunk_ids") or "")
        return cls(
            doc_id=str(metadata["doc_id"]),
            title=str(metadata.get("title", "")),
            url=str(metadata.get("url", "")),
            content_hash=str(metadata.get("content_hash", "")),
            chunk_ids=tuple(i for i in ids.split("\n") if i),
            source=str(metadata.get("source", "")),
            updated=str(metadata.get("updated", "")),
            ingested_at=str(metadata.get("ingested_at", "")),
            etag=str(metadata.get("etag", "")),
            last_modified=str(metadata.get("last_modified", "")),
        )
