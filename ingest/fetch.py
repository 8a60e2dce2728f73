"""Fetch web pages politely: a proper User-Agent, robots.txt obeyed, a pause between requests, conditional GETs."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlparse
from urllib.robotparser import RobotFileParser

import httpx

from common.settings import Settings
from ingest.errors import FetchError


@dataclass(frozen=True)
class Fetched:
    """The answer to a fetch: new content (status 200) or "not modified" (304, no content)."""

    url: str
    status: int
    content: bytes = b""
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""


class Fetcher:
    """One HTTP client for a whole ingest run, remembering each host's robots.txt and last request time."""

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None) -> None:
        self._settings = settings
        self._client = httpx.Client(
            headers={"User-Agent": settings.user_agent},
            timeout=settings.fetch_timeout,
            follow_redirects=True,
            transport=transport,
        )
        self._robots: dict[str, RobotFileParser | None] = {}
        self._last_request: dict[str, float] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def _wait_turn(self, origin: str, delay: float) -> None:
        with self._lock:
            last = self._last_request.get(origin)
            now = time.monotonic()
            if last is not None and now - last < delay:
                time.sleep(delay - (now - last))
            self._last_request[origin] = time.monotonic()

    def _robots_for(self, origin: str) -> RobotFileParser | None:
        if origin not in self._robots:
            parser = RobotFileParser(urljoin(origin, "/robots.txt"))
            self._wait_turn(origin, self._settings.fetch_delay)
            try:
                response = self._client.get(urljoin(origin, "/robots.txt"))
            except httpx.HTTPError as exc:
                raise FetchError(f"cannot reach {origin}: {exc.__class__.__name__}") from exc
            if response.status_code >= 500:
                raise FetchError(f"robots.txt of {origin} answered HTTP {response.status_code}; not fetching the host")
            # A missing robots.txt (4xx) allows everything; otherwise follow what it says.
            self._robots[origin] = None if response.status_code >= 400 else parser
            if response.status_code < 400:
                parser.parse(response.text.splitlines())
        return self._robots[origin]

    def fetch(self, url: str, *, etag: str = "", last_modified: str = "") -> Fetched:
        """GET ``url`` unless robots.txt forbids it; with the validators of the last fetch, 304 means unchanged."""
        parts = urlparse(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise FetchError(f"not a web address: {url}")
        origin = f"{parts.scheme}://{parts.netloc}"
        robots = self._robots_for(origin)
        agent = self._settings.user_agent
        if robots is not None and not robots.can_fetch(agent, url):
            raise FetchError("robots.txt disallows fetching this address")
        delay = self._settings.fetch_delay
        if robots is not None and (crawl_delay := robots.crawl_delay(agent)):
            delay = max(delay, float(crawl_delay))
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        self._wait_turn(origin, delay)
        try:
            response = self._client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot reach {url}: {exc.__class__.__name__}: {exc}") from exc
        if response.status_code == 304:
            return Fetched(url=str(response.url), status=304, etag=etag, last_modified=last_modified)
        if response.status_code >= 400:
            raise FetchError(f"HTTP {response.status_code} for {url}")
        if len(response.content) > self._settings.max_page_bytes:
            raise FetchError(f"page larger than {self._settings.max_page_bytes} bytes")
        return Fetched(
            url=str(response.url),
            status=response.status_code,
            content=response.content,
            content_type=response.headers.get("content-type", ""),
            etag=response.headers.get("etag", ""),
            last_modified=response.headers.get("last-modified", ""),
        )
