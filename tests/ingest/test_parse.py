"""Parsing real and realistic pages: main content kept with its headings and anchors, site furniture dropped."""

from __future__ import annotations

import pytest

from ingest.parse_html import parse
from ingest.parse_text import parse_text
from tests.conftest import SHARED

EUROPA_LIKE = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8"><title>Family reunification - Migration and Home Affairs</title>
<link rel="canonical" href="https://home-affairs.ec.europa.eu/policies/family_en">
<meta property="article:modified_time" content="2025-03-14T10:00:00+01:00">
</head><body>
<div id="cookie-consent-banner">We use cookies. Accept all cookies. Accept only essential cookies.</div>
<header class="ecl-site-header"><div class="ecl-site-header__language">
<a href="#">български</a><a href="#">español</a><a href="#">English</a></div>
<nav class="ecl-menu"><a href="/">Home</a><a href="/policies">Policies</a></nav></header>
<nav class="ecl-breadcrumb"><a href="/">Home</a> &gt; <a href="/policies">Policies</a></nav>
<main id="main-content">
<h1>Family reunification</h1>
<p>Non-EU nationals living legally in an EU country can ask for close relatives to join them.</p>
<h2 id="who-can-join">Who can join</h2>
<p>A spouse and minor children are admitted.The country may also admit dependent parents.</p>
<ul><li>spouse</li><li>minor children</li></ul>
<h3 id="conditions">Conditions</h3>
<p>Housing, health insurance and resources may be required.</p>
<div class="ecl-social-media-share">Share this page <a href="#">Facebook</a> <a href="#">X</a></div>
</main>
<footer class="ecl-site-footer"><p>Contact the Commission. Privacy policy. Legal notice.</p></footer>
<script>alert("tracking")</script>
</body></html>"""


def _texts(page):  # type: ignore[no-untyped-def]
    return " ".join(b.text for b in page.blocks)


def test_europa_like_page_keeps_content_and_drops_furniture() -> None:
    page = parse(EUROPA_LIKE, "https://example.org/saved.html")
    text = _texts(page)
    assert page.url == "https://home-affairs.ec.europa.eu/policies/family_en"  # canonical address wins
    assert page.title == "Family reunification - Migration and Home Affairs"
    assert page.language == "en"
    assert page.updated == "2025-03-14"
    for furniture in ("cookies", "español", "Policies", "Share this page", "Privacy policy", "tracking"):
        assert furniture not in text, furniture
    headings = [(b.level, b.text, b.anchor) for b in page.blocks if b.kind == "heading"]
    assert headings == [
        (1, "Family reunification", "main-content"),
        (2, "Who can join", "who-can-join"),
        (3, "Conditions", "conditions"),
    ]
    who = next(b for b in page.blocks if b.text.startswith("A spouse"))
    assert who.sentences == [
        "A spouse and minor children are admitted.",
        "The country may also admit dependent parents.",
    ]
    assert "minor children" in text


def test_og_url_is_used_when_there_is_no_canonical_link() -> None:
    html = '<html><head><meta property="og:url" content="https://x.europa.eu/p"></head><body><p>Text here.</p></body></html>'
    assert parse(html, "file:///tmp/p.html").url == "https://x.europa.eu/p"


def test_last_updated_sentence_gives_the_date() -> None:
    html = "<html><body><main><p>Content.</p><p>This page was last updated on 5 February 2026</p></main></body></html>"
    page = parse(html, "https://x")
    assert page.updated == "2026-02-05"
    assert "last updated" not in _texts(page)


EURLEX = SHARED / "reference" / "eurlex-xhtml-samples" / "32024R1774_consolidated_2024-06-25.en.html"


@pytest.mark.skipif(not EURLEX.exists(), reason="shared EUR-Lex sample not present")
def test_eurlex_xhtml_articles_become_sections_with_anchors() -> None:
    page = parse(EURLEX.read_bytes(), "https://eur-lex.europa.eu/eli/reg_del/2024/1774/oj")
    headings = [b for b in page.blocks if b.kind == "heading"]
    articles = [h for h in headings if h.text.startswith("Article ")]
    assert len(articles) >= 40
    first = articles[0]
    assert first.anchor == "art_1" and first.text == "Article 1 - Overall risk profile and complexity"
    assert any(h.text.startswith("TITLE I") and h.level < first.level for h in headings)
    text = _texts(page)
    assert "has no legal effect" not in text  # the consolidated-text disclaimer is furniture
    assert "(a) encryption and cryptography;" in text  # list points keep their letter


SCRAPE = SHARED / "reference" / "europa-page-boilerplate-echo-ukraine" / "strategy_probe_force_basic.md"


@pytest.mark.skipif(not SCRAPE.exists(), reason="shared europa.eu scrape not present")
def test_scraped_europa_page_drops_selector_menus_and_footer() -> None:
    page = parse_text(SCRAPE.read_text(encoding="utf-8"), "file:///scrape.md", markdown=True)
    lines = [b.text for b in page.blocks]
    text = "\n".join(lines)
    host = "civil-protection-humanitarian-aid.ec.europa.eu"
    assert page.url == f"https://{host}/where/europe/" + "ukraine_en"
    assert page.updated == "2026-02-24"
    assert page.title.startswith("Ukraine")
    for furniture in ("Select your language", "български", "Who we are", "Funding & evaluations", "Privacy policy",
                      "Report an IT vulnerability", "Share this page", "Skip to main content"):  # fmt: skip
        assert furniture not in lines, furniture
    for content in ("Russia's war on Ukraine continues to escalate", "10.8 million people",
                    "The EU has established logistical hubs in Poland"):  # fmt: skip
        assert content in text, content
    headings = [b.text for b in page.blocks if b.kind == "heading"]
    assert {"Introduction", "Facts and figures", "How are we helping?", "Timeline"} <= set(headings)


def test_markdown_front_matter_and_headings() -> None:
    md = "---\ntitle: Seasonal work\nsource: https://eur-lex.europa.eu/eli/dir/2014/36/oj\nchecked: 2026-11-01\ntags: work; seasonal\n---\n# Seasonal work\n\nIntro sentence here.\n\n## Maximum stay\n\nBetween five and nine months.\n"
    page = parse_text(md, "file:///s.md", markdown=True)
    assert page.title == "Seasonal work" and page.checked == "2026-11-01" and page.tags == ["work", "seasonal"]
    assert [(b.kind, b.anchor) for b in page.blocks if b.kind == "heading"] == [
        ("heading", "seasonal-work"),
        ("heading", "maximum-stay"),
    ]


def test_a_heading_is_kept_whatever_words_its_id_holds() -> None:
    # "social" and "language" mark site furniture in a class or id, but a section's own slug may hold them too.
    html = (
        "<html><head><title>Rights</title></head><body><main><h1>Rights</h1>"
        '<h2 id="social-security-and-assistance">Social security and social assistance</h2>'
        "<p>Beneficiaries get equal treatment in social security.</p>"
        '<h2 id="language-courses">Language courses</h2><p>Courses are free.</p></main></body></html>'
    )
    page = parse(html, url="https://example.eu/rights")
    headings = {b.anchor: b.text for b in page.blocks if b.kind == "heading" and b.level == 2}
    assert headings == {
        "social-security-and-assistance": "Social security and social assistance",
        "language-courses": "Language courses",
    }
