"""``python -m ingest.manifest``: write corpus/README.md, the list of bundled pages with their sources and dates."""

from __future__ import annotations

import sys
from pathlib import Path

from ingest.sources import CORPUS_DIR, to_page

HEADER = """# The bundled corpus

These pages are the assistant's default knowledge base, so that it answers offline on its first run. They are
**a dated summary written for this project**, in our own words, of public facts about EU migration and asylum
policy. Each page names the official page or legal act it summarises; **the official sources prevail**, and a
rule may have changed since the date a page was checked. Nothing here is legal advice.

The page format is described in [`docs/corpus-format.md`](../docs/corpus-format.md). This list is generated from
the pages' own metadata by `python -m ingest.manifest`; a test checks that it is up to date.

| page | type | checked | official source |
|---|---|---|---|
"""


def manifest(folder: Path = CORPUS_DIR) -> str:
    """The manifest's Markdown text for the pages in ``folder``."""
    rows = []
    for path in sorted(folder.glob("*.html")):
        page = to_page(path.read_bytes(), location=str(path), url=path.name)
        source = page.source_title or page.source_url
        rows.append(
            f"| [{page.title}](pages/{path.name}) | {page.doctype} | {page.checked} | [{source}]({page.source_url}) |"
        )
    return HEADER + "\n".join(rows) + f"\n\n{len(rows)} pages.\n"


def main() -> int:
    """Write corpus/README.md."""
    target = CORPUS_DIR.parent / "README.md"
    target.write_text(manifest(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
