"""The app in a real headless Chromium: chat with citations, follow-up, feedback, helpdesk download, evaluation,
hostile text shown as text, two visitors at once, login, and the basics of accessibility at desktop and phone width.

Every page is watched: a request to anything but loopback, an alert or an uncaught script error fails the test.
"""

from __future__ import annotations

import email
import zipfile
from email import policy
from pathlib import Path
from typing import Any

import pytest

from tests.app.browser import ANSWER_TIMEOUT_MS, PHONE, ask, log_in
from tests.app.conftest import HOSTILE_QUESTION, IMG, SCRIPT, STAFF, LiveApp, Tab
from tests.app.test_evaluate import qa_rows, write_qa

pytestmark = pytest.mark.browser

BLUE_CARD = "What salary do I need for an EU Blue Card?"


def bot_messages(page: Any) -> list[str]:
    return [m.inner_text() for m in page.locator("[data-testid=bot]").all()]


def test_ask_see_the_answer_and_open_a_citation_at_its_section(live_app: LiveApp, open_tab: Any) -> None:
    tab: Tab = open_tab()
    page = tab.page
    page.goto(live_app.url + "/")
    note = page.locator("#what-this-is").inner_text()
    assert "not legal advice" in note and "EU Immigration Portal" in note
    ask(page, BLUE_CARD)
    answer = page.locator("[data-testid=bot]").last
    assert "[1]" in answer.inner_text()
    sources = page.locator("#sources")
    assert "Last updated 2026-11-29" in sources.inner_text()
    assert "EU Blue Card" in sources.locator(".euma-source-title").first.inner_text()
    assert sources.locator(".euma-snippet").first.inner_text().strip()

    link = answer.get_by_role("link", name="[1]").first
    href = link.get_attribute("href")
    assert href.startswith("/corpus/pages/") and "#" in href
    with page.context.expect_page() as opened:
        link.click()
    source = opened.value
    source.wait_for_load_state()
    assert source.url == live_app.url + href
    anchor = href.split("#", 1)[1]
    heading = source.locator(f"[id='{anchor}']")
    assert heading.count() == 1 and heading.is_visible()
    top = source.evaluate(f"document.getElementById('{anchor}').getBoundingClientRect().top")
    assert 0 <= top < 200  # the page opened scrolled to the cited section


def test_a_follow_up_question(live_app: LiveApp, open_tab: Any) -> None:
    page = open_tab().page
    page.goto(live_app.url + "/")
    ask(page, BLUE_CARD)
    ask(page, "And how long is it valid?")
    assert len(bot_messages(page)) == 2
    assert page.locator("[data-testid=user]").count() == 2
    assert "eu-blue-card.html" in page.locator("#sources").inner_html()


def test_feedback_is_stored_and_a_new_chat_starts_empty(live_app: LiveApp, open_tab: Any) -> None:
    page = open_tab().page
    page.goto(live_app.url + "/")
    before = len(live_app.feedback.rows())
    ask(page, "How long can the asylum border procedure last?")
    page.get_by_label("Was the last answer helpful? Comment (optional)").fill("Useful, thanks")
    page.get_by_role("button", name="Helpful", exact=False).first.click()
    page.locator("#feedback-status").get_by_text("was saved").wait_for(timeout=30_000)
    rows = live_app.feedback.rows()
    assert len(rows) == before + 1
    assert rows[-1]["question"] == "How long can the asylum border procedure last?"
    assert rows[-1]["rating"] == 1 and rows[-1]["comment"] == "Useful, thanks" and rows[-1]["citations"]

    page.get_by_role("button", name="New chat").click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=bot]').length === 0")
    assert "appear here" in page.locator("#sources").inner_text()


def test_an_example_question_asks_itself_and_an_over_long_question_gets_a_message(
    live_app: LiveApp, open_tab: Any
) -> None:
    page = open_tab().page
    page.goto(live_app.url + "/")
    page.get_by_text("How long can the asylum border procedure last?").click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=bot]').length === 1"
        " && !document.querySelector('#sources').innerText.includes('appear here')",
        timeout=ANSWER_TIMEOUT_MS,
    )
    assert "asylum-border-procedure.html" in page.locator("#sources").inner_html()
    page.get_by_label("Your question").fill("Is the Blue Card right for me? " * 80)
    page.get_by_label("Your question").press("Enter")
    page.locator("[data-testid=bot]").nth(1).get_by_text("too long").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "at most 2,000" in bot_messages(page)[-1]


def test_html_and_script_in_a_question_and_a_page_show_as_text_and_run_nothing(
    live_app: LiveApp, open_tab: Any
) -> None:
    tab: Tab = open_tab()
    page = tab.page
    page.goto(live_app.url + "/")
    question = f"{IMG} {SCRIPT} {HOSTILE_QUESTION}"
    ask(page, question)
    assert page.locator("[data-testid=user]").last.inner_text().strip() == question
    assert IMG in bot_messages(page)[-1]  # the page's text, shown as written
    sources = page.locator("#sources").inner_text()
    assert "Visa sticker notice " + IMG in sources and "Forged visa stickers " + SCRIPT in sources
    assert page.evaluate("window.xssFired") is None
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"], img[onerror]').length") == 0
    assert page.evaluate("[...document.scripts].some(s => s.textContent.includes('xssFired'))") is False
    assert page.locator("#sources a[href^='javascript:']").count() == 0
    page.goto(live_app.url + "/?tab=about")
    page.locator("#store-overview table").wait_for()
    assert "Visa sticker notice " + IMG in page.locator("#store-overview").inner_text()
    assert page.evaluate("window.xssFired") is None
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"], img[onerror]').length") == 0
    assert tab.watch.dialogs == []


def test_two_visitors_at_once_each_get_their_own_conversation(live_app: LiveApp, open_tab: Any) -> None:
    first, second = open_tab().page, open_tab().page
    for page in (first, second):
        page.goto(live_app.url + "/")
    first.get_by_label("Your question").fill(BLUE_CARD)
    second.get_by_label("Your question").fill("How long can the asylum border procedure last?")
    first.get_by_role("button", name="Ask", exact=True).click()
    second.get_by_role("button", name="Ask", exact=True).click()
    for page in (first, second):
        page.wait_for_function(
            "() => document.querySelectorAll('[data-testid=bot]').length === 1"
            " && !document.querySelector('#sources').innerText.includes('appear here')",
            timeout=ANSWER_TIMEOUT_MS,
        )
    assert [u.inner_text() for u in first.locator("[data-testid=user]").all()] == [BLUE_CARD]
    assert "eu-blue-card.html" in first.locator("#sources").inner_html()
    assert "asylum-border-procedure.html" in second.locator("#sources").inner_html()
    assert "eu-blue-card.html" not in second.locator("#sources").inner_html()


def test_the_staff_pages_need_the_login_and_the_chat_does_not(live_app: LiveApp, open_tab: Any) -> None:
    page = open_tab().page
    page.goto(live_app.url + "/staff/")
    page.get_by_label("username").fill(STAFF[0])
    page.get_by_label("password").fill("wrong")
    page.get_by_role("button", name="Login").click()
    page.get_by_text("Incorrect", exact=False).wait_for(timeout=15_000)
    assert page.get_by_role("tab", name="Helpdesk").count() == 0
    page.goto(live_app.url + "/")
    page.get_by_label("Your question").wait_for()


def test_helpdesk_draft_edited_and_downloaded(live_app: LiveApp, open_tab: Any, tmp_path: Path) -> None:
    page = open_tab().page
    log_in(page, live_app.url, *STAFF)
    page.get_by_label("Citizen's message").fill(
        "Dear Sir or Madam, what salary do I need to get an EU Blue Card? Kind regards, Sam"
    )
    page.get_by_label("friendly").check()
    page.get_by_label("Sign-off").fill("Info Desk")
    page.get_by_role("button", name="Write draft").click()
    draft = page.get_by_label("Draft reply (edit it here before sending)")
    page.wait_for_function(
        "() => document.querySelector('#draft textarea').value.includes('Sources:')", timeout=ANSWER_TIMEOUT_MS
    )
    text = draft.input_value()
    assert text.startswith("Hello,") and "[1]" in text and text.rstrip().endswith("Info Desk")
    assert "eu-blue-card.html" in page.locator("#draft-sources").inner_html()

    assert page.evaluate(LABELLED) == []

    draft.press("Control+End")
    draft.type("\nPS: edited by hand")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy the draft").click()
    page.wait_for_function("() => navigator.clipboard.readText().then(t => t.endsWith('PS: edited by hand'))")
    words = len(page.locator("#draft textarea").input_value().split())
    page.locator("#files-status").get_by_text(f"({words:,} words)").wait_for()  # the downloads follow the edit
    with page.expect_download() as txt:
        page.get_by_role("button", name="Download .txt").click()
    path = tmp_path / "reply.txt"
    txt.value.save_as(path)
    assert path.read_text(encoding="utf-8").rstrip().endswith("PS: edited by hand")
    with page.expect_download() as eml:
        page.get_by_role("button", name="Download .eml").click()
    eml.value.save_as(tmp_path / "reply.eml")
    message: Any = email.message_from_bytes((tmp_path / "reply.eml").read_bytes(), policy=policy.default)
    assert message["Subject"] and "PS: edited by hand" in message.get_content()


def test_an_evaluation_run_from_an_upload(live_app: LiveApp, open_tab: Any, tmp_path: Path) -> None:
    page = open_tab().page
    log_in(page, live_app.url, *STAFF, path="/staff/?tab=evaluate")
    page.get_by_role("tab", name="Evaluate", selected=True).wait_for()
    assert page.evaluate(LABELLED) == []
    qa = write_qa(tmp_path, qa_rows(3, 1))
    page.locator("#qa-file input[type=file]").set_input_files(str(qa))
    page.locator("#qa-file").get_by_text("upload.jsonl").wait_for()
    page.get_by_role("button", name="Run evaluation").click()
    page.locator("#eval-summary").get_by_text("4 questions from upload.jsonl").wait_for(timeout=ANSWER_TIMEOUT_MS * 2)
    assert "page/hit@5" in page.locator("#eval-summary").inner_text()
    assert page.locator("#eval-plots img").count() == 3
    assert "Failures:" in page.locator("#eval-failures").inner_text()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the run (.zip)").click()
    download.value.save_as(tmp_path / "run.zip")
    with zipfile.ZipFile(tmp_path / "run.zip") as z:
        assert {"report.html", "summary.json", "results.jsonl"} <= set(z.namelist())


LABELLED = """() => {
  const unnamed = [];
  for (const el of document.querySelectorAll('input:not([type=hidden]), textarea, select, button')) {
    const style = getComputedStyle(el);
    if (el.offsetParent === null || style.visibility === 'hidden') continue;
    const byLabel = el.labels && [...el.labels].some(l => l.innerText.trim());
    const byAria = (el.getAttribute('aria-label') || '').trim()
      || (el.getAttribute('aria-labelledby') || '').split(' ').some(id => document.getElementById(id)?.innerText.trim());
    const byText = el.tagName === 'BUTTON' && (el.innerText.trim() || el.title.trim());
    if (!(byLabel || byAria || byText)) unnamed.push(el.outerHTML.slice(0, 120));
  }
  return unnamed;
}"""

CONTRAST = """sel => {
  const lum = c => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const background = el => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor;
    if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c; } return 'rgb(255, 255, 255)'; };
  return [...document.querySelectorAll(sel)].filter(el => el.innerText.trim()).map(el => {
    const a = lum(getComputedStyle(el).color), b = lum(background(el));
    return [el.innerText.trim().slice(0, 30), (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]; });
}"""


def test_controls_are_labelled_usable_by_keyboard_and_readable(live_app: LiveApp, open_tab: Any) -> None:
    page = open_tab().page
    page.goto(live_app.url + "/")
    page.get_by_label("Your question").wait_for()
    # The example gallery's buttons exist before their text is rendered: wait for the text, then judge the labels.
    page.wait_for_function(
        "() => [...document.querySelectorAll('button.gallery-item')].every(b => b.innerText.trim())", timeout=20_000
    )
    assert page.evaluate(LABELLED) == []
    page.locator("body").focus()
    for _ in range(40):  # the question box can be reached with the Tab key alone
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('#question') !== null"):
            break
    else:
        pytest.fail("the question box cannot be reached with the Tab key")
    page.keyboard.type(BLUE_CARD)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => !document.querySelector('#sources').innerText.includes('appear here')", timeout=ANSWER_TIMEOUT_MS
    )
    low = [(text, ratio) for text, ratio in page.evaluate(CONTRAST, "#what-this-is p, #sources p, #sources a, .euma-nav a")
           if ratio < 4.5]  # fmt: skip
    assert low == [], f"text below the WCAG AA contrast of 4.5:1: {low}"


def test_usable_on_a_phone_width_screen(live_app: LiveApp, open_tab: Any) -> None:
    page = open_tab(PHONE).page
    page.goto(live_app.url + "/")
    ask(page, BLUE_CARD)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1  # nothing forces sideways scrolling
    for selector in ("#question textarea", "#sources", "[data-testid=bot]"):
        box = page.locator(selector).first.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, selector


FONT = "el => getComputedStyle(el).fontFamily"


def test_bold_and_body_text_share_one_system_font_stack(live_app: LiveApp, open_tab: Any) -> None:
    from webapp.render import FONTS

    page = open_tab().page
    page.goto(live_app.url + "/")
    page.get_by_label("Your question").wait_for()
    fonts = {
        selector: page.locator(selector).first.evaluate(FONT)
        for selector in ("#ask", ".euma-nav h1", "#what-this-is strong", "#what-this-is p", "#question textarea")
    }
    assert set(fonts.values()) == {FONTS}, fonts
    assert page.locator("#ask").evaluate("el => getComputedStyle(el).fontWeight") >= "600"


def test_the_copy_button_copies_the_answer_as_plain_text(live_app: LiveApp, open_tab: Any) -> None:
    page = open_tab().page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(live_app.url + "/")
    url = "https://home-affairs.ec.europa.eu/policies/migration-and-asylum_en"
    ask(page, f"{BLUE_CARD} (see {url})")
    question_link = page.locator("[data-testid=user]").last.get_by_role("link")
    assert question_link.get_attribute("href") == url  # linked once, as typed: no stray backslash
    page.locator("#conversation button[aria-label='Copy message']").last.click()
    page.wait_for_function("() => navigator.clipboard.readText().then(t => t.includes('[1]'))")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("[data-testid=bot]").last.inner_text().strip()
    assert "\\" not in copied and "](" not in copied and "/corpus/pages/" not in copied
    page.locator("#conversation button[aria-label='Copy message']").first.click()
    page.wait_for_function("u => navigator.clipboard.readText().then(t => t.includes(u))", arg=url)
    assert page.evaluate("navigator.clipboard.readText()") == f"{BLUE_CARD} (see {url})"


def test_on_a_phone_the_question_box_is_visible_without_scrolling(live_app: LiveApp, open_tab: Any) -> None:
    page = open_tab(PHONE).page
    page.goto(live_app.url + "/")
    box = page.locator("#question textarea")
    box.wait_for()
    assert page.evaluate("window.scrollY") == 0
    top = box.bounding_box()
    assert top is not None and top["y"] >= 0 and top["y"] + top["height"] <= PHONE["height"]
    note = page.locator("#what-this-is").bounding_box()
    assert note is not None and note["y"] > top["y"]  # the note follows the box on a phone
    desktop = open_tab().page
    desktop.goto(live_app.url + "/")
    desktop.locator("#question textarea").wait_for()
    above = desktop.locator("#what-this-is").bounding_box()
    below = desktop.locator("#question textarea").bounding_box()
    assert above is not None and below is not None and above["y"] < below["y"]  # and leads on a wide screen


def test_the_language_menu_relabels_the_page(live_app: LiveApp, open_tab: Any) -> None:
    page = open_tab().page
    page.goto(live_app.url + "/")
    page.get_by_label("Your question").wait_for()
    page.get_by_label("Language").click()
    page.get_by_role("option", name="Deutsch").click()
    page.get_by_label("Ihre Frage").wait_for(timeout=15_000)
    assert page.get_by_label("Your question").count() == 0


def test_a_corpus_page_is_styled_with_a_link_back_and_runs_no_script(open_tab: Any) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from ingest.sources import CORPUS_DIR
    from tests.app.browser import served
    from webapp.corpus_pages import CorpusPages
    from webapp.render import FONTS

    app = Starlette(routes=[Mount("/corpus/pages", CorpusPages(directory=CORPUS_DIR))])
    tab: Tab = open_tab(PHONE)
    page = tab.page
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    with served(app) as url:
        page.goto(url + "/corpus/pages/eu-blue-card.html#salary-threshold")
        assert page.locator("body").evaluate(FONT) == FONTS  # the style sheet applied under the policy
        assert page.locator("h2").first.evaluate(FONT) == FONTS
        assert page.get_by_role("link", name="Back to the EU Migration Assistant chat").get_attribute("href") == "/"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    assert violations == []


def test_the_first_start_shows_how_far_the_build_has_got_then_answers(
    open_tab: Any, tmp_path: Path, bundled: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from common.settings import Settings
    from tests.app.test_first_start import WAIT_SECONDS, first_start

    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)  # create_app sets it; the session's app keeps its own
    with first_start(Settings(data_dir=tmp_path / "data"), hold_at=(0,)) as start:
        start.startup.held_at(0)
        page = open_tab().page
        page.goto(start.url + "/")
        notice = page.locator("#startup-notice")
        notice.get_by_text("The knowledge base is being built (0 of 2 pages)").wait_for(timeout=30_000)
        box = page.get_by_label("Your question")
        box.fill(BLUE_CARD)
        box.press("Enter")
        reply = page.locator("[data-testid=bot]").last
        reply.get_by_text("The knowledge base is being built (0 of 2 pages)").wait_for(timeout=30_000)
        assert box.input_value() == BLUE_CARD  # kept, to send again
        page.get_by_role("tab", name="About and sources").click()
        assert "being built" in page.locator("#store-overview").inner_text()

        start.startup.go_on(0)
        notice.wait_for(state="hidden", timeout=WAIT_SECONDS * 1000)  # the page saw the store become ready
        page.locator("#store-overview").get_by_text("Pages").first.wait_for(timeout=30_000)
        page.get_by_role("tab", name="Chat").click()
        ask(page, BLUE_CARD)
        assert "[1]" in bot_messages(page)[-1]
