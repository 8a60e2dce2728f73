"""The report's plots: score distributions, latency per question, and the main figures per tag, as PNG bytes.

Drawn with matplotlib's Agg canvas, imported only when a report is written. matplotlib is optional (the ``eval``
extra): without it the report has no plots and says so.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from evaluation.figures import figure, label, main_figures, tags_of

log = logging.getLogger(__name__)

Rows = Mapping[str, Sequence[Mapping[str, Any]]]  # pipeline name -> its rows of results.jsonl
MAX_PLOTTED_TAGS = 40
PLOTS = ("scores", "latency", "tags")
MISSING = "No plots: matplotlib is not installed (pip install -e '.[eval]' adds it)."


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


def available() -> bool:
    """Whether matplotlib is installed (it comes with the ``eval`` extra)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plots(run: Mapping[str, Any], rows: Rows) -> dict[str, bytes]:
    """PNG images: score distributions, latency histogram, main figures per tag ({} without matplotlib)."""
    if not available():  # an optional extra: a report without plots beats no report
        log.warning("matplotlib is not installed (pip install -e '.[eval]'); the report has no plots")
        return {}
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    def png(fig: Any) -> bytes:
        FigureCanvasAgg(fig)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()

    images: dict[str, bytes] = {}
    scores: list[tuple[str, Callable[[Mapping[str, Any]], Any]]] = [
        (label("key_fact_recall"), lambda r: (r.get("metrics") or {}).get("key_fact_recall")),
        (label("faithfulness"), lambda r: (r.get("metrics") or {}).get("faithfulness")),
        (label("judge_faithfulness"), lambda r: (r.get("metrics") or {}).get("judge_faithfulness")),
        ("best passage relevance", best_relevance),
    ]
    fig = Figure(figsize=(16, 3.6), layout="constrained")
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
    names = list(run.get("pipelines", {}))
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
