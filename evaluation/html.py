"""The report as one self-contained HTML page: inline CSS, plots as base64 PNG, no script, every text escaped."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from evaluation.tables import (
    RULES_NOTE,
    Rows,
    Table,
    comparison_table,
    failures,
    figures_table,
    language_table,
    pipelines_of,
    refusal_table,
    rule_table,
    settings_lines,
    tag_table,
    top_urls,
)

if TYPE_CHECKING:
    from evaluation.compare import Comparison

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;
color:#1d2430;line-height:1.45}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #d0d7e2;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:.9rem}
th,td{border:1px solid #d0d7e2;padding:.25rem .55rem;text-align:left;vertical-align:top}
th{background:#eef2f8}td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
tr:nth-child(even) td{background:#f8fafc}img{max-width:100%;border:1px solid #e3e8ef;margin:.5rem 0}
.failure{border:1px solid #e3e8ef;border-left:4px solid #c0392b;padding:.5rem .9rem;margin:.8rem 0;background:#fff}
.failure h3{font-size:1rem;margin:.2rem 0}.reasons{color:#a93226}
blockquote{margin:.4rem 0;padding:.3rem .8rem;border-left:3px solid #9aa8bd;background:#f4f6fa;white-space:pre-wrap}
dl{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem}dt{font-weight:600}dd{margin:0}
.up{color:#1e8449}.down{color:#c0392b}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def html_table(table: Table, *, numeric_from: int = 1) -> str:
    """An HTML table; cells from column ``numeric_from`` on are numbers."""
    header, rows = table
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{_e(c)}</td>' if i >= numeric_from else f"<td>{_e(c)}</td>" for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _html_comparison(comparison: Comparison) -> list[str]:
    out = [f"<h2>Changes since {_e(comparison.old_label)}</h2>"]
    if comparison.notes:
        out.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in comparison.notes) + "</ul>")
    header, rows = comparison_table(comparison)
    body = []
    for change, row in zip(comparison.figures, rows, strict=True):
        trend = {None: "num", True: "num up", False: "num down"}[change.better]
        cells = "".join(f"<td>{_e(c)}</td>" for c in row[:2]) + "".join(
            f'<td class="num">{_e(c)}</td>' for c in row[2:4]
        )
        body.append(f'<tr>{cells}<td class="{trend}">{_e(row[4])}</td></tr>')
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
    out.append(f"<p>Questions that got worse: {len(comparison.worse)}</p>")
    if comparison.worse:
        items = "".join(
            f"<li><code>{_e(w.id)}</code> ({_e(w.pipeline)}): {_e('; '.join(w.changes))} — {_e(w.question)}</li>"
            for w in comparison.worse
        )
        out.append(f"<ul>{items}</ul>")
    return out


def _html_failure(row: Mapping[str, Any], reasons: list[str]) -> str:
    refused = f"refused ({row.get('reason')})" if row.get("refused") else "answered"
    history = ""
    if row.get("history"):
        turns = "".join(f"<li>{_e(t['role'])}: {_e(t['content'])}</li>" for t in row["history"])
        history = f"<dt>history</dt><dd><ol>{turns}</ol></dd>"
    urls = "".join(f"<li>{_e(u)}</li>" for u in top_urls(row)) or "<li>—</li>"
    return (
        f'<div class="failure"><h3>{_e(row.get("id", ""))}</h3>'
        f'<p class="reasons">{_e("; ".join(reasons))}</p><dl>'
        f"<dt>question</dt><dd>{_e(row.get('question', ''))}</dd>{history}"
        f"<dt>tags</dt><dd>{_e(', '.join(row.get('tags') or []))}</dd>"
        f"<dt>expected keys</dt><dd>{_e(', '.join(row.get('answer_keys') or []) or '—')}</dd>"
        f"<dt>expected sources</dt><dd>{_e(', '.join(row.get('reference_sources') or []) or '—')}</dd>"
        f"<dt>should refuse</dt><dd>{_e(row.get('should_refuse'))}</dd>"
        f"<dt>got</dt><dd>{_e(refused)}</dd>"
        f"<dt>top retrieved</dt><dd><ol>{urls}</ol></dd></dl>"
        f"<blockquote>{_e(row.get('answer') or '(empty)')}</blockquote></div>"
    )


def html_report(
    run: Mapping[str, Any],
    rows: Rows,
    comparison: Comparison | None = None,
    images: Mapping[str, bytes] | None = None,
    *,
    plots_note: str = "",
) -> str:
    """The report as one self-contained HTML page: inline CSS, plots as data URIs, all text escaped."""
    k = int(run["k"])
    title = f"Evaluation run {run.get('date', '')}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        "<dl>" + "".join(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in settings_lines(run)) + "</dl>",
        "<h2>Figures</h2>",
        html_table(figures_table(run)),
        "<h3>Refusals</h3>",
        html_table(refusal_table(run)),
        "<h3>Rules that fired</h3>",
        f"<p>{_e(RULES_NOTE)}</p>",
        html_table(rule_table(run), numeric_from=3),
        "<h3>Per language</h3>",
        html_table(language_table(run), numeric_from=2),
    ]
    if comparison is not None:
        out += _html_comparison(comparison)
    out += [
        "<h2>Per tag</h2>",
        f"<p>Each cell: {_e(' / '.join(pipelines_of(run)))}.</p>",
        html_table(tag_table(run, rows)),
    ]
    if images:
        out.append("<h2>Plots</h2>")
    elif plots_note:
        out.append(f"<h2>Plots</h2><p>{_e(plots_note)}</p>")
    for name, data in (images or {}).items():
        encoded = base64.b64encode(data).decode("ascii")
        out.append(f'<img alt="{_e(name)}" src="data:image/png;base64,{encoded}">')
    if run.get("malformed"):
        out.append("<h2>Malformed rows (skipped)</h2><ul>")
        out += [f"<li>line {_e(m['line'])}: {_e(m['message'])}</li>" for m in run["malformed"]]
        out.append("</ul>")
    for pipeline, pipeline_rows in rows.items():
        failed = failures(pipeline_rows, k)
        out.append(f"<h2>Failures of {_e(pipeline)}: {len(failed)} of {len(pipeline_rows)}</h2>")
        out += [_html_failure(row, reasons) for row, reasons in failed]
    out.append("</body></html>")
    return "\n".join(out) + "\n"
