"""Parse an HTML page with BeautifulSoup4: keep the main content and its headings, drop the site around it."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from common.text import normalize
from ingest.clean import Deduplicator, figure_statements, repair_joins, split_sentences
from ingest.dates import parse_date, updated_in_text
from ingest.errors import ParseError
from ingest.model import Block, Page

DROP_TAGS = (
    "script", "style", "noscript", "template", "svg", "iframe", "form", "button", "select", "input", "nav",
    "aside", "footer", "object", "embed", "canvas", "map", "dialog",
)  # fmt: skip
DROP_ROLES = {"navigation", "banner", "contentinfo", "search", "dialog", "alertdialog", "menu", "menubar"}
# Class or id words that mark site furniture rather than content (matched as whole words of the attribute).
BOILERPLATE_WORDS = {
    "cookie", "cookies", "consent", "cck", "breadcrumb", "breadcrumbs", "language", "languages", "lang",
    "share", "social", "menu", "navbar", "navigation", "nav", "skip", "skiplink", "footer", "toolbar",
    "sitemap", "site-switcher", "newsletter", "feedback", "print", "pager", "pagination", "disclaimer",
    "banner", "masthead", "header-top", "sidebar", "modal", "popup", "hd-modifiers", "reference", "arrow",
    "separator", "modref", "globan",
}  # fmt: skip
HEADING_TAGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
CONTAINERS = {
    "html", "body", "main", "article", "section", "div", "header", "ul", "ol", "dl", "table", "thead", "tbody",
    "tfoot", "tr", "figure", "details", "center", "hgroup",
}  # fmt: skip
LEAVES = {"p", "li", "dd", "dt", "td", "th", "blockquote", "pre", "figcaption", "caption", "address", "summary"}
MAIN_SELECTORS = ("main", "[role=main]", "#main-content", ".eli-container", "#document1", "#docHtml", "article")
# EUR-Lex marks headings with paragraph classes, not <h*> tags.
EURLEX_HEADINGS = {
    "title-division-1": 2, "ti-section-1": 2, "title-article-norm": 3, "ti-art": 3,
}  # fmt: skip
# Legal acts nest PART > TITLE > CHAPTER > SECTION > Article; the heading's first word gives its rank.
EURLEX_RANKS = {"part": 2, "title": 2, "chapter": 3, "section": 4, "annex": 2, "article": 5}
EURLEX_SUBTITLES = {"title-division-2", "ti-section-2", "stitle-article-norm", "sti-art"}


def _words(value: object) -> set[str]:
    """The words of a class or id attribute: each whole token ("site-switcher") and its parts ("site", "switcher")."""
    tokens = (" ".join(value) if isinstance(value, list) else str(value or "")).lower().split()
    return set(tokens) | {part for token in tokens for part in re.split(r"[_\-]+", token) if part}


def _is_boilerplate(tag: Tag) -> bool:
    if tag.name in DROP_TAGS:
        return True
    if str(tag.get("role", "")).lower() in DROP_ROLES or str(tag.get("aria-hidden", "")).lower() == "true":
        return True
    if tag.name == "header" and not tag.find(["h1"]):
        return True
    if tag.name in HEADING_TAGS:
        return False  # a section heading is content, whatever its id says ("social-security-and-assistance")
    marks = _words(tag.get("class")) | _words(tag.get("id"))
    return bool(marks & BOILERPLATE_WORDS) and not tag.find("h1")


def _meta(soup: BeautifulSoup, *names: str) -> str:
    for name in names:
        tag = soup.find("meta", attrs={"name": name}) or soup.find("meta", attrs={"property": name})
        if isinstance(tag, Tag) and tag.get("content"):
            return normalize(str(tag["content"]))
    return ""


def _updated(soup: BeautifulSoup) -> str:
    meta = _meta(
        soup,
        "article:modified_time",
        "dcterms.modified",
        "DC.date.modified",
        "last-modified",
        "og:updated_time",
        "modified",
    )
    if meta and (date := parse_date(meta)):
        return date
    for time in soup.find_all("time"):
        context = time.parent.get_text(" ") if time.parent else ""
        date = parse_date(str(time.get("datetime", "")) or time.get_text())
        if date and re.search(r"updated|modified|reviewed", context, re.IGNORECASE):
            return date
    return updated_in_text(soup.get_text(" ")) or ""


def _anchor(tag: Tag) -> str:
    """The id a link can jump to for this heading: its own, an <a> inside it, or its enclosing section's."""
    if tag.get("id"):
        return str(tag["id"])
    inner = tag.find("a", attrs={"id": True}) or tag.find("a", attrs={"name": True})
    if isinstance(inner, Tag):
        return str(inner.get("id") or inner.get("name"))
    parent = tag.parent
    for _ in range(3):
        if not isinstance(parent, Tag):
            break
        first = parent.find(lambda t: t.name in HEADING_TAGS or _eurlex_level(t) > 0)
        if parent.get("id") and first is tag:
            return str(parent["id"])
        parent = parent.parent
    return ""


def _eurlex_level(tag: Tag) -> int:
    classes = set(tag.get("class") or [])
    for cls, level in EURLEX_HEADINGS.items():
        if cls in classes:
            return level
    return 0


class _Walker:
    """Walks the main content in document order, turning it into heading and text blocks."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self._buffer: list[str] = []

    def flush(self) -> None:
        text = normalize(" ".join(self._buffer))
        self._buffer = []
        if text:
            self.blocks.append(Block("text", text))

    def heading(self, text: str, level: int, anchor: str) -> None:
        self.flush()
        text = normalize(text)
        if text:
            self.blocks.append(Block("heading", text, level=level, anchor=anchor))

    def walk(self, node: Tag) -> None:
        for child in list(node.children):
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                self._buffer.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in HEADING_TAGS:
                self.heading(child.get_text(" "), HEADING_TAGS[name], _anchor(child))
            elif level := _eurlex_level(child):
                self._eurlex_heading(child, level)
            elif set(child.get("class") or []) & EURLEX_SUBTITLES:
                continue  # read together with the heading it belongs to
            elif {"grid-container", "norm"} & set(child.get("class") or []) and child.name == "div":
                self.flush()  # a EUR-Lex list point: "(a)" and its text in two columns
                self._buffer.append(child.get_text(" "))
                self.flush()
            elif name in CONTAINERS or name in LEAVES:
                self.flush()
                self.walk(child)
                self.flush()
            elif name == "br":
                self._buffer.append(" ")
            else:
                self.walk(child)

    def _eurlex_heading(self, tag: Tag, level: int) -> None:
        parts = [tag.get_text(" ")]
        sibling = tag.find_next_sibling()
        while isinstance(sibling, Tag):
            classes = set(sibling.get("class") or [])
            if classes & EURLEX_SUBTITLES or "eli-title" in classes:
                parts.append(sibling.get_text(" "))
            else:
                break
            sibling = sibling.find_next_sibling()
        first_word = normalize(parts[0]).split(" ")[0].lower()
        level = EURLEX_RANKS.get(first_word, level)
        anchor = ""
        parent = tag.parent
        while isinstance(parent, Tag) and not anchor:
            if parent.get("id") and re.match(r"(art|tis|cpt|sct|prt|anx|enc)_", str(parent["id"])):
                anchor = str(parent["id"])
            parent = parent.parent
        self.heading(" - ".join(normalize(p) for p in parts if normalize(p)), level, anchor or str(tag.get("id", "")))


def _main_content(soup: BeautifulSoup) -> Tag:
    body = soup.body or soup
    total = len(body.get_text(" ", strip=True))
    for selector in MAIN_SELECTORS:
        found = soup.select_one(selector)
        if isinstance(found, Tag) and len(found.get_text(" ", strip=True)) >= 0.2 * total:
            return found
    return body


def parse(html: str | bytes, url: str) -> Page:
    """Parse an HTML page into its title, metadata and main-content blocks; ``url`` is where it came from."""
    soup = BeautifulSoup(html, "lxml")
    if soup.find("html") is None and soup.find("body") is None:
        raise ParseError("not an HTML document")
    title = _meta(soup, "og:title") or (normalize(soup.title.get_text()) if soup.title else "")
    canonical = ""
    link = soup.find("link", rel="canonical")
    if isinstance(link, Tag) and link.get("href"):
        canonical = urljoin(url, str(link["href"]))
    canonical = canonical or _meta(soup, "og:url")
    html_tag = soup.find("html")
    language = str(html_tag.get("lang", "")) if isinstance(html_tag, Tag) else ""
    language = language or _meta(soup, "content-language", "og:locale", "dc.language")
    updated = _updated(soup)
    page = Page(
        url=canonical or url,
        title="",
        blocks=[],
        language=language.split("-")[0].split("_")[0].lower(),
        updated=updated,
        checked=parse_date(_meta(soup, "euma:checked")) or "",
        source_url=_meta(soup, "euma:source"),
        source_title=_meta(soup, "euma:source-title"),
        tags=[t.strip().lower() for t in _meta(soup, "euma:tags").split(";") if t.strip()],
        doctype=_meta(soup, "euma:doctype").lower(),
        description=_meta(soup, "description", "og:description"),
    )
    for tag in soup.find_all(lambda t: isinstance(t, Tag) and _is_boilerplate(t)):
        if tag.parent is not None:  # not already removed with an ancestor
            tag.decompose()
    walker = _Walker()
    walker.walk(_main_content(soup))
    walker.flush()
    page.blocks = finish_blocks(walker.blocks)
    h1 = next((b.text for b in page.blocks if b.kind == "heading" and b.level == 1), "")
    page.title = title or h1 or url
    return page


def finish_blocks(blocks: list[Block]) -> list[Block]:
    """Repair, split into sentences and de-duplicate the text blocks; drop empty ones and "last updated" lines."""
    dedup = Deduplicator()
    out: list[Block] = []
    for block in blocks:
        if block.kind == "heading":
            out.append(block)
            continue
        text = block.text
        if re.fullmatch(r"(this\s+)?(page\s+)?(was\s+)?last\s+updated.{0,40}", text, re.IGNORECASE):
            continue
        sentences = dedup.fresh(figure_statements(split_sentences(repair_joins(text))))
        if sentences:
            out.append(Block("text", " ".join(sentences), sentences=sentences))
    return out
