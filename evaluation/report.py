"""The report of an evaluation run, written into its folder: report.md, report.html and plots/*.png.

The HTML file stands alone (inline CSS, plots as base64 PNG, no script) so it can be mailed or attached to a CI run.
What the report says is in ``evaluation.tables``, the catalogue of figures in ``evaluation.figures``, the two
renderings in ``evaluation.markdown`` and ``evaluation.html``, the images in ``evaluation.plots`` (matplotlib is
optional: without it the report says it has no plots). The tables are offered here too, for pages that show them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evaluation import plots as plotting
from evaluation.html import html_report, html_table
from evaluation.markdown import markdown
from evaluation.tables import (
    Rows,
    failure_reasons,
    failures,
    figures_table,
    language_table,
    refusal_table,
    rule_table,
    tag_table,
)

if TYPE_CHECKING:
    from evaluation.compare import Comparison

__all__ = [
    "failure_reasons",
    "failures",
    "figures_table",
    "html_report",
    "html_table",
    "language_table",
    "markdown",
    "refusal_table",
    "rule_table",
    "tag_table",
    "write",
]


def write(folder: Path, run: Mapping[str, Any], rows: Rows, comparison: Comparison | None = None) -> list[Path]:
    """Write report.md, report.html and plots/*.png into ``folder``; return the files written."""
    images = plotting.plots(run, rows)
    written = []
    if images:
        (folder / "plots").mkdir(parents=True, exist_ok=True)
        for name, data in images.items():
            path = folder / "plots" / f"{name}.png"
            path.write_bytes(data)
            written.append(path)
    md = folder / "report.md"
    note = "" if plotting.available() else plotting.MISSING
    md.write_text(markdown(run, rows, comparison, list(images), plots_note=note), encoding="utf-8")
    page = folder / "report.html"
    page.write_text(html_report(run, rows, comparison, images, plots_note=note), encoding="utf-8")
    return [md, page, *written]
