"""Where pages come from (the bundled corpus, local files and folders, web addresses) and how bytes become a Page."""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from ingest.errors import ParseError, SourceError
from ingest.model import Page
from ingest.parse_html import parse as parse_html
from ingest.parse_text import parse_text

CORPUS_DIR = Path(__file__).resolve().parent.parent / "corpus" / "pages"
SUFFIXES = {
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
    ".pdf": "pdf",
}
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)


@dataclass(frozen=True)
class SourceItem:
    """One thing to ingest: a local file or a web address; ``doc_id`` stays the same across runs."""

    location: str
    kind: str  # "file" or "url"
    doc_id: str

    @property
    def is_url(self) -> bool:
        return self.kind == "url"


def _doc_id(key: str) -> str:
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def corpus_url(path: Path) -> str:
    """The address cited for a bundled corpus page: its path in the repository (the app serves it there)."""
    return f"corpus/pages/{path.name}"


def expand(sources: list[str]) -> tuple[list[SourceItem], list[tuple[str, str]]]:
    """Turn the command line's sources into items; also return (source, reason) for those that cannot be used."""
    items: list[SourceItem] = []
    bad: list[tuple[str, str]] = []
    for source in sources or [str(CORPUS_DIR)]:
        if urlparse(source).scheme in ("http", "https"):
            items.append(SourceItem(source, "url", _doc_id(source)))
            continue
        path = Path(source).expanduser()
        if not path.exists():
            bad.append((source, "no such file or folder"))
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
            if not files:
                bad.append((source, f"folder holds no {', '.join(sorted(SUFFIXES))} file"))
            items.extend(_file_item(p) for p in files)
        elif path.suffix.lower() not in SUFFIXES:
            bad.append(
                (source, f"unsupported file type {path.suffix or '(none)'}; supported: {', '.join(sorted(SUFFIXES))}")
            )
        else:
            items.append(_file_item(path))
    unique = {item.doc_id: item for item in items}  # a file named twice is ingested once
    return list(unique.values()), bad


def _file_item(path: Path) -> SourceItem:
    path = path.resolve()
    key = corpus_url(path) if path.parent == CORPUS_DIR else path.as_uri()
    return SourceItem(str(path), "file", _doc_id(key))


def decode(raw: bytes, *, declared: str = "") -> str:
    """Bytes to text: a BOM, then UTF-8, then the declared charset; a clear error otherwise."""
    if not raw.strip():
        raise ParseError("empty file")
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if raw.startswith(bom):
            return raw.decode(encoding)
    sample = raw[:4096]
    if b"\x00" in sample or sum(b < 9 or 13 < b < 32 for b in sample) > len(sample) * 0.05:
        raise ParseError("binary content, not text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        charset = declared or ((m := _CHARSET.search(raw[:2048])) and m.group(1).decode("ascii")) or ""
        if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
            try:
                return raw.decode(charset)
            except (LookupError, UnicodeDecodeError):
                pass
        raise ParseError(f"not valid UTF-8 (byte {exc.start}) and no other usable charset declared") from None


def _pdf_text(raw: bytes) -> str:
    try:
        import io

        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:  # pragma: no cover - pypdf is a declared dependency
        raise ParseError("PDF support needs the pypdf package") from exc
    try:
        reader = PdfReader(io.BytesIO(raw))
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, KeyError) as exc:
        raise ParseError(f"broken PDF: {exc}") from exc


def to_page(raw: bytes, *, location: str, url: str, content_type: str = "") -> Page:
    """Parse a source's bytes by its type (file suffix or HTTP content type) into a Page with content."""
    suffix = Path(urlparse(location).path).suffix.lower()
    kind = SUFFIXES.get(suffix, "")
    declared = ""
    if content_type:
        mime = content_type.split(";")[0].strip().lower()
        if m := re.search(r"charset=([\w-]+)", content_type):
            declared = m.group(1)
        kind = {"text/html": "html", "application/xhtml+xml": "html", "text/markdown": "md", "text/plain": "txt",
                "application/pdf": "pdf"}.get(mime, kind)  # fmt: skip
        if not kind:
            raise ParseError(f"unsupported content type {mime}")
    if kind == "pdf":
        if not raw.startswith(b"%PDF"):
            raise ParseError("not a PDF file")
        page = parse_text(_pdf_text(raw), url, markdown=False)
    else:
        text = decode(raw, declared=declared)
        if kind == "html" or (not kind and re.search(r"<html|<body|<p\b", text[:2000], re.IGNORECASE)):
            if not re.search(r"<[a-zA-Z!]", text):
                raise ParseError("no HTML markup in an .html file")
            page = parse_html(text, url)
        else:
            page = parse_text(text, url, markdown=kind == "md")
    if not any(b.kind == "text" for b in page.blocks):
        raise ParseError("no main content found")
    return page


def read_file(item: SourceItem, max_bytes: int) -> bytes:
    """A local source's bytes, refusing oversized ones."""
    path = Path(item.location)
    try:
        if path.stat().st_size > max_bytes:
            raise SourceError(f"file larger than {max_bytes} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror}") from exc


def default_url(item: SourceItem) -> str:
    """The address cited for a source that names none itself."""
    if item.is_url:
        return item.location
    path = Path(item.location)
    return corpus_url(path) if path.parent == CORPUS_DIR else path.as_uri()
