"""Kept for code written against the old place: ``common.settings`` is where this lives now."""

from common.settings import *  # noqa: F403
