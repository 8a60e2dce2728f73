"""Parse Markdown and plain text, including text scraped from web pages with the site's menus still in it."""

from __future__ import annotations

import re

from common.text import normalize
from ingest.dates import parse_date, updated_in_text
from ingest.model import Block, Page
from ingest.parse_html import finish_blocks

# Lines that are site furniture wherever they stand (compared lower-case, whole line).
BOILERPLATE_LINES = {
    "...", "accept all cookies", "accept only essential cookies", "accessibility", "all news",
    "an official eu website", "an official website of the european union", "back", "bluesky", "close", "contact",
    "contact us", "cookies", "cookies policy", "cookies policy page", "exposure", "facebook", "flickr",
    "follow the european commission", "home", "how do you know?", "instagram", "languages on our websites",
    "legal notice", "linkedin", "menu", "more stories", "next items", "other", "page contents", "previous items",
    "print", "privacy policy", "read more", "related links", "report an it vulnerability", "search", "see all",
    "see all eu institutions and bodies", "select your language", "share this page", "skip to main content",
    "this site is managed by:", "this site uses cookies. visit our", "top", "x", "youtube", "…",
}  # fmt: skip
LANGUAGE_NAMES = {
    "dansk", "deutsch", "eesti", "english", "español", "français", "gaeilge", "hrvatski", "italiano", "latviešu",
    "lietuvių", "magyar", "malti", "nederlands", "norsk", "polski", "português", "română", "slovenčina",
    "slovenščina", "suomi", "svenska", "türkçe", "íslenska", "čeština", "ελληνικά", "български", "українська",
}  # fmt: skip
LANGUAGE_CODES = {
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "is", "it", "lt", "lv", "mt",
    "nl", "no", "pl", "pt", "ro", "sk", "sl", "sv", "tr", "uk",
}  # fmt: skip
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_MD_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(.+?)\1")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_KEY_VALUE = re.compile(r"^\s*(?:[-*]\s+)?\**([A-Za-z][\w -]{0,30}?)\**\s*:\s*\**\s*(.+?)\s*$")
FOOTER_MARKERS = ("share this page", "this site is managed by")


def slugify(text: str) -> str:
    """A heading's anchor as Markdown renderers make it: lower case, words joined by hyphens."""
    return re.sub(r"[^\w]+", "-", normalize(text).lower()).strip("-")


def _inline(text: str) -> str:
    text = _MD_LINK.sub(r"\1", text)
    return normalize(_MD_EMPHASIS.sub(r"\2", text))


def _is_boilerplate_line(line: str) -> bool:
    low = line.lower().strip()
    return low in BOILERPLATE_LINES or low in LANGUAGE_NAMES or low in LANGUAGE_CODES or low.startswith("©")


def _is_menu_like(line: str) -> bool:
    """Short, no sentence punctuation, no figure: the shape of a menu entry."""
    return len(line.split()) <= 6 and not re.search(r"[.!?:;,]$|\d", line)


def drop_menu_runs(lines: list[str], known_headings: set[str], min_run: int = 5) -> list[str]:
    """Remove runs of ``min_run`` or more menu-like lines (navigation menus, link lists, footers)."""
    out: list[str] = []
    run: list[str] = []
    for line in [*lines, "."]:  # the sentinel flushes the last run
        if _is_menu_like(line) and line.lower() not in known_headings:
            run.append(line)
            continue
        if len(run) < min_run:
            out.extend(run)
        run = []
        out.append(line)
    return out[:-1]


def parse_text(text: str, url: str, *, markdown: bool) -> Page:
    """Parse Markdown (headings, lists, front matter) or plain text into a page."""
    meta: dict[str, str] = {}
    if m := _FRONT_MATTER.match(text):
        for line in m.group(1).splitlines():
            if kv := _KEY_VALUE.match(line):
                meta[kv.group(1).strip().lower()] = kv.group(2).strip().strip("\"'")
        text = text[m.end() :]
    lines = text.splitlines()
    # Scraped pages in Markdown often carry their own "Metadata", "Page Structure" and "Links" sections.
    known_headings: set[str] = set()
    content: list[tuple[str, str]] = []  # (kind, text) where kind is heading level "h1".."h6" or "p"
    section = ""
    paragraph: list[str] = []

    def flush() -> None:
        if not paragraph:
            return
        short = sum(len(line) < 40 for line in paragraph)
        if len(paragraph) >= 5 and short >= len(paragraph) / 2:
            content.extend(("p", line) for line in paragraph)  # scraped text: one block per line
        else:
            content.append(("p", " ".join(paragraph)))
        paragraph.clear()

    for raw in lines:
        line = raw.rstrip()
        heading = _MD_HEADING.match(line) if markdown else None
        if heading:
            flush()
            section = heading.group(2).strip().lower()
            if section in ("metadata", "page structure", "links", "table of contents", "content"):
                continue
            content.append((f"h{len(heading.group(1))}", _inline(heading.group(2))))
            continue
        if section == "metadata":
            if kv := _KEY_VALUE.match(line):
                meta.setdefault(kv.group(1).strip().lower(), _inline(kv.group(2)))
            continue
        if section == "page structure":
            if item := _MD_ITEM.match(line):
                known_headings.add(re.sub(r"^#+\s*", "", _inline(item.group(1))).lower())
            continue
        if section == "links":
            continue
        if not line.strip():
            flush()
            continue
        item = _MD_ITEM.match(line) if markdown else None
        if item:
            flush()
            content.append(("p", _inline(item.group(1))))
            continue
        if markdown:
            paragraph.append(_inline(line))
        else:
            # Plain text from scraping has one block per line; a blank line separates paragraphs otherwise.
            content.append(("p", normalize(line)))
    flush()

    texts = [t for kind, t in content if kind == "p"]
    updated = meta.get("updated") or meta.get("last updated") or updated_in_text("\n".join(texts)) or ""
    kept = [(k, t) for k, t in content if k != "p" or not _is_boilerplate_line(t)]
    # A footer marker near the end cuts off the footer below it.
    for index, (kind, t) in enumerate(kept):
        if kind == "p" and t.lower() in FOOTER_MARKERS and index > len(kept) * 0.5:
            kept = kept[:index]
            break
    paragraphs = drop_menu_runs([t for k, t in kept if k == "p"], known_headings)
    survivors = iter(paragraphs)
    next_kept: str | None = next(survivors, None)
    blocks: list[Block] = []
    for kind, t in kept:
        if kind != "p":
            blocks.append(Block("heading", t, level=int(kind[1]), anchor=slugify(t)))
            continue
        if next_kept is None or t != next_kept:
            continue  # dropped as part of a menu run
        next_kept = next(survivors, None)
        if t.lower() in known_headings:
            blocks.append(Block("heading", t, level=2, anchor=slugify(t)))
        else:
            blocks.append(Block("text", t))
    scraped = "url" in meta  # a scraper's wrapper: its H1 names the site, the first line is the page title
    title = meta.get("title") or (
        "" if scraped else next((b.text for b in blocks if b.kind == "heading" and b.level == 1), "")
    )
    if scraped:
        blocks = [b for b in blocks if not (b.kind == "heading" and b.level == 1)]
    if not title and blocks:
        title = blocks[0].text[:120]
    return Page(
        url=meta.get("url") or meta.get("canonical") or url,
        title=title,
        blocks=finish_blocks(blocks),
        language=meta.get("language", meta.get("lang", "")),
        updated=parse_date(updated) or "",
        checked=parse_date(meta.get("checked", "")) or "",
        source_url=meta.get("source", ""),
        source_title=meta.get("source-title", meta.get("source title", "")),
        tags=[t.strip().lower() for t in meta.get("tags", "").split(";") if t.strip()],
        doctype=meta.get("doctype", "").lower(),
        description=meta.get("description", ""),
    )
