"""Kept for code written against the old place: ``common.text`` is where this lives now."""

from common.text import *  # noqa: F403
