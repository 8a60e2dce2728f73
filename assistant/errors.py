"""Errors of the assistant, translated at the edge (one line in the CLI, a friendly message in the app)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

from common.errors import ConfigError, EumaError

A = TypeVar("A")


class QuestionError(EumaError):
    """The question cannot be taken: empty, too long, or not text."""


class ComposerError(EumaError):
    """The answer composer failed: a language model unreachable, too slow or replying nonsense."""


def at_the_edge(command: Callable[[A], int], args: A) -> int:
    """Run a command-line command: its exit code, or one ``error:`` line and 2 on bad input, configuration or store
    errors, 130 when interrupted."""
    try:
        return command(args)
    except EumaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


__all__ = ["ComposerError", "ConfigError", "EumaError", "QuestionError", "at_the_edge"]
