"""docs/configuration.md lists every setting as the code defines it."""

from __future__ import annotations

from pathlib import Path

from common.settings import settings_table


def test_configuration_doc_matches_the_code() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert settings_table() in doc, "docs/configuration.md is out of date: paste common.settings.settings_table()"
