"""Cut a page into chunks along its structure: one section per chunk where it fits, split at sentences when not."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ingest.model import Block, Page
from vectorstore.records import Chunk
from vectorstore.sentences import answer_units, unit_ends

# Bump when parsing, sentence splitting, chunking or what is embedded change: every chunk is then made anew.
CHUNKING_VERSION = 7
PATH_SEPARATOR = " > "
SPECIAL_TOKENS = 2  # [CLS] and [SEP], added by the model to every text


@dataclass
class _Section:
    path: list[str]
    anchor: str
    heading: str
    sentences: list[str]


def doc_id_for(url: str) -> str:
    """A stable id for a page, from its address."""
    return hashlib.sha1(url.encode()).hexdigest()[:16]


def chunk_id_for(doc_id: str, heading_path: str, text: str, sentence_ends: str = "") -> str:
    """A chunk's id is a hash of where it stands and what it says: same text, same id, no new embedding.

    The sentence boundaries count too, and the version of how chunks and their sentence vectors are made: the
    vectors are stored under the chunk's id.
    """
    key = f"{CHUNKING_VERSION}\0{doc_id}\0{heading_path}\0{text}\0{sentence_ends}"
    return hashlib.sha1(key.encode()).hexdigest()[:24]


def sections(page: Page) -> list[_Section]:
    """The page's text grouped under its heading paths (title > section > subsection)."""
    stack: list[Block] = []
    out: list[_Section] = []
    current: _Section | None = None
    for block in page.blocks:
        if block.kind == "heading":
            while stack and stack[-1].level >= block.level:
                stack.pop()
            stack.append(block)
            current = None
            continue
        if current is None:
            # The page's H1 is its title (often a shorter form of <title>); the path names the title once.
            names = [b.text for b in stack if not (b.level == 1 and page.title)]
            anchor = next((b.anchor for b in reversed(stack) if b.anchor), "")
            current = _Section([page.title, *names], anchor, stack[-1].text if stack else "", [])
            out.append(current)
        current.sentences.extend(block.sentences or [block.text])
    return out


def _split_long(sentence: str, limit: int, count: Callable[[Sequence[str]], list[int]]) -> list[str]:
    """A sentence longer than the model reads, cut at its clause boundaries (semicolons) where it has them."""
    parts = [p.strip() for p in re.split(r"(?<=;)\s+", sentence) if p.strip()]
    if len(parts) == 1:
        return parts
    out: list[str] = []
    for part, size in zip(parts, count(parts), strict=True):
        if out and count([out[-1]])[0] + size <= limit:
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out


def pack(sentences: list[str], sizes: list[int], budget: int) -> list[list[str]]:
    """Group consecutive sentences into chunks of at most ``budget`` tokens, of even size, never splitting one."""
    total = sum(sizes)
    if total <= budget:
        return [sentences]
    target = total / math.ceil(total / budget)
    groups: list[list[str]] = [[]]
    filled = 0
    for sentence, size in zip(sentences, sizes, strict=True):
        if groups[-1] and (filled + size > budget or filled >= target):
            groups.append([])
            filled = 0
        groups[-1].append(sentence)
        filled += size
    return groups


def chunk(
    page: Page,
    *,
    count_tokens: Callable[[Sequence[str]], list[int]],
    max_tokens: int,
    chunk_tokens: int,
    doc_id: str | None = None,
    doc_hash: str = "",
) -> list[Chunk]:
    """Chunks of the page: each a section or part of one, sized in the embedding model's tokens."""
    doc_id = doc_id or doc_id_for(page.url)
    out: list[Chunk] = []
    for section in sections(page):
        heading_path = PATH_SEPARATOR.join(p for p in section.path if p)
        room = max_tokens - SPECIAL_TOKENS - count_tokens([heading_path])[0] - 1
        budget = max(16, min(chunk_tokens, room))
        sentences: list[str] = []
        for sentence, size in zip(section.sentences, count_tokens(section.sentences), strict=True):
            sentences.extend(_split_long(sentence, budget, count_tokens) if size > budget else [sentence])
        for group in pack(sentences, count_tokens(sentences), budget):
            text = " ".join(group)
            ends = unit_ends(text, answer_units(group))
            link = f"{page.url.split('#')[0]}#{section.anchor}" if section.anchor else page.url
            out.append(
                Chunk(
                    id=chunk_id_for(doc_id, heading_path, text, ends),
                    doc_id=doc_id,
                    text=text,
                    title=page.title,
                    url=page.url,
                    link=link,
                    section=section.heading,
                    heading_path=heading_path,
                    anchor=section.anchor,
                    source_url=page.source_url,
                    source_title=page.source_title,
                    updated=page.updated,
                    checked=page.checked,
                    tags="; ".join(page.tags),
                    doctype=page.doctype,
                    language=page.language,
                    position=len(out),
                    doc_hash=doc_hash,
                    sentence_ends=ends,
                )
            )
    return out
