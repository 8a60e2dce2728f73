"""``python -m ingest [SOURCE ...] [--store DIR] [--prune]``: parse, chunk, embed and store pages."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from common.errors import EumaError
from common.settings import STORE_FLAGS, add_arguments, from_args
from ingest.pipeline import ingest


def build_parser() -> argparse.ArgumentParser:
    """The command line of ingest."""
    parser = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Parse, chunk, embed and store pages. With no SOURCE, ingests the bundled corpus.",
    )
    parser.add_argument("sources", nargs="*", metavar="SOURCE", help="file, folder or http(s) address")
    parser.add_argument(
        "--prune", action="store_true", help="remove stored pages that are not among this run's sources"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--verbose", action="store_true", help="log each page as it is stored")
    add_arguments(parser, (*STORE_FLAGS, "chunk_tokens", "fetch_delay"))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ingest; one clear line and exit code 2 on a configuration or store error."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    for noisy in ("httpx", "chromadb", "sentence_transformers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = from_args(args)
        summary = ingest(settings, args.sources, prune=args.prune, progress=not args.quiet and sys.stderr.isatty())
    except EumaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: pages finished so far are stored; run again to complete", file=sys.stderr)
        return 130
    print(json.dumps(summary.as_dict(), indent=2) if args.json else summary.report())
    return 1 if summary.skipped and not (summary.added or summary.changed or summary.unchanged) else 0


if __name__ == "__main__":
    sys.exit(main())
