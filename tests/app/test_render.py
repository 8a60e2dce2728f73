"""What the browser is given: user and page text escaped (shown as written, never as markup), links only where safe."""

from __future__ import annotations

import html
import re

import pytest

from assistant.answer import Answer, AnswerSentence, Citation
from webapp import render

HOSTILE = [
    '<img src=x onerror="alert(1)">',
    "<script>alert(1)</script>",
    "![tracker](http://example.org/pixel.png)",
    "[click me](javascript:alert(1))",
    "**bold** _em_ `code` ~~strike~~ | a | b |",
    "# Heading\n- item\n+ item\n1. first\n2) second\n===\n> quote",
    "Tom & Jerry &lt;b&gt; \\ backslash",
]


def rendered(markdown: str) -> str:
    """CommonMark with raw HTML allowed, as a permissive renderer would show it."""
    markdown_it = pytest.importorskip("markdown_it")
    return str(markdown_it.MarkdownIt("commonmark", {"html": True}).render(markdown))


def visible_text(page_html: str) -> str:
    return html.unescape(re.sub(r"</?(p|br ?/?)>", "", page_html)).strip()


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_renders_as_exactly_the_same_text_and_no_markup(text: str) -> None:
    out = rendered(render.escape_md(text))
    assert not re.search(r"<(?!/?p>|br)", out), out  # no tag but paragraphs and line breaks
    assert visible_text(out).split() == text.split()


def test_without_escaping_the_same_text_would_be_markup() -> None:
    """The check above can fail: the renderer does pass raw HTML and Markdown links through."""
    assert "<img" in rendered(HOSTILE[0])
    assert "<a href" in rendered("[x](http://example.org)")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("corpus/pages/eu-blue-card.html#salary-threshold", "/corpus/pages/eu-blue-card.html#salary-threshold"),
        ("https://eur-lex.europa.eu/eli/dir/2021/1883/oj", "https://eur-lex.europa.eu/eli/dir/2021/1883/oj"),
        ('https://example.org/a b"c(d)', "https://example.org/a%20b%22c%28d%29"),
        ("file:///tmp/page.html#part", None),
        ("javascript:alert(1)", None),
        ("JavaScript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("//evil.example/x", None),
        ("", None),
    ],
)
def test_links_go_only_to_served_pages_and_web_addresses(url: str, expected: str | None) -> None:
    assert render.href(url) == expected


def citation(n: int, **changes: str) -> Citation:
    values = {
        "title": "EU Blue Card",
        "url": "corpus/pages/eu-blue-card.html#salary-threshold",
        "section": "Salary threshold",
        "snippet": "The job must pay at least a minimum salary.",
        "last_updated": "2026-11-29",
        "source_url": "https://eur-lex.europa.eu/eli/dir/2021/1883/oj",
        "source_title": "Directive (EU) 2021/1883",
    } | changes
    return Citation(n=n, **values)


def test_answer_markers_become_links_to_the_cited_section() -> None:
    answer = Answer(
        question="q",
        text="The job must pay a minimum salary. [1] Each country sets it. [1][2]",
        citations=[citation(1), citation(2, url="file:///tmp/x.html#y", title="Local page")],
        sentences=[
            AnswerSentence("The job must pay a minimum salary.", (1,)),
            AnswerSentence("Each country sets it.", (1, 2)),
        ],
    )
    out = rendered(render.answer_md(answer))
    links = re.findall(r'<a href="([^"]+)" title="([^"]+)">\[(\d)\]</a>', out)
    assert links == [
        ("/corpus/pages/eu-blue-card.html#salary-threshold", "Source 1: EU Blue Card", "1"),
        ("/corpus/pages/eu-blue-card.html#salary-threshold", "Source 1: EU Blue Card", "1"),
    ]
    assert "[2]" in visible_text(re.sub(r"<a [^>]+>\[1\]</a>", "", out))  # a local file's marker stays plain text


def test_a_refusal_links_the_official_addresses_it_names() -> None:
    answer = Answer(question="q", text="See https://immigration-portal.ec.europa.eu/.", refused=True)
    assert '<a href="https://immigration-portal.ec.europa.eu/">' in rendered(render.answer_md(answer))


def test_sources_panel_escapes_every_field_and_drops_unsafe_links() -> None:
    hostile = citation(
        1,
        title='<img src=x onerror="alert(1)">',
        section="<script>alert(2)</script>",
        snippet="<b>bold</b>",
        source_url="javascript:alert(3)",
        source_title="<i>official</i>",
    )
    panel = render.sources_html(Answer(question="q", text="t", citations=[hostile]))
    assert "<img" not in panel and "<script" not in panel and "<b>" not in panel and "<i>" not in panel
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in panel
    assert "javascript:" not in panel and "Official source: &lt;i&gt;official&lt;/i&gt;" in panel
    assert 'href="/corpus/pages/eu-blue-card.html#salary-threshold"' in panel
    assert "Last updated 2026-11-29" in panel


def test_an_over_long_question_is_shown_cut() -> None:
    shown = render.question_md("a" * 5000)
    assert len(shown) == render.SHOWN_QUESTION_CHARS + 1 and shown.endswith("…")


def test_a_web_address_in_a_question_is_one_link_without_backslashes() -> None:
    url = "https://home-affairs.ec.europa.eu/policies/migration-and-asylum_en"
    out = rendered(render.question_md(f"Is this page current (see {url}) or www.example.org/a_b?"))
    assert re.findall(r'href="([^"]+)"', out) == [url, "https://www.example.org/a_b"]
    assert "\\" not in out


def test_an_email_address_is_not_turned_into_a_link() -> None:
    assert "\\@" in render.escape_md("write to first_last@example.org")


def test_a_corpus_page_is_styled_with_a_link_back_under_a_policy_that_allows_no_script() -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.testclient import TestClient

    from ingest.sources import CORPUS_DIR
    from webapp import corpus_pages

    client = TestClient(Starlette(routes=[Mount("/p", corpus_pages.CorpusPages(directory=CORPUS_DIR))]))
    response = client.get("/p/eu-blue-card.html")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'") and "script-src" not in policy and "unsafe-inline" not in policy
    assert corpus_pages.STYLE_HASH in policy
    page = response.text
    assert page.count("<style>") == 1 and f"<style>{corpus_pages.STYLE}</style></head>" in page
    assert re.search(r"<body[^>]*>" + re.escape(corpus_pages.BACK), page)
    original = (CORPUS_DIR / "eu-blue-card.html").read_text(encoding="utf-8")
    assert 'id="salary-threshold"' in page and len(page) > len(original)
    assert client.get("/p/missing.html").status_code == 404


def test_a_page_without_head_or_body_still_gets_the_style_and_the_link() -> None:
    from webapp import corpus_pages

    assert corpus_pages.styled("<p>x</p>") == f"{corpus_pages.BACK}<style>{corpus_pages.STYLE}</style><p>x</p>"
