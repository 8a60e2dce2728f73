"""Polite fetching against a real HTTP server on loopback: User-Agent, robots.txt, conditional GETs, spacing.

The server runs in a thread of the test and records every request it receives (path, arrival time,
User-Agent, conditional headers), so the tests check what went over the wire, not what the client meant to send.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from common.settings import Settings
from ingest.errors import FetchError
from ingest.fetch import Fetcher
from ingest.pipeline import Summary
from tests.ingest.pages import ingest_into, page_html
from vectorstore.store import Store

AGENT = "euma-test-bot/2.0 (+https://example.org/bot)"
ROBOTS = """# Another crawler is shut out completely; ours only from /private/.
User-agent: other-bot
Disallow: /

User-agent: euma-test-bot
Disallow: /private/
"""
LAST_MODIFIED = "Wed, 21 Oct 2026 07:28:00 GMT"


@dataclass
class Route:
    """What the server answers for one path."""

    body: bytes
    status: int = 200
    etag: str = ""
    last_modified: str = ""
    content_type: str = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    path: str
    at: float
    user_agent: str
    if_none_match: str | None
    if_modified_since: str | None
    status: int


@dataclass
class Site:
    """A small web site on 127.0.0.1 whose pages the test can change between requests."""

    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    base: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def page(self, path: str, html: str, **kwargs: object) -> str:
        self.routes[path] = Route(html.encode("utf-8"), **kwargs)  # type: ignore[arg-type]
        return self.base + path

    def paths(self) -> list[str]:
        with self.lock:
            return [s.path for s in self.seen]

    def requests(self, path: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.path == path]

    def clear(self) -> None:
        with self.lock:
            self.seen.clear()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        at = time.monotonic()
        route = self.routes.get(handler.path)
        if_none_match = handler.headers.get("If-None-Match")
        if_modified_since = handler.headers.get("If-Modified-Since")
        if route is None:
            status = 404
        elif route.status == 200 and route.etag and if_none_match is not None:
            status = 304 if if_none_match == route.etag else 200  # If-None-Match wins over If-Modified-Since
        elif route.status == 200 and route.last_modified and if_modified_since is not None:
            status = 304 if if_modified_since == route.last_modified else 200
        else:
            status = route.status
        with self.lock:
            self.seen.append(
                Seen(handler.path, at, handler.headers.get("User-Agent", ""), if_none_match, if_modified_since, status)
            )
        body = (
            b""
            if status == 304
            else (route.body if route is not None and status == 200 else f"error {status}".encode())
        )
        handler.send_response(status)
        if route is not None and route.etag:
            handler.send_header("ETag", route.etag)
        if route is not None and route.last_modified:
            handler.send_header("Last-Modified", route.last_modified)
        if status != 304:
            handler.send_header("Content-Type", route.content_type if route is not None else "text/plain")
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


@pytest.fixture
def site() -> Iterator[Site]:
    """A running site with the robots.txt above; tests add pages (or drop robots.txt)."""
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.answer(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    state.routes["/robots.txt"] = Route(ROBOTS.encode(), content_type="text/plain")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def fetch_settings(tmp_path: Path) -> Settings:
    """Fast settings: the hash embedder (these tests are about fetching, not meaning) and a short pause."""
    return Settings(
        data_dir=tmp_path / "data", embedding_model="hash", fetch_delay=0.05, fetch_timeout=5, user_agent=AGENT
    )


@pytest.fixture
def fetcher(fetch_settings: Settings) -> Iterator[Fetcher]:
    f = Fetcher(fetch_settings)
    yield f
    f.close()


def _ingest(settings: Settings, sources: list[str]) -> Summary:
    return ingest_into(settings, sources, fetcher=Fetcher(settings))


def _gaps(seen: list[Seen]) -> list[float]:
    return [b.at - a.at for a, b in itertools.pairwise(seen)]


# -- the Fetcher ----------------------------------------------------------------------------------------------


def test_fetch_sends_the_configured_user_agent_and_returns_validators(site: Site, fetcher: Fetcher) -> None:
    url = site.page("/guide.html", page_html("guide", "the asylum procedure"), etag='"v1"', last_modified=LAST_MODIFIED)
    fetched = fetcher.fetch(url)
    assert fetched.status == 200 and fetched.url == url
    assert fetched.content == site.routes["/guide.html"].body
    assert fetched.content_type == "text/html; charset=utf-8"
    assert fetched.etag == '"v1"' and fetched.last_modified == LAST_MODIFIED
    assert site.paths() == ["/robots.txt", "/guide.html"]
    assert {s.user_agent for s in site.seen} == {AGENT}
    assert site.requests("/guide.html")[0].if_none_match is None  # nothing conditional without validators


def test_robots_txt_is_read_once_per_host_and_obeyed(site: Site, fetcher: Fetcher) -> None:
    public = site.page("/public.html", page_html("public", "public rules"))
    secret = site.page("/private/secret.html", page_html("secret", "secret rules"))
    with pytest.raises(FetchError, match="robots.txt disallows"):
        fetcher.fetch(secret)
    assert fetcher.fetch(public).status == 200
    with pytest.raises(FetchError, match="robots.txt"):
        fetcher.fetch(secret)
    assert site.paths() == ["/robots.txt", "/public.html"]  # the disallowed page was never asked for


def test_missing_robots_txt_allows_fetching(site: Site, fetcher: Fetcher) -> None:
    del site.routes["/robots.txt"]
    url = site.page("/private/open.html", page_html("open", "open rules"))
    assert fetcher.fetch(url).status == 200
    assert [(s.path, s.status) for s in site.seen] == [("/robots.txt", 404), ("/private/open.html", 200)]


def test_failing_robots_txt_stops_the_host(site: Site, fetcher: Fetcher) -> None:
    site.routes["/robots.txt"] = Route(b"", status=503)
    url = site.page("/page.html", page_html("page", "some rules"))
    with pytest.raises(FetchError, match="robots.txt .* answered HTTP 503"):
        fetcher.fetch(url)
    assert site.paths() == ["/robots.txt"]


def test_validators_make_a_conditional_get(site: Site, fetcher: Fetcher) -> None:
    tagged = site.page("/tagged.html", page_html("tagged", "tagged rules"), etag='"abc"', last_modified=LAST_MODIFIED)
    dated = site.page("/dated.html", page_html("dated", "dated rules"), last_modified=LAST_MODIFIED)
    not_modified = fetcher.fetch(tagged, etag='"abc"', last_modified=LAST_MODIFIED)
    assert (not_modified.status, not_modified.content) == (304, b"")
    assert (not_modified.etag, not_modified.last_modified) == ('"abc"', LAST_MODIFIED)
    (request,) = site.requests("/tagged.html")
    assert (request.if_none_match, request.if_modified_since) == ('"abc"', LAST_MODIFIED)
    assert fetcher.fetch(dated, last_modified=LAST_MODIFIED).status == 304
    (request,) = site.requests("/dated.html")
    assert (request.if_none_match, request.if_modified_since) == (None, LAST_MODIFIED)
    stale = fetcher.fetch(tagged, etag='"old"')
    assert stale.status == 200 and stale.etag == '"abc"' and stale.content == site.routes["/tagged.html"].body


@pytest.mark.parametrize("status", [404, 500])
def test_http_errors_are_fetch_errors(site: Site, fetcher: Fetcher, status: int) -> None:
    if status != 404:
        site.routes["/page.html"] = Route(b"boom", status=status)
    with pytest.raises(FetchError, match=f"HTTP {status} for {site.base}/page.html"):
        fetcher.fetch(site.base + "/page.html")


def test_requests_to_one_host_are_spaced_by_the_fetch_delay(site: Site, tmp_path: Path) -> None:
    delay = 0.1
    settings = Settings(data_dir=tmp_path / "data", fetch_delay=delay, user_agent=AGENT)
    urls = [site.page(f"/p{i}.html", page_html(f"p{i}", f"topic {i}")) for i in range(3)]
    fetcher = Fetcher(settings)
    try:
        for url in urls:
            fetcher.fetch(url)
        with pytest.raises(FetchError):
            fetcher.fetch(site.base + "/missing.html")  # a failed request still takes its turn
    finally:
        fetcher.close()
    assert site.paths() == ["/robots.txt", "/p0.html", "/p1.html", "/p2.html", "/missing.html"]
    gaps = _gaps(site.seen)
    assert all(gap >= 0.8 * delay for gap in gaps), gaps


def test_crawl_delay_in_robots_txt_lengthens_the_pause(site: Site, fetcher: Fetcher) -> None:
    site.routes["/robots.txt"] = Route(b"User-agent: *\nCrawl-delay: 1\n", content_type="text/plain")
    first = site.page("/one.html", page_html("one", "first topic"))
    second = site.page("/two.html", page_html("two", "second topic"))
    fetcher.fetch(first)
    fetcher.fetch(second)
    one, two = site.requests("/one.html")[0], site.requests("/two.html")[0]
    assert two.at - one.at >= 0.8 * 1.0  # robots.txt asks for 1 s, more than fetch_delay's 0.05 s


def test_not_a_web_address_is_refused_without_a_request(site: Site, fetcher: Fetcher) -> None:
    for url in ("ftp://127.0.0.1/file.html", "http:///no-host.html"):
        with pytest.raises(FetchError, match="not a web address"):
            fetcher.fetch(url)
    assert site.seen == []


# -- through the ingest pipeline ------------------------------------------------------------------------------


def test_ingest_over_http_skips_refused_and_failing_pages(site: Site, fetch_settings: Settings) -> None:
    good = site.page("/good.html", page_html("good", "the asylum procedure"), etag='"g1"')
    private = site.page("/private/hidden.html", page_html("hidden", "hidden rules"))
    broken = site.page("/broken.html", "", status=500)
    missing = site.base + "/missing.html"
    summary = _ingest(fetch_settings, [good, private, missing, broken])
    assert summary.added == [good] and summary.pages_total == 1 and summary.chunks_embedded == 4
    reasons = dict(summary.skipped)
    assert set(reasons) == {private, missing, broken}
    assert "robots.txt" in reasons[private]
    assert "HTTP 404" in reasons[missing]
    assert "HTTP 500" in reasons[broken]
    assert "/private/hidden.html" not in site.paths()
    assert {s.user_agent for s in site.seen} == {AGENT}
    assert f"skipped {private}: robots.txt disallows" in summary.report()


def test_second_run_gets_304_and_embeds_nothing(site: Site, fetch_settings: Settings) -> None:
    tagged = site.page(
        "/tagged.html", page_html("tagged", "reception conditions"), etag='"t1"', last_modified=LAST_MODIFIED
    )
    dated = site.page("/dated.html", page_html("dated", "family reunification"), last_modified=LAST_MODIFIED)
    first = _ingest(fetch_settings, [tagged, dated])
    assert first.added == [tagged, dated] and first.chunks_embedded == 8
    site.clear()
    second = _ingest(fetch_settings, [tagged, dated])
    assert second.unchanged == [tagged, dated] and not second.added and not second.changed
    assert second.chunks_embedded == 0 and second.tokens_embedded == 0
    assert second.chunks_total == 8
    (request,) = site.requests("/tagged.html")
    assert (request.if_none_match, request.if_modified_since, request.status) == ('"t1"', LAST_MODIFIED, 304)
    (request,) = site.requests("/dated.html")
    assert (request.if_none_match, request.if_modified_since, request.status) == (None, LAST_MODIFIED, 304)


def test_changed_page_is_fetched_again_and_reingested(site: Site, fetch_settings: Settings) -> None:
    url = site.page("/eurodac.html", page_html("eurodac", "the Eurodac database"), etag='"e1"')
    _ingest(fetch_settings, [url])
    site.page(
        "/eurodac.html", page_html("eurodac", "the Eurodac database", extra="Data are kept for ten years."), etag='"e2"'
    )
    site.clear()
    changed = _ingest(fetch_settings, [url])
    # The new sentence is kept once (repeats are de-duplicated), so only the first section's chunk is new.
    assert changed.changed == [url] and changed.chunks_embedded == 1
    (request,) = site.requests("/eurodac.html")
    assert (request.if_none_match, request.status) == ('"e1"', 200)
    store = Store(fetch_settings)
    try:
        chunks = store.get_chunks(store.all_chunk_ids())
        assert len(chunks) == 4 and sum("ten years" in c.text for c in chunks) == 1
        (record,) = store.list_documents()
        assert record.etag == '"e2"'
    finally:
        store.close()
    site.clear()
    again = _ingest(fetch_settings, [url])  # the new ETag was remembered
    assert again.unchanged == [url] and again.chunks_embedded == 0
    assert site.requests("/eurodac.html")[0].if_none_match == '"e2"'


def test_new_validators_for_unchanged_content_are_remembered(site: Site, fetch_settings: Settings) -> None:
    html = page_html("same", "the same page")
    url = site.page("/same.html", html, etag='"s1"')
    _ingest(fetch_settings, [url])
    site.page("/same.html", html, etag='"s2"')  # e.g. the site was redeployed: new ETag, same bytes
    assert _ingest(fetch_settings, [url]).unchanged == [url]
    site.clear()
    third = _ingest(fetch_settings, [url])
    assert third.unchanged == [url]
    assert site.requests("/same.html")[0].if_none_match == '"s2"'


def test_canonical_link_becomes_the_cited_url(site: Site, fetch_settings: Settings) -> None:
    html = page_html("screening", "screening at the border").replace(
        "</head>", '<link rel="canonical" href="/guides/screening"></head>'
    )
    url = site.page("/page.php?id=17&lang=en", html)
    summary = _ingest(fetch_settings, [url])
    assert summary.added == [url]
    store = Store(fetch_settings)
    try:
        chunks = store.get_chunks(store.all_chunk_ids())
        canonical = site.base + "/guides/screening"
        assert chunks and {c.url for c in chunks} == {canonical}
        assert {c.link.split("#")[0] for c in chunks} == {canonical}
        assert any(c.link == canonical + "#screening-part-1" for c in chunks)
        (record,) = store.list_documents()
        assert record.url == canonical and record.source == url
    finally:
        store.close()
