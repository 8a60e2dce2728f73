"""What flows between the ingest stages: a parsed page made of heading and text blocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass
class Block:
    """A heading (with its level and anchor) or a run of text split into sentences."""

    kind: Literal["heading", "text"]
    text: str
    level: int = 0
    anchor: str = ""
    sentences: list[str] = field(default_factory=list)


@dataclass
class Page:
    """A parsed source: its main content as blocks and what it says about itself."""

    url: str
    title: str
    blocks: list[Block]
    language: str = ""
    updated: str = ""
    checked: str = ""
    source_url: str = ""
    source_title: str = ""
    tags: list[str] = field(default_factory=list)
    doctype: str = ""
    description: str = ""

    @property
    def text(self) -> str:
        """The page's text, blocks joined by newlines (what its content hash is taken of)."""
        return "\n".join(b.text for b in self.blocks)
