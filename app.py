"""The web app: ``python app.py`` serves the assistant on loopback, and brings the bundled corpus into the store.

The app serves at once; the store is built (first start) or brought up to date in a thread meanwhile, and until
it is ready the pages and the API say how far it has got instead of answering (``webapp.server.Startup``).

Pages: Chat and About at ``/`` for everyone; Helpdesk and Evaluate at ``/staff/``, behind a login when
EUMA_APP_USERNAME and EUMA_APP_PASSWORD are set. API: ``POST /api/ask`` (JSON; OpenAPI at /docs) and the Gradio
endpoints ask, draft and evaluate. The pages are in ``webapp/``; docs/app.md describes them.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from typing import TYPE_CHECKING

from common.errors import EumaError
from common.settings import ANSWER_FLAGS, STORE_FLAGS, Settings, add_arguments, from_args
from ingest.pipeline import Ingestor, Summary
from vectorstore.store import Store

if TYPE_CHECKING:
    from assistant.service import Assistant
    from webapp.server import Startup

log = logging.getLogger("app")

FLAGS = (
    *STORE_FLAGS,
    *(name for name in ANSWER_FLAGS if name not in ("top_k", "relevance_floor")),
    "draft_tone",
    "draft_signoff",
    "app_concurrency",
    "feedback_db",
)


def build_store(settings: Settings, startup: Startup | None = None, *, sources: list[str] | None = None) -> Summary:
    """Bring the bundled corpus (or ``sources``) into the store (only new or changed pages are embedded), telling
    ``startup`` how many pages are done.

    The first start builds the store from nothing, which takes a while: it says so, shows ingest's progress bar on
    a terminal, and ends with the counts and the time taken."""
    probe = Store(settings)
    try:
        first = not probe.exists()
    finally:
        probe.close()
    if first:
        corpus = "the bundled corpus" if sources is None else "the pages given"
        print(
            f"building the store at {settings.store_path} from {corpus} (first start: about half a minute for the "
            "bundled corpus on 2 cores, longer for many pages; meanwhile the app's pages say how far it has got)",
            flush=True,
        )

    def progress(done: int, total: int) -> None:
        if startup is not None:
            startup.building(done, total, update=not first)

    ingestor = Ingestor(settings)
    started = time.perf_counter()
    try:
        summary = ingestor.run(sources, progress=sys.stderr.isatty(), on_pages=progress)
    finally:
        ingestor.store.close()
    if first or summary.added or summary.changed:
        print(summary.report(), flush=True)
    if first:
        print(
            f"store built: {summary.pages_total} pages, {summary.chunks_total} passages "
            f"in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    return summary


def prepare_store(settings: Settings) -> Store:
    """Build or update the store, then open it (for a caller that waits for it rather than serving meanwhile)."""
    build_store(settings)
    return Store(settings).open()


def prepare(settings: Settings, assistant: Assistant, startup: Startup, *, sources: list[str] | None = None) -> bool:
    """Build or update the store, then load the assistant's model, telling ``startup`` how far it got. Runs in a
    thread while the app serves; a failure is printed here, and the pages say the app cannot answer."""
    try:
        build_store(settings, startup, sources=sources)
        startup.loading()
        assistant.warm_up()
    except (EumaError, OSError) as exc:  # a bad setting, a store that cannot be opened, a full disk: one line
        print(f"error: {exc}", file=sys.stderr, flush=True)
    except Exception:
        log.exception("the store could not be built")
    else:
        startup.ready()
        print("ready: the assistant answers questions", flush=True)
        return True
    startup.failed()
    print(
        "the app cannot answer, and its pages say so; stop it (Ctrl+C), fix the above and start it again",
        file=sys.stderr,
        flush=True,
    )
    return False


def build_parser() -> argparse.ArgumentParser:
    """The command line: where to listen, and the settings worth changing at start."""
    parser = argparse.ArgumentParser(prog="python app.py", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on (default 7860)")
    parser.add_argument("--no-ingest", action="store_true", help="serve the store as it is, without the corpus check")
    add_arguments(parser, FLAGS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Serve the app until interrupted, preparing the store in a thread meanwhile (with --no-ingest: before)."""
    from webapp.server import quiet_environment

    quiet_environment()  # before Gradio or the hub client is imported
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = from_args(args)
        import uvicorn

        from assistant.service import Assistant
        from webapp.server import Startup, create_app

        assistant = Assistant(settings)
        startup = Startup()
        if args.no_ingest:  # nothing to build: a missing store stops the app here, with one line
            assistant.warm_up()
            startup.ready()
        app = create_app(settings, assistant, startup=startup)
    except EumaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    login = "login required" if settings.app_username else "no login (set EUMA_APP_USERNAME and EUMA_APP_PASSWORD)"
    print(f"serving on http://{args.host}:{args.port}/  (helpdesk and evaluation: /staff/, {login}; API: /docs)")
    if not startup.is_ready:
        # A daemon: stopping the app mid-build is safe, as ingest leaves the previous index whole when interrupted.
        threading.Thread(target=prepare, args=(settings, assistant, startup), name="prepare-store", daemon=True).start()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
