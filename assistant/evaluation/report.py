"""The report of an evaluation run: figures side by side, per tag, plots and failures, as Markdown and as HTML.

The HTML file stands alone (inline CSS, plots as base64 PNG, no script) so it can be mailed or attached to a CI run;
every piece of text from the QA file or the answers is escaped. Plots are drawn with matplotlib's Agg canvas,
imported only when a report is written.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.evaluation.compare import Comparison

log = logging.getLogger(__name__)

Rows = Mapping[str, Sequence[Mapping[str, Any]]]  # pipeline name -> its rows of results.jsonl
Table = tuple[list[str], list[list[str]]]  # header, rows of cells (plain text)

REFUSAL = ("refusal_precision", "refusal_recall", "false_refusal_rate")
LATENCY = ("latency/p50_ms", "latency/p95_ms", "latency/mean_ms")
LOWER_IS_BETTER = frozenset({"false_refusal_rate", "answer_words", *LATENCY})
TOP_URLS = 3
MAX_PLOTTED_TAGS = 40
PLOTS = ("scores", "latency", "tags")


# --- Figures ---------------------------------------------------------------------------------------------------


def figure_names(k: int) -> list[str]:
    """Every figure a run reports, in report order (retrieval at cut-off ``k``, answers, refusals, cost)."""
    retrieval = ("hit@1", f"hit@{k}", f"recall@{k}", f"mrr@{k}", "ndcg@10")
    return [
        *(f"{level}/{name}" for level in ("page", "section") for name in retrieval),
        "key_fact_recall",
        "token_f1",
        "answer_similarity",
        "faithfulness",
        "citation_recall",
        "citation_precision",
        *REFUSAL,
        "answer_words",
        *LATENCY,
    ]


def gate_names(k: int) -> list[str]:
    """The figures ``--fail-under`` accepts: those where higher is better."""
    return [name for name in figure_names(k) if name not in LOWER_IS_BETTER]


def main_figures(k: int) -> list[str]:
    """The figures shown per tag and plotted."""
    return [f"page/hit@{k}", f"section/hit@{k}", "key_fact_recall", "faithfulness", "refusal_recall"]


def figure(summary: Mapping[str, Any], name: str, tag: str | None = None) -> tuple[float | None, int]:
    """A figure of one pipeline's summary (overall or for a tag) and the number of questions behind it."""
    if name in REFUSAL:
        scores = summary.get("refusal") if tag is None else summary.get("refusal_by_tag", {}).get(tag)
        if not scores:
            return None, 0
        tp, fp, fn, tn = (int(scores.get(key, 0)) for key in ("tp", "fp", "fn", "tn"))
        n = {"refusal_precision": tp + fp, "refusal_recall": tp + fn, "false_refusal_rate": fp + tn}[name]
        return scores.get(name), n
    if name.startswith("latency/"):
        latency = (summary.get("latency") or {}) if tag is None else {}
        return latency.get(name.split("/", 1)[1]), int(latency.get("n", 0))
    table = summary.get("overall", {}) if tag is None else summary.get("by_tag", {}).get(tag, {})
    entry = table.get(name)
    if not entry:
        return None, 0
    return entry.get("mean"), int(entry.get("n", 0))


def number(value: float | None, name: str = "") -> str:
    """A figure as shown: three decimals, milliseconds rounded, "—" when there is none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if name.startswith("latency/"):
        return f"{value:.0f} ms"
    if name == "answer_words":
        return f"{value:.1f}"
    return f"{value:.3f}"


def change(delta: float | None, name: str = "") -> str:
    """A difference between two figures, signed, in the figure's own unit."""
    if delta is None:
        return "—"
    if name.startswith("latency/"):
        return f"{delta:+.0f} ms"
    if name == "answer_words":
        return f"{delta:+.1f}"
    return f"{delta:+.3f}"


def _with_n(value: float | None, n: int, name: str) -> str:
    return f"{number(value, name)} (n={n})"


# --- Failures --------------------------------------------------------------------------------------------------


def failure_reasons(row: Mapping[str, Any], k: int) -> list[str]:
    """Why a question counts as failed (empty when it passed)."""
    reasons = []
    metrics = row.get("metrics") or {}
    if row.get("error"):
        return [f"error: {row['error']}"]  # no answer: the other figures say nothing
    if row.get("should_refuse") is True and not row.get("refused"):
        reasons.append("answered but should refuse")
    if row.get("refused") and row.get("should_refuse") is False:
        reasons.append(f"refused ({row.get('reason') or 'no reason'}) but should answer")
    recall = metrics.get("key_fact_recall")
    if recall is not None and recall < 1:
        reasons.append(f"key facts {recall:.2f}")
    if metrics.get(f"page/hit@{k}") == 0:
        reasons.append(f"no reference page in the top {k}")
    faithful = metrics.get("faithfulness")
    if faithful is not None and faithful < 1:
        reasons.append(f"faithfulness {faithful:.2f}")
    return reasons


def failures(rows: Sequence[Mapping[str, Any]], k: int) -> list[tuple[Mapping[str, Any], list[str]]]:
    """The failed questions of one pipeline with their reasons, in file order."""
    found = [(row, failure_reasons(row, k)) for row in rows]
    return [(row, reasons) for row, reasons in found if reasons]


def top_urls(row: Mapping[str, Any], n: int = TOP_URLS) -> list[str]:
    """The addresses of the first retrieved passages."""
    return [str(p.get("url", "")) for p in (row.get("retrieved") or [])[:n]]


# --- Tables ----------------------------------------------------------------------------------------------------


def _pipelines(run: Mapping[str, Any]) -> list[str]:
    return list(run.get("pipelines", {}))


def figures_table(run: Mapping[str, Any]) -> Table:
    """Every figure with its n, one column per pipeline (the assistant and the baseline side by side)."""
    names = _pipelines(run)
    rows = []
    for name in figure_names(int(run["k"])):
        cells = [_with_n(*figure(run["pipelines"][p], name), name) for p in names]
        rows.append([name, *cells])
    return ["figure", *names], rows


def refusal_table(run: Mapping[str, Any]) -> Table:
    """The refusal confusion counts per pipeline."""
    rows = []
    for name, summary in run.get("pipelines", {}).items():
        scores = summary.get("refusal") or {}
        rows.append([name, *(str(scores.get(key, 0)) for key in ("tp", "fp", "fn", "tn"))])
    header = ["pipeline", "refused, should (tp)", "refused, should not (fp)", "answered, should refuse (fn)"]
    return [*header, "answered, should (tn)"], rows


def tags_of(rows: Rows) -> dict[str, int]:
    """Questions per tag (counted on the first pipeline's rows), tags sorted."""
    first = next(iter(rows.values()), [])
    counts: dict[str, int] = {}
    for row in first:
        for tag in row.get("tags", []):
            counts[tag] = counts.get(tag, 0) + 1
    return dict(sorted(counts.items()))


def tag_table(run: Mapping[str, Any], rows: Rows) -> Table:
    """The main figures per tag; each cell holds every pipeline's value and n, separated by " / "."""
    names = _pipelines(run)
    figures = main_figures(int(run["k"]))
    table = []
    for tag, count in tags_of(rows).items():
        cells = [" / ".join(_with_n(*figure(run["pipelines"][p], name, tag), name) for p in names) for name in figures]
        table.append([tag, str(count), *cells])
    return ["tag", "questions", *figures], table


def comparison_table(comparison: Comparison) -> Table:
    """Each figure's old and new value and the change."""
    rows = []
    for c in comparison.figures:
        rows.append([c.pipeline, c.name, number(c.old, c.name), number(c.new, c.name), change(c.delta, c.name)])
    return ["pipeline", "figure", "old", "new", "change"], rows


# --- Plots -----------------------------------------------------------------------------------------------------


def best_relevance(row: Mapping[str, Any]) -> float | None:
    """The best relevance among the retrieved passages (what the relevance floor is compared with)."""
    values = [float(p["relevance"]) for p in row.get("retrieved") or [] if p.get("relevance") is not None]
    return max(values) if values else None


def _values(rows: Sequence[Mapping[str, Any]], pick: Callable[[Mapping[str, Any]], Any]) -> list[float]:
    out = []
    for row in rows:
        value = pick(row)
        if value is not None and not math.isnan(float(value)):
            out.append(float(value))
    return out


def plots(run: Mapping[str, Any], rows: Rows) -> dict[str, bytes]:
    """PNG images: score distributions, latency histogram, main figures per tag ({} without matplotlib)."""
    try:
        import numpy as np
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:  # a dependency, but a report without plots beats no report
        log.warning("matplotlib is not installed; the report has no plots")
        return {}

    def png(fig: Any) -> bytes:
        FigureCanvasAgg(fig)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()

    images: dict[str, bytes] = {}
    scores: list[tuple[str, Callable[[Mapping[str, Any]], Any]]] = [
        ("key_fact_recall", lambda r: (r.get("metrics") or {}).get("key_fact_recall")),
        ("faithfulness", lambda r: (r.get("metrics") or {}).get("faithfulness")),
        ("best passage relevance", best_relevance),
    ]
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    for ax, (title, pick) in zip(fig.subplots(1, len(scores)), scores, strict=True):
        for name, pipeline_rows in rows.items():
            ax.hist(_values(pipeline_rows, pick), bins=np.linspace(0, 1, 11), alpha=0.6, label=name)
        ax.set_title(title)
        ax.set_xlabel("score")
        ax.set_ylabel("questions")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend()
    images["scores"] = png(fig)

    fig = Figure(figsize=(8, 3.6), layout="constrained")
    ax = fig.subplots()
    latencies = {name: _values(r, lambda row: (row.get("metrics") or {}).get("latency_ms")) for name, r in rows.items()}
    everything = [v for values in latencies.values() for v in values if v > 0]
    if everything:
        low, high = min(everything), max(everything)
        spread = high / low > 50
        edges = np.geomspace(low, high * 1.001, 30) if spread else np.linspace(low, high * 1.001, 30)
        for name, ms in latencies.items():
            ax.hist([v for v in ms if v > 0], bins=edges.tolist(), alpha=0.6, label=name)
        if spread:
            ax.set_xscale("log")
        ax.legend()
    ax.set_title("latency per question")
    ax.set_xlabel("milliseconds")
    ax.set_ylabel("questions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    images["latency"] = png(fig)

    tags = list(tags_of(rows))
    plain = [t for t in tags if ":" not in t]  # category tags; "topic:<page>" tags are too many to draw
    tags = (plain or tags)[:MAX_PLOTTED_TAGS]
    figures = main_figures(int(run["k"]))[:4]
    names = _pipelines(run)
    fig = Figure(figsize=(4 * len(figures), 1.2 + 0.32 * max(1, len(tags)) * len(names)), layout="constrained")
    positions = np.arange(len(tags))
    height = 0.8 / max(1, len(names))
    for ax, name in zip(fig.subplots(1, len(figures), sharey=True), figures, strict=True):
        for i, pipeline in enumerate(names):
            means = [figure(run["pipelines"][pipeline], name, tag)[0] or 0.0 for tag in tags]
            ax.barh(positions + i * height, means, height=height, label=pipeline, alpha=0.8)
        ax.set_title(name)
        ax.set_xlim(0, 1)
        ax.set_yticks(positions + height * (len(names) - 1) / 2, tags)
    fig.axes[0].invert_yaxis()  # once: the axes share y, so each call would flip it back
    fig.legend(*fig.axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=len(names))
    images["tags"] = png(fig)
    return images


# --- Markdown --------------------------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def md_table(table: Table) -> str:
    """A Markdown table."""
    header, rows = table
    lines = ["| " + " | ".join(map(_md_cell, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in (text or "(empty)").splitlines())


def _settings_lines(run: Mapping[str, Any]) -> list[tuple[str, str]]:
    malformed = run.get("malformed") or []
    return [
        ("dataset", f"{run.get('dataset', '')} ({run.get('questions', 0)} questions, {len(malformed)} malformed rows)"),
        ("date", str(run.get("date", ""))),
        ("store", str(run.get("store", ""))),
        ("embedding model", str(run.get("embedding_model", ""))),
        ("composer", str(run.get("composer", ""))),
        ("k (retrieval cut-off)", str(run.get("k", ""))),
        ("pipelines", ", ".join(_pipelines(run))),
        ("tags", ", ".join(run.get("tags") or []) or "all"),
    ]


def markdown(
    run: Mapping[str, Any], rows: Rows, comparison: Comparison | None = None, plot_names: Sequence[str] = PLOTS
) -> str:
    """The report as Markdown (plots referenced as files in ``plots/``)."""
    k = int(run["k"])
    out = [f"# Evaluation run {run.get('date', '')}", ""]
    out += [f"- {label}: {_md_cell(value)}" for label, value in _settings_lines(run)]
    out += ["", "## Figures", "", md_table(figures_table(run)), "", "### Refusals", "", md_table(refusal_table(run))]
    if comparison is not None:
        out += ["", f"## Changes since {_md_cell(comparison.old_label)}", ""]
        out += [f"- {_md_cell(note)}" for note in comparison.notes]
        out += ["", md_table(comparison_table(comparison)), ""]
        out += [f"Questions that got worse: {len(comparison.worse)}", ""]
        out += [
            f"- `{_md_cell(w.id)}` ({w.pipeline}): {_md_cell('; '.join(w.changes))} — {_md_cell(w.question)}"
            for w in comparison.worse
        ]
    out += ["", "## Per tag", "", "Each cell: " + " / ".join(_pipelines(run)) + ".", "", md_table(tag_table(run, rows))]
    if plot_names:
        out += ["", "## Plots", ""]
        out += [f"![{name}](plots/{name}.png)" for name in plot_names]
    if run.get("malformed"):
        out += ["", "## Malformed rows (skipped)", ""]
        out += [f"- line {m['line']}: {_md_cell(m['message'])}" for m in run["malformed"]]
    for pipeline, pipeline_rows in rows.items():
        failed = failures(pipeline_rows, k)
        out += ["", f"## Failures of {pipeline}: {len(failed)} of {len(pipeline_rows)}", ""]
        for row, reasons in failed:
            out += _md_failure(row, reasons)
    return "\n".join(out).rstrip() + "\n"


def _md_failure(row: Mapping[str, Any], reasons: list[str]) -> list[str]:
    expected = [
        f"keys {', '.join(row.get('answer_keys') or []) or '—'}",
        f"sources {', '.join(row.get('reference_sources') or []) or '—'}",
        f"should refuse {row.get('should_refuse')}",
    ]
    refused = f"refused ({row.get('reason')})" if row.get("refused") else "answered"
    lines = [f"### {_md_cell(row.get('id', ''))}: {_md_cell('; '.join(reasons))}", ""]
    lines.append(f"- question: {_md_cell(row.get('question', ''))}")
    if row.get("history"):
        turns = " ⏎ ".join(f"{t['role']}: {t['content']}" for t in row["history"])
        lines.append(f"- history: {_md_cell(turns)}")
    lines.append(f"- tags: {_md_cell(', '.join(row.get('tags') or []))}")
    lines.append(f"- expected: {_md_cell('; '.join(expected))}")
    lines.append(f"- got: {refused}; top retrieved: {_md_cell(', '.join(top_urls(row)) or '—')}")
    lines += ["", _quote(str(row.get("answer", ""))), ""]
    return lines


# --- HTML ------------------------------------------------------------------------------------------------------

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
    run: Mapping[str, Any], rows: Rows, comparison: Comparison | None = None, images: Mapping[str, bytes] | None = None
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
        "<dl>"
        + "".join(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in _settings_lines(run))
        + "</dl>",
        "<h2>Figures</h2>",
        html_table(figures_table(run)),
        "<h3>Refusals</h3>",
        html_table(refusal_table(run)),
    ]
    if comparison is not None:
        out += _html_comparison(comparison)
    out += [
        "<h2>Per tag</h2>",
        f"<p>Each cell: {_e(' / '.join(_pipelines(run)))}.</p>",
        html_table(tag_table(run, rows)),
    ]
    if images:
        out.append("<h2>Plots</h2>")
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


def write(folder: Path, run: Mapping[str, Any], rows: Rows, comparison: Comparison | None = None) -> list[Path]:
    """Write report.md, report.html and plots/*.png into ``folder``; return the files written."""
    images = plots(run, rows)
    written = []
    if images:
        (folder / "plots").mkdir(parents=True, exist_ok=True)
        for name, data in images.items():
            path = folder / "plots" / f"{name}.png"
            path.write_bytes(data)
            written.append(path)
    md = folder / "report.md"
    md.write_text(markdown(run, rows, comparison, list(images)), encoding="utf-8")
    page = folder / "report.html"
    page.write_text(html_report(run, rows, comparison, images), encoding="utf-8")
    return [md, page, *written]
