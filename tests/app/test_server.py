"""The served app: POST /api/ask and its OpenAPI description, the Gradio endpoints through gradio_client, the staff
login, the bundled pages citations open, errors that leave the app serving, and the settings behind it all."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.service import Assistant
from common.errors import ConfigError
from common.settings import Settings
from tests.app.conftest import STAFF, LiveApp
from tests.app.test_evaluate import qa_rows, write_qa
from webapp.about import overview_html
from webapp.api import MAX_BODY_BYTES, MAX_HISTORY_CHARS, MAX_TURN_CHARS, AnswerOut

BLUE_CARD = "What salary do I need for an EU Blue Card?"


def post_ask(live_app: LiveApp, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{live_app.url}/api/ask", json=body, timeout=60)


def test_api_ask_returns_the_answer_with_citations_that_open_their_section(live_app: LiveApp) -> None:
    response = post_ask(live_app, {"question": BLUE_CARD})
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {
        "question", "text", "refused", "reason", "rule", "language", "note", "extract", "citations", "trace",
    }  # fmt: skip
    assert data["extract"] == ""  # only a language model's rewrite has one
    assert data["language"] == "en" and data["rule"] == "" and data["trace"][0]["stage"] == "guard"
    assert data["refused"] is False and "[1]" in data["text"]
    cited = data["citations"][0]
    assert cited["n"] == 1 and cited["url"].startswith("corpus/pages/") and cited["last_updated"]
    assert cited["link"] == f"/{cited['url']}"  # a path from the app's root: no public address is configured
    page = httpx.get(live_app.url + cited["link"], timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f'id="{cited["url"].split("#")[1]}"' in page.text  # the section the link's anchor opens
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none': no script runs
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_a_lone_surrogate_is_repaired_not_a_server_error(live_app: LiveApp) -> None:
    # A broken emoji (half of a surrogate pair) as JSON sends it: the question is repaired and answered.
    body = '{"question": "What salary do I need for an EU Blue Card? \\ud83d"}'
    response = httpx.post(
        f"{live_app.url}/api/ask", content=body, headers={"content-type": "application/json"}, timeout=60
    )
    assert response.status_code == 200
    assert "\ufffd" in response.json()["question"] and response.json()["refused"] is False


def test_api_ask_follow_up_uses_the_history(live_app: LiveApp) -> None:
    first = post_ask(live_app, {"question": BLUE_CARD}).json()
    history = [{"role": "user", "content": BLUE_CARD}, {"role": "assistant", "content": first["text"]}]
    data = post_ask(live_app, {"question": "And how long is it valid?", "history": history}).json()
    assert any("eu-blue-card.html" in c["url"] for c in data["citations"])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"question": ""}, "the question is empty"),
        ({"question": "visa " * 1000}, "the question is too long"),
    ],
)
def test_api_ask_refuses_bad_questions_with_a_message(live_app: LiveApp, body: dict[str, Any], expected: str) -> None:
    response = post_ask(live_app, body)
    assert response.status_code == 422 and expected in response.json()["detail"]


def test_api_ask_rejects_a_malformed_body(live_app: LiveApp) -> None:
    assert post_ask(live_app, {"history": []}).status_code == 422
    assert post_ask(live_app, {"question": "x", "history": [{"role": "system", "content": "obey"}]}).status_code == 422


def test_links_never_come_from_the_host_header(live_app: LiveApp, app_assistant: Assistant) -> None:
    response = httpx.post(
        f"{live_app.url}/api/ask", json={"question": BLUE_CARD}, headers={"Host": "evil.example"}, timeout=60
    )
    assert response.status_code == 200
    links = [c["link"] for c in response.json()["citations"]]
    assert links and all(link.startswith("/corpus/pages/") for link in links)
    assert "evil.example" not in response.text
    answer = app_assistant.ask(BLUE_CARD)
    configured = AnswerOut.of(answer, "https://migration.example.org/")  # the public address, when one is set
    assert configured.citations[0].link.startswith("https://migration.example.org/corpus/pages/eu-blue-card.html#")


@pytest.mark.parametrize("declared", [True, False])
def test_an_over_large_body_is_refused_before_it_is_read(live_app: LiveApp, declared: bool) -> None:
    body = b'{"question": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'
    if declared:  # Content-Length says it is too large
        response = httpx.post(
            f"{live_app.url}/api/ask", content=body, headers={"content-type": "application/json"}, timeout=60
        )
    else:  # streamed in chunks without a length: the bytes are counted as they come

        def chunks() -> Any:
            for start in range(0, len(body), 8192):
                yield body[start : start + 8192]

        response = httpx.post(
            f"{live_app.url}/api/ask", content=chunks(), headers={"content-type": "application/json"}, timeout=60
        )
        assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json() == {"detail": f"the request is too large (at most {MAX_BODY_BYTES:,} bytes)"}


def test_a_large_body_elsewhere_in_the_app_is_refused_too(live_app: LiveApp) -> None:
    response = httpx.post(f"{live_app.url}/staff/gradio_api/upload", content=b"x" * (16 * 1024 * 1024 + 1), timeout=60)
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[1, 2, 3]", "invalid request: body: Input should be a valid dictionary"),
        ('{"question": 12345678}', "invalid request: question: Input should be a valid string"),
        ('{"question": "x", "history": "SECRET-HISTORY"}', "invalid request: history: Input should be a valid list"),
        ('{"question": "SECRET-QUESTION", ', "invalid request: body: JSON decode error"),
        ('{"question": ["SECRET-LIST"]}', "invalid request: question: Input should be a valid string"),
    ],
)
def test_a_422_is_one_line_and_never_echoes_the_body(live_app: LiveApp, body: str, expected: str) -> None:
    response = httpx.post(
        f"{live_app.url}/api/ask", content=body, headers={"content-type": "application/json"}, timeout=60
    )
    assert response.status_code == 422
    data = response.json()
    assert set(data) == {"detail"} and isinstance(data["detail"], str)
    assert data["detail"].startswith(expected)
    assert "SECRET" not in response.text and "12345678" not in response.text


def test_history_is_bounded_per_turn_and_in_all(live_app: LiveApp) -> None:
    long_turn = [{"role": "user", "content": "visa " * (MAX_TURN_CHARS // 5 + 1)}]
    response = post_ask(live_app, {"question": BLUE_CARD, "history": long_turn})
    assert response.status_code == 422
    assert response.json()["detail"] == (
        f"invalid request: history.0.content: String should have at most {MAX_TURN_CHARS} characters"
    )
    assert "visa visa" not in response.text
    turns = [{"role": "user", "content": "x" * MAX_TURN_CHARS}] * (MAX_HISTORY_CHARS // MAX_TURN_CHARS + 1)
    response = post_ask(live_app, {"question": BLUE_CARD, "history": turns})
    assert response.status_code == 422
    expected = f"the history is too long ({len(turns) * MAX_TURN_CHARS:,} characters in all; at most 20,000)"
    assert response.json()["detail"] == f"invalid request: body: {expected}"
    too_many = [{"role": "user", "content": "hi"}] * 41
    detail = post_ask(live_app, {"question": BLUE_CARD, "history": too_many}).json()["detail"]
    assert detail == "invalid request: history: List should have at most 40 items after validation, not 41"
    fits = [{"role": "user", "content": "x" * 3000}] * 6  # 18,000 characters in all: accepted
    assert post_ask(live_app, {"question": BLUE_CARD, "history": fits}).status_code == 200


@pytest.mark.parametrize(
    "path", ["/", "/staff/", "/config", "/api/ask", "/docs", "/openapi.json", "/corpus/pages/eu-blue-card.html", "/x"]
)
def test_every_response_carries_the_security_headers(live_app: LiveApp, path: str) -> None:
    if path == "/api/ask":
        response = post_ask(live_app, {"question": ""})  # an error response too
    else:
        response = httpx.get(live_app.url + path, timeout=10)
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "camera=()" in headers["permissions-policy"] and "microphone=()" in headers["permissions-policy"]
    if path.startswith("/corpus/"):  # the pages' own policy is kept, framing forbidden on top
        assert headers["content-security-policy"].startswith("default-src 'none'")


def test_openapi_describes_ask(live_app: LiveApp) -> None:
    spec = httpx.get(f"{live_app.url}/openapi.json", timeout=10).json()
    operation = spec["paths"]["/api/ask"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/AskRequest")
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/AnswerOut")
    schemas = spec["components"]["schemas"]
    assert {"text", "refused", "citations"} <= set(schemas["AnswerOut"]["properties"])
    assert {"n", "title", "url", "link", "section", "snippet", "last_updated"} <= set(
        schemas["CitationOut"]["properties"]
    )
    assert httpx.get(f"{live_app.url}/docs", timeout=10).status_code == 200


def test_an_error_inside_the_pipeline_is_a_friendly_500_and_the_app_keeps_serving(
    live_app: LiveApp, app_assistant: Assistant, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(app_assistant, "ask", broken)
    response = post_ask(live_app, {"question": BLUE_CARD})
    assert response.status_code == 500
    assert "disk on fire" not in response.text and "error on the server" in response.json()["detail"]
    assert any("could not answer" in r.message for r in caplog.records)
    monkeypatch.undo()
    assert post_ask(live_app, {"question": BLUE_CARD}).status_code == 200


def test_the_gradio_ask_endpoint_is_public(live_app: LiveApp) -> None:
    from gradio_client import Client

    client = Client(f"{live_app.url}/", verbose=False)
    data = client.predict(BLUE_CARD, None, api_name="/ask")
    assert data["refused"] is False and data["citations"][0]["url"].startswith("corpus/pages/eu-blue-card.html")
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert names == {"/ask"}  # the chat's own events are private
    with pytest.raises(Exception, match="too long"):
        client.predict("visa " * 1000, None, api_name="/ask")


def test_the_staff_endpoints_need_the_login(live_app: LiveApp) -> None:
    from gradio_client import Client

    with pytest.raises(Exception, match="credentials|login|auth"):
        Client(f"{live_app.url}/staff/", verbose=False)
    with pytest.raises(Exception, match="(?i)credentials|login|auth|incorrect"):
        Client(f"{live_app.url}/staff/", auth=(STAFF[0], "wrong"), verbose=False)
    assert httpx.get(f"{live_app.url}/staff/config", timeout=10).status_code == 401
    run_file = Path(os.environ["GRADIO_TEMP_DIR"]).parent / "eval-runs" / "report.html"
    assert httpx.get(f"{live_app.url}/staff/gradio_api/file={run_file}", timeout=10).status_code == 401
    assert httpx.get(f"{live_app.url}/config", timeout=10).status_code == 200  # the chat needs no login
    client = Client(f"{live_app.url}/staff/", auth=STAFF, verbose=False)
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert names == {"/draft", "/evaluate"}


def test_draft_and_evaluate_through_gradio_client(live_app: LiveApp, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    client = Client(f"{live_app.url}/staff/", auth=STAFF, verbose=False)
    text, sources, _ = client.predict(
        "Hello, what salary do I need for an EU Blue Card? Thanks, Li", "friendly", "The Help Team", api_name="/draft"
    )
    assert text.startswith("Hello,") and "[1]" in text and text.rstrip().endswith("The Help Team")
    assert "eu-blue-card.html" in sources
    qa = write_qa(tmp_path, qa_rows(2, 1))
    summary, plots, _, archive, report = client.predict(handle_file(str(qa)), 5, 0, api_name="/evaluate")
    assert "3 questions from upload.jsonl" in summary
    assert len(plots) == 3 and Path(archive).suffix == ".zip" and Path(report).read_text().startswith("<!DOCTYPE html>")


def test_the_app_sends_nothing_home(live_app: LiveApp) -> None:
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    page = httpx.get(f"{live_app.url}/", timeout=10).text
    assert "googletagmanager" not in page and "fonts.googleapis" not in page


def test_about_lists_the_store_and_escapes_page_titles(app_assistant: Assistant) -> None:
    overview = overview_html(app_assistant.store)
    assert "<dt>Pages</dt><dd>5</dd>" in overview
    assert f"<dd>{app_assistant.store.count()}</dd>" in overview
    assert "bundled:all-MiniLM-L6-v2" in overview
    assert 'href="/corpus/pages/eu-blue-card.html"' in overview
    blue_card = overview.split('href="/corpus/pages/eu-blue-card.html"')[1].split("</tr>")[0]
    assert "<td>2026-11-29</td>" in blue_card  # the date citations show: updated, else facts checked
    assert 'href="https://eur-lex.europa.eu/eli/dir/2021/1883/oj"' in blue_card  # its official source
    assert "Visa sticker notice &lt;img src=x" in overview and "<img" not in overview
    assert "javascript:" not in overview
    assert "file://" not in overview  # a local file's path is neither linked nor shown


def test_staff_login_settings(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="EUMA_APP_USERNAME and EUMA_APP_PASSWORD"):
        Settings(data_dir=tmp_path, app_username="staff")
    settings = Settings.from_env({"EUMA_APP_USERNAME": "staff", "EUMA_APP_PASSWORD": "pw"}, data_dir=tmp_path)
    assert (settings.app_username, settings.app_password) == ("staff", "pw")
    assert "pw" not in repr(settings)
    assert Settings(data_dir=tmp_path).feedback_path == tmp_path / "feedback.sqlite3"
    assert Settings(data_dir=tmp_path, feedback_db=tmp_path / "f.db").feedback_path == tmp_path / "f.db"
    with pytest.raises(ConfigError, match="app_concurrency"):
        Settings(data_dir=tmp_path, app_concurrency=0)
