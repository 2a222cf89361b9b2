"""A real server (``mildpath serve`` in a subprocess, demo clinic loaded) and real headless Chromium.

Playwright drives Debian's /usr/bin/chromium (it cannot download its own browser here). The browser tests
skip with the reason when Chromium is not installed; CI installs it (.ci/run).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    env: dict[str, str], data: Path, *, port: int | None = None, tries: int = 300
) -> tuple[subprocess.Popen[bytes], str, Any]:
    """A real ``mildpath serve`` on a loopback port (free, unless the caller chose one for its public URL), once
    ``/healthz`` answers: (process, base URL, log file). The caller stops it (terminate, then close the log)."""
    port = port or _free_port()
    log = (data / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "mildpath", "serve", "--port", str(port), "--no-migrate"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(tries):
        try:
            if urllib.request.urlopen(url + "/healthz", timeout=2).status == 200:
                return proc, url, log
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start: " + (data / "server.log").read_text()[-500:])


@pytest.fixture(scope="session")
def live_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The settings the live server runs with, for tests that prepare its data with the CLI."""
    data = tmp_path_factory.mktemp("live")
    return {
        **os.environ,
        "MILDPATH_DATABASE_URL": f"sqlite:///{data / 'live.db'}",
        "MILDPATH_DATA_DIR": str(data),
        "MILDPATH_SECRET_KEY": "e2e-secret-key-long-enough-0123456789abcdef",
    }


@pytest.fixture(scope="session")
def live_server(live_env: dict[str, str]) -> Iterator[str]:
    env = live_env
    data = Path(env["MILDPATH_DATA_DIR"])
    mildpath = [sys.executable, "-m", "mildpath"]
    subprocess.run([*mildpath, "demo"], env=env, check=True, capture_output=True, cwd=ROOT)
    proc, url, log = start_server(env, data)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    """A phone-sized page (iPhone-like viewport, touch)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    pg = context.new_page()
    yield pg
    context.close()


def sign_in(page, base: str, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state("networkidle")
