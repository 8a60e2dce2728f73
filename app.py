"""The Gradio face of the assistant. ``python app.py`` ingests the bundled corpus when needed, then serves the page.

This release serves passage search over the sources, each result with its citation; the chat with composed
answers comes with the answering stage.
"""

from __future__ import annotations

import argparse
import html
import logging
import os
import sys
from typing import Any

from vectorstore.errors import EumaError
from vectorstore.settings import Settings, add_arguments, from_args
from vectorstore.store import Store

log = logging.getLogger("app")


def prepare_store(settings: Settings) -> Store:
    """Bring the bundled corpus into the store (only new or changed pages are embedded) and open it."""
    from ingest.pipeline import ingest

    summary = ingest(settings, None, progress=sys.stderr.isatty())
    if summary.added or summary.changed:
        print(summary.report())
    return Store(settings).open()


def render_passages(store: Store, query: str) -> str:
    """The search results as HTML: each passage's text and its citation (title, section, link, dates); all escaped."""
    from assistant.retrieve import retrieve

    if not query.strip():
        return "<p>Type a question about EU migration or asylum policy.</p>"
    if len(query) > 1000:
        return "<p>That question is too long: please keep it under 1,000 characters.</p>"
    items = []
    for n, passage in enumerate(retrieve(store, query, k=5), start=1):
        c = passage.chunk
        link = c.link if c.link.startswith(("http://", "https://")) else ""
        source = f' · <a href="{html.escape(c.source_url)}">official source</a>' if c.source_url else ""
        where = (
            f'<a href="{html.escape(link)}">{html.escape(c.heading_path)}</a>' if link else html.escape(c.heading_path)
        )
        dates = f" · facts checked {html.escape(c.checked)}" if c.checked else ""
        dates += f" · page updated {html.escape(c.updated)}" if c.updated else ""
        items.append(f"<li><p>{html.escape(c.text)}</p><p><small>[{n}] {where}{source}{dates}</small></p></li>")
    return "<ol>" + "".join(items) + "</ol>" if items else "<p>No passage found.</p>"


def build_app(store: Store) -> Any:
    """The Gradio Blocks app."""
    import gradio as gr

    with gr.Blocks(title="EU Migration Assistant") as demo:
        gr.Markdown(
            "# EU Migration Assistant\n"
            "Search the assistant's sources on EU migration and asylum policy. This is general information from "
            "official EU sources, not legal advice; for your own case, contact the national authorities or see the "
            "[EU Immigration Portal](https://immigration-portal.ec.europa.eu/)."
        )
        question = gr.Textbox(label="Your question", placeholder="How long can the asylum border procedure last?")
        results = gr.HTML()
        question.submit(lambda q: render_passages(store, q), question, results, api_name="search")
    return demo


def main(argv: list[str] | None = None) -> int:
    """Prepare the store and serve the app."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(prog="python app.py", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on")
    add_arguments(parser, ("store_dir", "chroma_url", "collection", "data_dir", "embedding_model"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        store = prepare_store(from_args(args))
    except EumaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    build_app(store).launch(server_name=args.host, server_port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
