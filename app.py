"""The web app: ``python app.py`` ingests the bundled corpus when needed, then serves the assistant on loopback.

Pages: Chat and About at ``/`` for everyone; Helpdesk and Evaluate at ``/staff/``, behind a login when
EUMA_APP_USERNAME and EUMA_APP_PASSWORD are set. API: ``POST /api/ask`` (JSON; OpenAPI at /docs) and the Gradio
endpoints ask, draft and evaluate. The pages are in ``webapp/``; docs/app.md describes them.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from common.errors import EumaError
from common.settings import ANSWER_FLAGS, STORE_FLAGS, Settings, add_arguments, from_args
from vectorstore.store import Store

log = logging.getLogger("app")

FLAGS = (
    *STORE_FLAGS,
    *(name for name in ANSWER_FLAGS if name not in ("top_k", "relevance_floor")),
    "draft_tone",
    "draft_signoff",
    "app_concurrency",
    "feedback_db",
)


def prepare_store(settings: Settings) -> Store:
    """Bring the bundled corpus into the store (only new or changed pages are embedded) and open it.

    The first start builds the store from nothing, which takes a while: it says so, shows ingest's progress bar on
    a terminal, and ends with the counts and the time taken."""
    from ingest.pipeline import ingest

    probe = Store(settings)
    try:
        first = not probe.exists()
    finally:
        probe.close()
    if first:
        print(
            f"building the store at {settings.store_path} from the bundled corpus (first start: this takes a few "
            "minutes; the app starts serving when it is done)",
            flush=True,
        )
    started = time.perf_counter()
    summary = ingest(settings, None, progress=sys.stderr.isatty())
    if first or summary.added or summary.changed:
        print(summary.report(), flush=True)
    if first:
        print(
            f"store built: {summary.pages_total} pages, {summary.chunks_total} passages "
            f"in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    return Store(settings).open()


def build_parser() -> argparse.ArgumentParser:
    """The command line: where to listen, and the settings worth changing at start."""
    parser = argparse.ArgumentParser(prog="python app.py", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on (default 7860)")
    parser.add_argument("--no-ingest", action="store_true", help="serve the store as it is, without the corpus check")
    add_arguments(parser, FLAGS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Prepare the store and serve the app until interrupted."""
    from webapp.server import quiet_environment

    quiet_environment()  # before Gradio or the hub client is imported
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = from_args(args)
        store = Store(settings).open() if args.no_ingest else prepare_store(settings)
        import uvicorn

        from assistant.service import Assistant
        from webapp.server import create_app

        assistant = Assistant(settings, store=store)
        assistant.warm_up()
        app = create_app(settings, assistant)
    except EumaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    login = "login required" if settings.app_username else "no login (set EUMA_APP_USERNAME and EUMA_APP_PASSWORD)"
    print(f"serving on http://{args.host}:{args.port}/  (helpdesk and evaluation: /staff/, {login}; API: /docs)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
