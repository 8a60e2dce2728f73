"""The project's error hierarchy: every failure a user can meet is one of these, with a one-line message."""

from __future__ import annotations


class EumaError(Exception):
    """Base class: an error whose message is fit to show to a user as it is."""


class ConfigError(EumaError):
    """A setting has a value the project cannot use; the message lists the valid values."""


class StoreError(EumaError):
    """The vector store cannot be opened or used (missing, unreachable, wrong model)."""


class ModelMismatchError(StoreError):
    """The collection was built with another embedding model than the one configured."""


class EmbeddingError(EumaError):
    """The embedding model cannot be loaded."""
