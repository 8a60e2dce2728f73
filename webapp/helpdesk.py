"""The Helpdesk page's handlers: a citizen's message in, a cited draft reply out, as text to edit, .txt and .eml.

The draft is the assistant's ``Draft`` (greeting, verified answer, sources, closing, sign-off); the staff member
edits it in the page, and the downloads are made from the edited text.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from assistant.errors import ConfigError, QuestionError
from assistant.service import Assistant
from webapp import render
from webapp.chat import FRIENDLY_ERROR

log = logging.getLogger(__name__)

SUBJECT = "Your question about EU migration and asylum"
KEEP_FILES_SECONDS = 3000  # downloads are copied by Gradio when offered; ours go at the next write after 50 minutes


def write_private(path: Path, data: bytes) -> None:
    """Write a new file only its owner can read (0600 from the start, whatever the umask)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def eml_bytes(text: str, *, subject: str = SUBJECT) -> bytes:
    """The reply as an unsent e-mail (RFC 5322, UTF-8 text) that a mail program opens as a draft."""
    message = EmailMessage(policy=SMTP)
    message["Subject"] = subject
    message["X-Unsent"] = "1"  # Outlook and Thunderbird open it as a draft to complete and send
    message.set_content(text.replace("\r\n", "\n"), charset="utf-8")
    return message.as_bytes()


class Helpdesk:
    """Drafts replies with the shared assistant; writes downloads into ``folder``."""

    def __init__(self, assistant: Assistant, folder: Path) -> None:
        self.assistant = assistant
        self.folder = Path(folder)

    def draft(self, message: str, tone: str, signoff: str) -> tuple[str, str, str]:
        """The draft reply, its sources as links, and a status line."""
        try:
            draft = self.assistant.draft(message or "", tone=tone or None, signoff=(signoff or "").strip() or None)
        except (QuestionError, ConfigError) as exc:
            return "", render.sources_list_html([]), render.message_html(f"Sorry, {exc}.", kind="error")
        except Exception:
            log.exception("the helpdesk could not draft a reply")
            return "", render.sources_list_html([]), render.message_html(FRIENDLY_ERROR, kind="error")
        answer = draft.answer
        if answer.refused:
            status = "The sources do not answer this message: the draft points to the official channels."
        else:
            status = f"Draft written from {len(answer.citations)} source(s). Check and edit it before sending."
        return draft.text, render.sources_list_html(answer.citations), render.message_html(status)

    def files(self, text: str) -> tuple[str | None, str | None, str]:
        """The (edited) draft as a .txt and an .eml file to download, and a line saying what they hold."""
        if not (text or "").strip():
            return None, None, ""
        self._prune()
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder = self.folder / uuid.uuid4().hex  # one folder per call: visitors never share a file
        folder.mkdir(mode=0o700)
        folder.chmod(0o700)  # mkdir's mode is reduced by the umask
        txt = folder / "draft-reply.txt"
        write_private(txt, text.encode("utf-8"))
        eml = folder / "draft-reply.eml"
        write_private(eml, eml_bytes(text))
        words = len(text.split())
        return str(txt), str(eml), render.message_html(f"The downloads hold the draft as shown ({words:,} words).")

    def _prune(self) -> None:
        """Remove the download folders older than ``KEEP_FILES_SECONDS`` (the server also sweeps them)."""
        if not self.folder.exists():
            return
        cutoff = time.time() - KEEP_FILES_SECONDS
        for sub in self.folder.iterdir():
            try:
                if sub.is_dir() and sub.stat().st_mtime < cutoff:
                    for f in sub.iterdir():
                        f.unlink()
                    sub.rmdir()
            except OSError:  # another request removed it first
                continue
