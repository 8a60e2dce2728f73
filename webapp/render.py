"""What the browser shows of answers and sources: Markdown for the chat, HTML for the panels, all text escaped.

Questions, answers, titles and snippets come from users and from ingested pages, so none of it is ever passed on
as markup: HTML's special characters become entities and Markdown's are backslash-escaped, so ``<script>`` or
``![x](http://...)`` in a page shows as those characters and does nothing. Links are built here, only to the
bundled pages the app serves and to http(s) addresses.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

from assistant.answer import Answer, AnswerSentence, Citation

CORPUS_PREFIX = "corpus/pages/"  # how ingest names a bundled page (ingest.sources.corpus_url)
CORPUS_ROUTE = "/corpus/pages"  # where the app serves them
# The system's sans-serif for all text and every weight (nothing downloaded): the theme's own face has a semibold cut
# with few glyphs, so bold text fell back to another typeface mid-page.
FONTS = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", "Helvetica Neue", Arial, sans-serif, '
    '"Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji"'
)
SHOWN_QUESTION_CHARS = 500  # an over-long question is shown cut to this in the chat
_MD_INLINE = re.compile(r"([\\`*_\[\]()!~|@])")  # emphasis, code, links and images, tables, strike-through, and
# "@", so that no e-mail address is turned into a link by the chat's autolinking
_MD_LINE_START = re.compile(r"(?m)^([ \t]*)(#|[-+=]|\d+(?=[.)]))")  # headings, lists, rules (">" is escaped as HTML)
# Web addresses, written out or starting "www.": linked here, as the chat's Markdown would otherwise link them
# itself from the escaped text, backslashes and all.
_URL = re.compile(r"(?:https?://|(?<![\w.@/-])www\.)[^\s<>\"'()\[\]{}]+", re.IGNORECASE)
_URL_SAFE = ":/?#[]@!$&'*+,;=%-._~"


def escape_md(text: str) -> str:
    """Text that Markdown (and the HTML it may hold) shows exactly as written."""
    text = html.escape(_MD_INLINE.sub(r"\\\1", text), quote=False)
    return _MD_LINE_START.sub(_escape_line_start, text)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, mark = match.group(1), match.group(2)
    # "12." and "3)" start a numbered list through the character after the digits; the rest through themselves.
    return f"{indent}{mark}\\" if mark[0].isdigit() else f"{indent}\\{mark}"


def href(url: str) -> str | None:
    """Where a link to ``url`` points in the app: a served bundled page, an http(s) address, or None (no link)."""
    url = url.strip()
    if url.startswith(CORPUS_PREFIX):
        return "/" + quote(url, safe="/#-._~")
    parts = urlsplit(url)
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return quote(url, safe=_URL_SAFE)
    return None  # file:// and anything else: a local path the browser cannot open, or a scheme that could run


def text_md(text: str) -> str:
    """Plain text as Markdown: escaped, with its web addresses as links."""
    out, start = [], 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?")
        end = match.start() + len(url)
        out.append(escape_md(text[start : match.start()]))
        target = href(url if "://" in url else "https://" + url)
        out.append(f"[{escape_md(url)}]({target})" if target else escape_md(url))
        start = end
    out.append(escape_md(text[start:]))
    return "".join(out)


def marker_md(n: int, citation: Citation | None) -> str:
    """A citation marker ``[n]``: a link to the cited section where it can be opened."""
    target = href(citation.url) if citation is not None else None
    if citation is None or target is None:
        return f"\\[{n}\\]"
    title = html.escape(f"Source {n}: {citation.title}", quote=False).replace("\\", "\\\\").replace('"', '\\"')
    return f'[\\[{n}\\]]({target} "{title}")'


def note_md(note: str) -> str:
    """The line in the question's language above an answer quoted from English sources, in italics."""
    return f"_{text_md(note)}_" if note else ""


def partial_md(note: str, text: str) -> str:
    """An answer still being written: its note, then the verified sentences so far."""
    return "\n\n".join(part for part in (note_md(note), text_md(text) if text else "") if part)


def answer_md(answer: Answer) -> str:
    """A finished answer for the chat: its note, then each sentence escaped, each marker a link to its source's
    section."""
    if answer.refused or not answer.sentences:
        return text_md(answer.text)
    by_n = {c.n: c for c in answer.citations}

    def body(sentences: list[AnswerSentence]) -> str:
        return " ".join(
            (text_md(s.text) + " " + "".join(marker_md(n, by_n.get(n)) for n in s.citations)).strip() for s in sentences
        )

    if answer.quotes:  # a model's rewrite, the line saying so, then the quotes it was written from
        return f"{body(answer.sentences)}\n\n{note_md(answer.note)}\n\n{body(answer.quotes)}"
    return f"{note_md(answer.note)}\n\n{body(answer.sentences)}" if answer.note else body(answer.sentences)


def question_md(question: str) -> str:
    """The visitor's question as shown in the chat (cut when over-long), its web addresses as links."""
    if len(question) > SHOWN_QUESTION_CHARS:
        question = question[:SHOWN_QUESTION_CHARS] + "…"
    return text_md(question)


def e(text: object) -> str:
    """Text for HTML, attribute-safe."""
    return html.escape(str(text), quote=True)


def link_html(url: str, label: str) -> str:
    """An escaped link that opens in a new tab, or the label alone when ``url`` cannot be opened."""
    target = href(url)
    if target is None:
        return e(label)
    return f'<a href="{e(target)}" target="_blank" rel="noopener noreferrer">{e(label)}</a>'


def citation_html(c: Citation) -> str:
    """One source beside the answer: number and title (a link to the section), section, snippet, date, origin."""
    parts = [
        f'<li id="source-{c.n}" class="euma-source">',
        f'<p class="euma-source-title">{link_html(c.url, f"[{c.n}] {c.title}")}</p>',
    ]
    if c.section and c.section != c.title:
        parts.append(f'<p class="euma-source-section">Section: {e(c.section)}</p>')
    if c.snippet:
        parts.append(f'<blockquote class="euma-snippet">{e(c.snippet)}</blockquote>')
    meta = [f"Last updated {e(c.last_updated)}"] if c.last_updated else []
    if c.source_url and c.source_url != c.url:
        meta.append("Official source: " + link_html(c.source_url, c.source_title or c.source_url))
    if meta:
        parts.append(f'<p class="euma-source-meta">{" · ".join(meta)}</p>')
    parts.append("</li>")
    return "".join(parts)


def sources_html(answer: Answer | None) -> str:
    """The panel beside the chat: the sources of the last answer."""
    head = '<div class="euma-sources"><h2 class="euma-panel-title">Sources</h2>'
    if answer is None:
        body = "<p>The sources of each answer appear here: the page, the section and when it was last updated.</p>"
    elif not answer.citations:
        body = "<p>No sources: the assistant did not answer this from its sources.</p>"
    else:
        body = "<ol>" + "".join(citation_html(c) for c in answer.citations) + "</ol>"
    return head + body + "</div>"


def sources_list_html(citations: Iterable[Citation]) -> str:
    """The numbered sources of a helpdesk draft as links."""
    items = "".join(citation_html(c) for c in citations)
    return f'<div class="euma-sources"><ol>{items}</ol></div>' if items else "<p>No sources.</p>"


def message_html(text: str, *, kind: str = "info") -> str:
    """A short status line (``info`` or ``error``), escaped."""
    role = ' role="alert"' if kind == "error" else ' role="status"'
    return f'<p class="euma-{e(kind)}"{role}>{e(text)}</p>'
