"""``python app.py``: the README's run command starts the app and serves the pages and the API; bad settings stop it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from common.settings import Settings
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def run_app(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "app.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env
    )


@pytest.mark.slow
def test_python_app_py_serves_the_pages_and_the_api(app_settings: Settings, tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(app_settings.store_path, store)  # a copy: the test process holds the original open
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EUMA_")} | {"EUMA_DATA_DIR": str(tmp_path)}
    log = (tmp_path / "app.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port), "--store", str(store), "--no-ingest"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (tmp_path / "app.log").read_text()
            assert time.monotonic() < deadline, "the app did not start"
            time.sleep(0.5)
        assert httpx.get(f"{base}/", timeout=10).status_code == 200
        assert httpx.get(f"{base}/staff/", timeout=10).status_code == 200
        answer = httpx.post(
            f"{base}/api/ask", json={"question": "How long can the asylum border procedure last?"}, timeout=60
        )
        assert answer.status_code == 200 and answer.json()["citations"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
    assert f"serving on http://127.0.0.1:{port}/" in (tmp_path / "app.log").read_text()


def test_a_bad_setting_stops_the_app_with_one_line(tmp_path: Path) -> None:
    env = dict(os.environ) | {"EUMA_DATA_DIR": str(tmp_path), "EUMA_APP_USERNAME": "staff", "EUMA_APP_PASSWORD": ""}
    result = run_app("--port", "1", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: set both EUMA_APP_USERNAME and EUMA_APP_PASSWORD")


def test_help_lists_the_app_settings() -> None:
    result = run_app("--help")
    assert result.returncode == 0
    assert "--port" in result.stdout and "--feedback-db" in result.stdout and "--concurrency" in result.stdout
