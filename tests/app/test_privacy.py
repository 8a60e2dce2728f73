"""Privacy by default: the staff pages' files private and short-lived, Gradio's copies with them, and personal
details masked in stored feedback."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import httpx
import pytest

from assistant.service import Assistant
from tests.app.conftest import STAFF, LiveApp
from tests.app.test_evaluate import qa_rows, write_qa
from webapp.evaluate import Evaluation
from webapp.feedback import FeedbackStore, mask_personal
from webapp.helpdesk import Helpdesk
from webapp.server import KEEP_FILES_SECONDS, sweep


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_helpdesk_downloads_are_private(app_assistant: Assistant, tmp_path: Path) -> None:
    txt, eml, _ = Helpdesk(app_assistant, tmp_path / "drafts").files("Dear Amira,\n\nYour answer.\n")
    assert txt is not None and eml is not None
    assert mode(Path(txt)) == mode(Path(eml)) == 0o600
    assert mode(Path(txt).parent) == 0o700


def test_evaluation_runs_are_private(app_assistant: Assistant, tmp_path: Path) -> None:
    done = Evaluation(app_assistant, tmp_path / "runs").run(write_qa(tmp_path, qa_rows(1, 0)), k=3)
    assert mode(done.folder) == 0o700 and mode(done.archive) == 0o600
    files = [p for p in done.folder.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"results.jsonl", "report.html", "scores.png"}
    assert all(mode(p) == 0o600 for p in files)
    assert all(mode(p) == 0o700 for p in done.folder.rglob("*") if p.is_dir())


def test_sweep_removes_old_files_and_their_folders_and_keeps_new_ones(tmp_path: Path) -> None:
    old, new = tmp_path / "drafts" / "a1" / "draft-reply.txt", tmp_path / "gradio" / "b2" / "report.html"
    deep = tmp_path / "eval-runs" / "run" / "plots" / "scores.png"
    for path in (old, new, deep):
        path.parent.mkdir(parents=True)
        path.write_text("x")
    hour_ago = time.time() - KEEP_FILES_SECONDS - 60
    for path in (old, old.parent, deep, deep.parent, deep.parent.parent):
        os.utime(path, (hour_ago, hour_ago))
    assert sweep(tmp_path) == 2
    assert not old.exists() and not old.parent.exists() and not deep.parent.parent.exists()
    assert new.exists()
    assert {p.name for p in tmp_path.iterdir()} == {"drafts", "gradio", "eval-runs"}  # the top folders stay
    assert sweep(tmp_path, now=time.time() + KEEP_FILES_SECONDS + 1) == 1 and not new.exists()


def test_the_app_keeps_its_files_and_gradios_in_a_private_folder(live_app: LiveApp, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    gradio_dir = Path(os.environ["GRADIO_TEMP_DIR"])
    root = gradio_dir.parent
    assert root.name.startswith("euma-app-") and mode(root) == 0o700
    assert all(mode(root / name) == 0o700 for name in ("gradio", "drafts", "eval-runs"))
    assert not (live_app.settings.data_dir / "eval-runs").exists()  # nothing of a run stays in the data folder

    client = Client(f"{live_app.url}/staff/", auth=STAFF, verbose=False)
    qa = write_qa(tmp_path, qa_rows(1, 0))
    *_, report = client.predict(handle_file(str(qa)), 5, 0, api_name="/evaluate")
    uploads = list(gradio_dir.rglob("upload.jsonl"))
    assert uploads, "the upload was not kept in the private folder"
    assert list((root / "eval-runs").glob("*.zip"))  # the run itself
    # Gradio's copies of the files offered for download are in its folder, inside the private one.
    offered = [p.name for p in gradio_dir.rglob("*") if p.is_file()]
    assert "report.html" in offered and any(name.endswith(".zip") for name in offered)
    assert Path(report).read_text().startswith("<!DOCTYPE html>")  # downloaded by the client


def test_a_file_in_the_private_folder_needs_the_login(live_app: LiveApp) -> None:
    root = Path(os.environ["GRADIO_TEMP_DIR"]).parent
    secret = root / "drafts" / "x" / "draft-reply.txt"
    secret.parent.mkdir(exist_ok=True)
    secret.write_text("private")
    assert httpx.get(f"{live_app.url}/staff/gradio_api/file={secret}", timeout=10).status_code == 401
    assert httpx.get(f"{live_app.url}/gradio_api/file={secret}", timeout=10).status_code in (403, 404)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Write to amira.haddad+visa@gmail.com please", "Write to [email] please"),
        ("or to A.Haddad@uni-leiden.nl and j_doe@mail.example.co.uk.", "or to [email] and [email]."),
        ("Call me on +49 30 1234567 tomorrow", "Call me on [phone] tomorrow"),
        ("mobile 0176 12345678, office (030) 123-4567", "mobile [phone], office [phone]"),
        ("+33 6 12 34 56 78 or 0033 6 12 34 56 78", "[phone] or [phone]"),
        ("US: +1 (555) 123-4567 or 555-123-4567", "US: [phone] or [phone]"),
        ("tel. 030/1234567 or 06-12345678", "tel. [phone] or [phone]"),
        ("My passport number is P1234567 (German: C01X00T47)", "My passport number is [number] (German: [number])"),
        ("permit Y12345678, BSN 123456782, case AZ-2023-004512", "permit [number], BSN [number], case [number]"),
        ("IBAN DE89 3704 0044 0532 0130 00 or NL91ABNA0417164300", "IBAN [number] or [number]"),
    ],
)
def test_personal_details_are_masked(text: str, expected: str) -> None:
    assert mask_personal(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Directive 2003/86/EC and Regulation (EU) 2024/1347, Article 5(4), 90 days in any 180",
        "I applied on 12/05/2023 (or 01.02.2023, or 2019-05-01) and waited 12 weeks",
        "The salary threshold of EUR 45,300 or 45300 a year, 1.5 times the average, 3 children",
    ],
)
def test_rules_dates_and_amounts_are_left_alone(text: str) -> None:
    assert mask_personal(text) == text


def test_feedback_is_stored_masked(app_assistant: Assistant, tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    question = "I am Amira (passport P1234567): what salary do I need for an EU Blue Card?"
    answer = app_assistant.ask(question)
    row_id = store.add(question, answer, -1, "Wrong! Mail me at amira@example.org or call +31 6 12345678.")
    stored = store.rows()[0]
    assert stored["comment"] == "Wrong! Mail me at [email] or call [phone]."
    assert stored["question"] == "I am Amira (passport [number]): what salary do I need for an EU Blue Card?"
    store.update(row_id, 1, "Fine after all; my permit is Y12345678")
    assert store.rows()[0]["comment"] == "Fine after all; my permit is [number]"
    raw = (tmp_path / "feedback.sqlite3").read_bytes()
    assert b"amira@example.org" not in raw and b"P1234567" not in raw and b"12345678" not in raw
