"""Why a source was skipped: each error names a reason fit for the ingest summary."""

from __future__ import annotations

from common.errors import EumaError


class SourceError(EumaError):
    """A source cannot be ingested; the batch goes on without it."""


class FetchError(SourceError):
    """A web address could not be fetched (unreachable, refused by robots.txt, HTTP error)."""


class ParseError(SourceError):
    """A source could not be read as a page (binary, empty, broken, no main content)."""
