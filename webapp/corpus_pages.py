"""The bundled pages that citations open, served readable: a style sheet, a line back to the chat, no script.

The pages in ``corpus/pages/`` are bare HTML written for ingest. Served as they are, a browser shows them in its
default serif at full window width. ``styled`` adds a ``<style>`` element and a navigation line linking back to the
chat; the page's own markup is left as it is. The pages stay under the strict policy of ``PAGE_POLICY``: no script of
any kind runs, and the only style allowed inline is this one, by its hash.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from webapp.render import FONTS

STYLE = (
    """
html { color-scheme: light dark; }
body { font-family: FONTS; line-height: 1.6; max-width: 46rem; margin: 0 auto; padding: 1rem 1.25rem 3rem;
  color: #1f2937; background: #ffffff; font-size: 1.05rem; }
h1 { font-size: 1.8rem; line-height: 1.25; margin: 1rem 0 0.75rem; }
h2 { font-size: 1.3rem; line-height: 1.3; margin: 2rem 0 0.5rem; padding-top: 0.25rem; }
h3 { font-size: 1.1rem; margin: 1.5rem 0 0.4rem; }
a { color: #1d4ed8; text-decoration: underline; }
:target { background: #fef9c3; outline: 0.35rem solid #fef9c3; }
table { border-collapse: collapse; margin: 1rem 0; display: block; overflow-x: auto; }
th, td { border: 1px solid #9ca3af; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
blockquote { margin: 1rem 0; padding-left: 0.8rem; border-left: 3px solid #6b7280; }
.euma-back { font-size: 0.95rem; padding: 0.5rem 0; border-bottom: 1px solid #d1d5db; }
a:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
@media (prefers-color-scheme: dark) {
  body { color: #e5e7eb; background: #111827; }
  a { color: #93c5fd; }
  :target { background: #3f3f1f; outline-color: #3f3f1f; }
  .euma-back { border-color: #374151; }
}
"""
).replace("FONTS", FONTS)
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode("utf-8")).digest()).decode("ascii")
# No script, no plug-in, no form, no frame; images only from the app; the one style element by its hash.
PAGE_POLICY = f"default-src 'none'; style-src '{STYLE_HASH}'; img-src 'self' data:; base-uri 'none'; form-action 'none'"
BACK = '<nav class="euma-back" aria-label="Site"><a href="/">← Back to the EU Migration Assistant chat</a></nav>'
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)
_BODY_START = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def styled(page: str) -> str:
    """The page with the style sheet at the end of its head and the line back to the chat at the start of its
    body (each added at the top when the page has no such element)."""
    style = f"<style>{STYLE}</style>"
    head = _HEAD_END.search(page)
    page = page[: head.start()] + style + page[head.start() :] if head else style + page
    body = _BODY_START.search(page)
    return page[: body.end()] + BACK + page[body.end() :] if body else BACK + page


class CorpusPages(StaticFiles):
    """The bundled pages as static files: HTML pages styled (``styled``), everything else as it is, all under
    ``PAGE_POLICY``."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if scope["method"] == "GET" and response.status_code == 200 and path.lower().endswith((".html", ".htm")):
            full, _ = self.lookup_path(path)
            text = Path(full).read_text(encoding="utf-8", errors="replace")
            response = Response(styled(text), media_type="text/html; charset=utf-8")
        response.headers["Content-Security-Policy"] = PAGE_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
