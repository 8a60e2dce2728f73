"""Kept for code written against the old place: ``common.errors`` is where this lives now."""

from common.errors import *  # noqa: F403
