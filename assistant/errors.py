"""Errors of the assistant, translated at the edge (one line in the CLI, a friendly message in the app)."""

from __future__ import annotations

from vectorstore.errors import ConfigError, EumaError


class QuestionError(EumaError):
    """The question cannot be taken: empty, too long, or not text."""


class ComposerError(EumaError):
    """The answer composer failed: a language model unreachable, too slow or replying nonsense."""


__all__ = ["ComposerError", "ConfigError", "EumaError", "QuestionError"]
