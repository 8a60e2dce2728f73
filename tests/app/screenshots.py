"""Screenshots of every page for docs/screenshots/: ``python -m tests.app.screenshots [--data-dir DIR]``.

Serves the app over the bundled corpus (ingested into DIR, or a temporary folder, when needed) with a staff login,
drives Debian's Chromium through a chat with a follow-up, a helpdesk draft, an evaluation run and the About page,
and saves one PNG per page at desktop width and the chat at phone width.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from tests.app import browser

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
QA_SET = Path(__file__).resolve().parents[1] / "data" / "qa.jsonl"
STAFF = ("staff", "screenshots")
MESSAGE = """Dear Sir or Madam,

I am a software engineer with a job offer for a highly qualified post. What salary do I need to \
qualify for an EU Blue Card?

Kind regards,
Priya"""


def main(argv: list[str] | None = None) -> int:
    """Take the screenshots."""
    parser = argparse.ArgumentParser(prog="python -m tests.app.screenshots", description=__doc__)
    parser.add_argument("--data-dir", type=Path, help="data folder with (or for) the bundled corpus store")
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder for the PNG files (default {OUT})")
    args = parser.parse_args(argv)
    reason = browser.missing()
    if reason:
        parser.error(reason)

    from app import prepare_store
    from assistant.service import Assistant
    from common.settings import Settings
    from webapp.server import create_app, quiet_environment

    quiet_environment()
    work = Path(tempfile.mkdtemp(prefix="euma-shots-"))
    data = args.data_dir or work / "data"
    settings = Settings(data_dir=data, app_username=STAFF[0], app_password=STAFF[1], feedback_db=work / "fb.sqlite3")
    assistant = Assistant(settings, store=prepare_store(settings))
    assistant.warm_up()
    qa = work / "qa-sample.jsonl"
    rows = QA_SET.read_text(encoding="utf-8").splitlines()
    qa.write_text("\n".join(rows[::12]) + "\n", encoding="utf-8")  # every 12th question: a quick, varied run
    args.out.mkdir(parents=True, exist_ok=True)

    with browser.served(create_app(settings.replace(data_dir=work), assistant)) as url, browser.chromium() as chromium:
        page = chromium.new_page(viewport=browser.DESKTOP)
        page.goto(url + "/")
        browser.ask(page, "What is the EU Blue Card?")
        browser.ask(page, "Can my family join me with it?")
        page.screenshot(path=args.out / "chat.png", full_page=True)

        phone = chromium.new_page(viewport=browser.PHONE)
        phone.goto(url + "/")
        browser.ask(phone, "How long can the asylum border procedure last?")
        phone.screenshot(path=args.out / "chat-phone.png", full_page=True)

        page.goto(url + "/?tab=about")
        page.locator("#store-overview table").wait_for()
        page.screenshot(path=args.out / "about.png", full_page=True)

        page.goto(url + "/staff/")
        page.screenshot(path=args.out / "login.png")
        browser.log_in(page, url, *STAFF)
        page.get_by_label("Citizen's message").fill(MESSAGE)
        page.get_by_role("button", name="Write draft").click()
        page.wait_for_function("() => document.querySelector('#draft textarea').value.includes('Sources:')")
        page.locator("#files-status").get_by_text("downloads hold").wait_for()
        page.screenshot(path=args.out / "helpdesk.png", full_page=True)

        page.goto(url + "/staff/?tab=evaluate")
        page.get_by_role("tab", name="Evaluate", selected=True).wait_for()
        page.locator("#qa-file input[type=file]").set_input_files(str(qa))
        page.locator("#qa-file").get_by_text(qa.name).wait_for()
        page.get_by_role("button", name="Run evaluation").click()
        page.locator("#eval-summary table").first.wait_for(timeout=300_000)
        page.locator("#eval-plots img").first.wait_for()
        page.screenshot(path=args.out / "evaluate.png", full_page=True)
    assistant.store.close()
    names = sorted(p.name for p in args.out.glob("*.png"))
    print(json.dumps({"out": str(args.out), "screenshots": names}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
