"""The Helpdesk page's handlers as plain functions: a cited draft, its downloads, tone and sign-off, bad input."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path
from typing import Any

import pytest

from assistant.service import Assistant
from webapp.helpdesk import SUBJECT, Helpdesk, eml_bytes

MESSAGE = """Dear Sir or Madam,

I have a job offer for a highly qualified post. What salary do I need to get an EU Blue Card?

Kind regards,
Amira"""


@pytest.fixture
def helpdesk(app_assistant: Assistant, tmp_path: Path) -> Helpdesk:
    return Helpdesk(app_assistant, tmp_path / "drafts")


def test_a_draft_has_greeting_cited_answer_sources_and_sign_off(helpdesk: Helpdesk) -> None:
    text, sources, status = helpdesk.draft(MESSAGE, "formal", "Migration Info Desk, Ghent")
    assert text.startswith("Dear Amira,")  # the name the message is signed with
    assert "[1]" in text and "Sources:\n[1] " in text
    assert "https://eur-lex.europa.eu/eli/dir/2021/1883/oj" in text  # the official act, not an internal path
    assert "corpus/pages/" not in text
    assert text.rstrip().endswith("Migration Info Desk, Ghent")
    assert 'href="/corpus/pages/eu-blue-card.html#' in sources
    assert "Check and edit it before sending" in status


def test_tone_and_default_sign_off(helpdesk: Helpdesk, app_assistant: Assistant) -> None:
    text, _, _ = helpdesk.draft(MESSAGE, "friendly", "   ")
    assert text.startswith("Hello Amira,")
    assert text.rstrip().endswith(app_assistant.settings.draft_signoff)


@pytest.mark.parametrize(
    ("message", "tone", "expected"),
    [
        ("", "formal", "empty"),
        ("Blue Card? " * 2000, "formal", "too long"),
        (MESSAGE, "rude", "valid values: formal, friendly"),
    ],
)
def test_bad_input_gives_a_message_and_no_draft(helpdesk: Helpdesk, message: str, tone: str, expected: str) -> None:
    text, _, status = helpdesk.draft(message, tone, "")
    assert text == "" and expected in status and 'role="alert"' in status


def test_a_message_the_sources_do_not_answer_gets_a_polite_pointer_to_official_channels(helpdesk: Helpdesk) -> None:
    text, sources, status = helpdesk.draft("What is the fee for a residence card in Malta?", "formal", "Team")
    assert "immigration-portal.ec.europa.eu" in text and "Sources:" not in text
    assert "official channels" in status and "No sources" in sources


def test_the_edited_draft_downloads_as_txt_and_eml(helpdesk: Helpdesk) -> None:
    text, _, _ = helpdesk.draft(MESSAGE, "formal", "Team")
    edited = text.replace("Dear Sir or Madam,", "Dear Ms Haddad,") + "\nPS: écrivez-nous en français si vous préférez."
    txt, eml, status = helpdesk.files(edited)
    assert f"({len(edited.split()):,} words)" in status
    assert txt is not None and eml is not None
    assert Path(txt).name == "draft-reply.txt" and Path(txt).read_text(encoding="utf-8") == edited
    message: Any = email.message_from_bytes(Path(eml).read_bytes(), policy=policy.default)
    assert message["Subject"] == SUBJECT and message["X-Unsent"] == "1"
    assert message.get_content_type() == "text/plain"
    assert message.get_content().replace("\r\n", "\n").rstrip("\n") == edited.rstrip("\n")
    again = helpdesk.files(edited)
    assert again[0] != txt  # every call has its own folder: two staff members never get each other's file


def test_no_files_for_an_empty_draft(helpdesk: Helpdesk) -> None:
    assert helpdesk.files("  \n") == (None, None, "")


def test_eml_lines_are_folded_for_mail_transport() -> None:
    raw = eml_bytes("x" * 2000)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
