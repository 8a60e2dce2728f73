"""The Gradio pages: ``public_blocks`` (Chat, About) and ``staff_blocks`` (Helpdesk, Evaluate).

Only layout and wiring live here; every handler is a plain method of ``Chat``, ``Helpdesk`` or ``Evaluation``.
The API endpoints are named ``ask`` (public), ``draft`` and ``evaluate`` (staff); the other events are private.
While the store is still being built (``waiting`` returns a notice), both pages show the notice at the top, kept
up to date until the assistant is ready, and every handler answers with it instead of asking the assistant.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from assistant import messages
from assistant.conversation import Turn
from assistant.errors import QuestionError
from assistant.language import detect
from assistant.service import Assistant
from common.settings import TONES, Settings
from webapp import render
from webapp.api import SERVER_ERROR, AnswerOut
from webapp.chat import EXAMPLES, OFFICIAL_HELP, Chat, ChatUpdate, Conversation
from webapp.evaluate import Evaluation
from webapp.feedback import MAX_COMMENT_CHARS
from webapp.helpdesk import Helpdesk

log = logging.getLogger(__name__)

# What to say, in a language, instead of answering while the store is built; None once ready.
Waiting = Callable[[str], str | None]
NOTICE_POLL_SECONDS = 2.0  # how often an open page asks whether the store is ready yet
TITLE = "EU Migration Assistant"
PORTAL = "https://immigration-portal.ec.europa.eu/"
NOTE = (
    "**What this is.** An information service that answers questions about EU migration and asylum policy from "
    "official EU sources, with a numbered citation behind every sentence. It gives general information, **not legal "
    "advice**, and can be wrong or out of date: the official sources prevail, and the national authorities decide "
    f"individual cases. **Official help:** the [EU Immigration Portal]({PORTAL}) and the immigration or asylum "
    "authority of the EU country concerned. Do not type personal details such as names or case numbers."
)
ABOUT = (
    "The assistant searches the pages listed below, written from official EU sources (EUR-Lex, the European "
    "Commission, EU agencies), and answers only with sentences it can check against them; when they do not hold "
    "the answer, it says so and points to the official channels. It runs on this server: questions are not sent "
    "anywhere else. Ratings given with the thumbs buttons are stored on this server with the question, the answer "
    "and its sources, and nothing about who gave them (no IP address, no account, only the date)."
)
# The theme's own face has a semibold cut with few glyphs, so bold text fell back to another typeface mid-page: the
# system's sans-serif, with every weight and script, is used for all text instead (nothing is downloaded).
CSS = (
    (
        ":root, .gradio-container { --font: FONTS !important; }\n"
        "body, .gradio-container, .gradio-container button, .gradio-container input, .gradio-container textarea,\n"
        ".gradio-container select, .gradio-container h1, .gradio-container h2, .gradio-container h3,\n"
        ".gradio-container .prose { font-family: FONTS !important; }\n"
    ).replace("FONTS", render.FONTS)
    + """
@media (max-width: 640px) {
  /* On a phone the question box comes first: the note, the examples and the feedback follow the Ask button. */
  #chat-main > #what-this-is { order: 10; }
  #chat-main > #chat-examples { order: 11; }
  #chat-main > .euma-feedback, #chat-main > #feedback-status { order: 12; }
  #conversation { height: 320px !important; max-height: 320px; }
}
.euma-nav { display: flex; flex-wrap: wrap; gap: 0.4rem 1.2rem; align-items: baseline; margin: 0 0 0.5rem 0; }
.euma-nav h1 { font-size: 1.5rem; margin: 0 1rem 0 0; }
.euma-nav a, .euma-sources a, .euma-about a { color: #1d4ed8; text-decoration: underline; }
.dark .euma-nav a, .dark .euma-sources a, .dark .euma-about a { color: #93c5fd; }
.euma-panel-title { font-size: 1.15rem; margin: 0 0 0.5rem 0; }
.euma-sources ol { padding-left: 1.2rem; margin: 0; }
.euma-source { margin: 0 0 0.9rem 0; }
.euma-source p { display: block; margin: 0.15rem 0; }
.euma-source-title { font-weight: 600; }
.euma-source-section, .euma-source-meta { font-size: 0.92rem; }
.euma-snippet { margin: 0.3rem 0; padding: 0 0 0 0.6rem; border-left: 3px solid #6b7280; }
.euma-error { color: #b91c1c; font-weight: 600; }
.dark .euma-error { color: #fca5a5; }
.euma-eval table, .euma-about table { border-collapse: collapse; margin: 0.4rem 0 1rem 0; }
.euma-eval th, .euma-eval td, .euma-about th, .euma-about td {
  border: 1px solid #9ca3af; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
.euma-eval td.num, .euma-about td.num { text-align: right; font-variant-numeric: tabular-nums; }
.euma-about dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
.euma-about dt { font-weight: 600; }
.euma-about dd { margin: 0; }
#startup-notice p { font-weight: 600; margin: 0 0 0.5rem 0; }
#eval-plots .thumbnail-item { aspect-ratio: auto; height: auto; }
#eval-plots .thumbnail-item img { height: auto; max-height: 420px; }
a:focus-visible, button:focus-visible, input:focus-visible, textarea:focus-visible, [role="tab"]:focus-visible {
  outline: 3px solid #1d4ed8 !important; outline-offset: 2px; }
"""
)


COPY_JS = """(text) => {
  if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text); }
  else { const box = document.querySelector('#draft textarea'); box.select(); document.execCommand('copy'); }
}"""


# The chat's copy buttons would copy a message's Markdown source, escapes and link targets included. This copies what
# the message shows instead: its text with the [n] markers, as rendered. A click on a copy button in the conversation
# notes the message (capture phase, before Gradio's own handler); Gradio then writes to the clipboard through
# navigator.clipboard.writeText, or, outside a secure context, through a "copy" event: either way the rendered text
# is what is written.
COPY_PLAIN_JS = """
if (!window.eumaPlainCopy) {
  window.eumaPlainCopy = true;
  let pending = null;
  const shown = (button) => {
    let row = button.closest('.message-row');
    for (let el = button.closest('.message-buttons'); !row && el; el = el.previousElementSibling) {
      if (el.classList.contains('message-row')) row = el;
    }
    const message = row && row.querySelector('[data-testid=bot], [data-testid=user]');
    return message ? message.innerText.replace(/\\n{3,}/g, '\\n\\n').trim() : null;
  };
  document.addEventListener('click', (event) => {
    const button = event.target.closest && event.target.closest('#conversation button');
    pending = button && /copy/i.test(button.getAttribute('aria-label') || button.title || '') ? shown(button) : null;
    if (pending !== null) setTimeout(() => { pending = null; }, 1000);
  }, true);
  if (navigator.clipboard && navigator.clipboard.writeText) {
    const write = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = (text) => {
      const plain = pending; pending = null;
      return write(plain !== null ? plain : text);
    };
  }
  document.addEventListener('copy', (event) => {
    if (pending === null || !event.clipboardData) return;
    event.clipboardData.setData('text/plain', pending); pending = null; event.preventDefault();
  }, true);
}
"""


def nav_html(*, staff: bool, staff_login: bool) -> str:
    """The page heading and the link to the other half of the app (a separate app with its own login)."""
    if staff:
        link = '<a href="/">Public chat and sources</a>'
        title = f"{TITLE}: helpdesk and evaluation"
    else:
        lock = ", login required" if staff_login else ""
        link = f'<a href="/staff/">Helpdesk and evaluation (for staff{lock})</a>'
        title = TITLE
    return f'<nav class="euma-nav" aria-label="Site"><h1>{render.e(title)}</h1>{link}</nav>'


def _tab_from_query(tabs: tuple[str, ...]) -> Callable[[gr.Request], Any]:
    def select(request: gr.Request) -> Any:
        wanted = request.query_params.get("tab", "") if request is not None else ""
        return gr.Tabs(selected=wanted if wanted in tabs else tabs[0])

    return select


def ready(language: str = "en") -> str | None:
    """The default ``waiting``: the assistant answers from the start."""
    return None


def notice_html(notice: str | None) -> Any:
    """The notice at the top of a page while the store is being built, hidden once it is ready."""
    return gr.HTML(render.message_html(notice) if notice else "", visible=notice is not None)


def chat_turn(chat: Chat, waiting: Waiting) -> Callable[..., Iterator[ChatUpdate]]:
    """The chat's turn; while the store is being built, the question with the notice as the reply, the question
    left in the box to send again, and nothing of it in the turns the assistant reads."""

    def turn(question: str, conversation: Conversation | None, language: str = "") -> Iterator[ChatUpdate]:
        notice = waiting(language or detect(question or "").code)
        if notice is None or not (question or "").strip():
            yield from chat.respond(question, conversation, language)
            return
        conv = conversation if conversation is not None else Conversation()
        conv.shown = [
            *conv.shown,
            {"role": "user", "content": render.question_md(question)},
            {"role": "assistant", "content": render.text_md(notice)},
        ]
        yield conv.shown, question, conv, render.sources_html(None)

    return turn


def language_choices() -> list[tuple[str, str]]:
    """The languages the assistant speaks, by their own names."""
    return [(messages.language_name(code), code) for code in messages.languages()]


def public_blocks(
    chat: Chat, assistant: Assistant, about: Callable[[], str], *, staff_login: bool, waiting: Waiting = ready
) -> gr.Blocks:
    """Chat and About, open to everyone, and the ``ask`` API endpoint."""
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.HTML(nav_html(staff=False, staff_login=staff_login), js_on_load=COPY_PLAIN_JS)
        notice = gr.HTML(visible=False, elem_id="startup-notice")
        poll = gr.Timer(NOTICE_POLL_SECONDS, active=False)
        with gr.Tabs(selected="chat") as tabs:
            with gr.Tab("Chat", id="chat"):
                language = gr.Dropdown(
                    choices=[("Automatic (the question's language)", ""), *language_choices()],
                    value="",
                    label="Language",
                    elem_id="language",
                    scale=0,
                    min_width=220,
                )
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300, elem_id="chat-main"):
                        note = gr.Markdown(NOTE, elem_id="what-this-is")
                        chatbot = gr.Chatbot(
                            label="Conversation",
                            height=460,
                            buttons=["copy"],
                            feedback_options=None,
                            latex_delimiters=[],
                            sanitize_html=True,
                            elem_id="conversation",
                        )
                        question = gr.Textbox(
                            label="Your question",
                            placeholder="Ask about visas, work permits, asylum, family reunification…",
                            lines=1,
                            max_lines=6,
                            elem_id="question",
                        )
                        with gr.Row():
                            ask = gr.Button("Ask", variant="primary", elem_id="ask")
                            new = gr.Button("New chat", variant="secondary", elem_id="new-chat")
                        examples = gr.Examples(
                            [[q] for q in EXAMPLES],
                            inputs=[question],
                            label="Example questions",
                            api_visibility="private",
                            elem_id="chat-examples",
                        )
                        with gr.Group(elem_classes="euma-feedback"):
                            comment = gr.Textbox(
                                label="Was the last answer helpful? Comment (optional)",
                                info=messages.text("ui_feedback_privacy"),
                                max_length=MAX_COMMENT_CHARS,
                                elem_id="feedback-comment",
                            )
                            with gr.Row():
                                up = gr.Button("👍 Helpful", size="sm", elem_id="rate-up")
                                down = gr.Button("👎 Not helpful", size="sm", elem_id="rate-down")
                        feedback_status = gr.HTML(elem_id="feedback-status")
                    with gr.Column(scale=2, min_width=260):
                        sources = gr.HTML(render.sources_html(None), elem_id="sources")
            with gr.Tab("About and sources", id="about"):
                gr.Markdown(ABOUT + "\n\n" + OFFICIAL_HELP)
                overview = gr.HTML(elem_id="store-overview")
        state = gr.State(Conversation())

        turn: dict[str, Any] = {
            "fn": chat_turn(chat, waiting),
            "inputs": [question, state, language],
            "outputs": [chatbot, question, state, sources],
        }

        def relabel(code: str) -> tuple[Any, ...]:
            """The page's own words in the chosen language."""
            say = messages.text
            lang = code or "en"
            return (
                gr.Markdown(say("note", lang, portal=PORTAL)),
                gr.Textbox(label=say("ui_question", lang), placeholder=say("ui_placeholder", lang)),
                gr.Dataset(samples=[[q] for q in messages.examples(lang)], label=say("ui_examples", lang)),
                gr.Textbox(label=say("ui_feedback", lang), info=say("ui_feedback_privacy", lang)),
                gr.Button(say("ui_new_chat", lang)),
            )

        language.change(
            relabel, [language], [note, question, examples.dataset, comment, new], api_visibility="private", queue=False
        )
        question.submit(**turn, api_visibility="private")
        ask.click(**turn, api_visibility="private")
        examples.load_input_event.then(**turn, api_visibility="private")
        reset: dict[str, Any] = {
            "fn": chat.new_chat,
            "outputs": [chatbot, question, state, sources, comment, feedback_status],
        }
        new.click(**reset, api_visibility="private", queue=False)
        chatbot.clear(**reset, api_visibility="private", queue=False)  # the chat's own clear button
        up.click(chat.rate_up, [state, comment], [feedback_status, state], api_visibility="private")
        down.click(chat.rate_down, [state, comment], [feedback_status, state], api_visibility="private")

        def ask_api(question: str, history: list[dict[str, str]] | None = None) -> dict[str, Any]:
            """Answer a question (with earlier turns, each {"role": "user"|"assistant", "content": ...})."""
            turns = [Turn(str(t.get("role", "")), str(t.get("content", ""))) for t in history or []]
            if (notice := waiting(detect(question or "").code)) is not None:
                raise gr.Error(notice)
            try:
                answer = assistant.ask(question, history=turns)
            except QuestionError as exc:
                raise gr.Error(str(exc)) from None
            except Exception:
                log.exception("the ask endpoint could not answer a question")
                raise gr.Error(SERVER_ERROR) from None
            return AnswerOut.of(answer).model_dump()

        gr.api(ask_api, api_name="ask")

        def startup_status(language: str = "") -> tuple[Any, Any, str]:
            """The notice and the page's figures: the notice until the store is ready, then the store's overview."""
            now = waiting(language or "en")
            shown = about() if now is None else render.message_html(now)
            return notice_html(now), gr.Timer(active=now is not None), shown

        demo.load(_tab_from_query(("chat", "about")), None, tabs, api_visibility="private", queue=False)
        demo.load(startup_status, [language], [notice, poll, overview], api_visibility="private")
        poll.tick(startup_status, [language], [notice, poll, overview], api_visibility="private")
    return demo


def staff_blocks(
    helpdesk: Helpdesk, evaluation: Evaluation, settings: Settings, *, staff_login: bool, waiting: Waiting = ready
) -> gr.Blocks:
    """Helpdesk and Evaluate, and the ``draft`` and ``evaluate`` API endpoints."""
    with gr.Blocks(title=f"{TITLE}: helpdesk and evaluation", analytics_enabled=False) as demo:
        gr.HTML(nav_html(staff=True, staff_login=staff_login))
        notice = gr.HTML(visible=False, elem_id="startup-notice")
        poll = gr.Timer(NOTICE_POLL_SECONDS, active=False)
        with gr.Tabs(selected="helpdesk") as tabs:
            with gr.Tab("Helpdesk", id="helpdesk"):
                gr.Markdown(
                    "Paste a citizen's message to get a draft reply grounded in the sources, with numbered citations "
                    "and a list of sources. Check and edit the draft, then copy it or download it as a text file or "
                    "an e-mail draft (.eml)."
                )
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=300):
                        message = gr.Textbox(
                            label="Citizen's message", lines=8, max_lines=30, elem_id="citizen-message"
                        )
                        with gr.Row():
                            tone = gr.Radio(list(TONES), value=settings.draft_tone, label="Tone", elem_id="tone")
                            signoff = gr.Textbox(label="Sign-off", value=settings.draft_signoff, elem_id="signoff")
                        write = gr.Button("Write draft", variant="primary", elem_id="write-draft")
                        status = gr.HTML(label="Status", elem_id="draft-status")
                    with gr.Column(scale=1, min_width=300):
                        draft = gr.Textbox(
                            label="Draft reply (edit it here before sending)",
                            lines=14,
                            max_lines=40,
                            interactive=True,
                            buttons=[],
                            elem_id="draft",
                        )  # no built-in copy button: inside the label, it would take the label from the text box
                        with gr.Row():
                            copy = gr.Button("Copy the draft", elem_id="copy-draft")
                            txt = gr.DownloadButton("Download .txt", elem_id="download-txt")
                            eml = gr.DownloadButton("Download .eml", elem_id="download-eml")
                        files_status = gr.HTML(elem_id="files-status")
                        draft_sources = gr.HTML(label="Sources", elem_id="draft-sources")
            with gr.Tab("Evaluate", id="evaluate"):
                gr.Markdown(
                    "Upload a QA file in the evaluation format (`docs/evaluation.md`: one JSON object per line with "
                    "`question`, `reference_answer`, `answer_keys`, `reference_sources`, `should_refuse`, `tags`; "
                    "or the same columns as CSV). Every question is answered and scored; the whole run can be "
                    "downloaded."
                )
                with gr.Row():
                    qa_file = gr.File(
                        label="QA file (.jsonl, .json or .csv)",
                        file_types=[".jsonl", ".json", ".csv"],
                        type="filepath",
                        elem_id="qa-file",
                    )
                    with gr.Column():
                        k = gr.Number(label="k (retrieval cut-off)", value=5, precision=0, minimum=1, maximum=50)
                        limit = gr.Number(label="Questions to run (0: all)", value=0, precision=0, minimum=0)
                        run = gr.Button("Run evaluation", variant="primary", elem_id="run-evaluation")
                summary = gr.HTML(label="Summary", elem_id="eval-summary")
                plots = gr.Gallery(label="Plots", columns=1, height="auto", object_fit="contain", elem_id="eval-plots")
                failures = gr.HTML(label="Failures", elem_id="eval-failures")
                with gr.Row():
                    archive = gr.DownloadButton("Download the run (.zip)", elem_id="download-run")
                    report = gr.File(label="Report (HTML)", elem_id="eval-report")

        def write_draft(message: str, tone: str, signoff: str) -> tuple[str, str, str]:
            if (now := waiting("en")) is not None:
                return "", render.sources_list_html([]), render.message_html(now)
            return helpdesk.draft(message, tone, signoff)

        write.click(write_draft, [message, tone, signoff], [draft, draft_sources, status], api_name="draft")
        copy.click(None, draft, None, js=COPY_JS)
        draft.change(
            helpdesk.files,
            draft,
            [txt, eml, files_status],
            api_visibility="private",
            show_progress="hidden",
            trigger_mode="always_last",
        )

        def evaluate(
            qa_file: str | None,
            k: float | None,
            limit: float | None,
            progress: gr.Progress = gr.Progress(),  # noqa: B008 - how Gradio asks for a progress bar
        ) -> tuple[str, list[tuple[str, str]], str, str | None, str | None]:
            if (now := waiting("en")) is not None:
                return render.message_html(now), [], "", None, None
            return evaluation.handle(qa_file, k, limit, progress)

        run.click(
            evaluate, [qa_file, k, limit], [summary, plots, failures, archive, report], api_name="evaluate",
            concurrency_limit=1,
        )  # fmt: skip

        def startup_status() -> tuple[Any, Any]:
            now = waiting("en")
            return notice_html(now), gr.Timer(active=now is not None)

        demo.load(_tab_from_query(("helpdesk", "evaluate")), None, tabs, api_visibility="private", queue=False)
        demo.load(startup_status, None, [notice, poll], api_visibility="private", queue=False)
        poll.tick(startup_status, None, [notice, poll], api_visibility="private", queue=False)
    return demo
