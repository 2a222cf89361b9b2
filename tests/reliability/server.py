"""The real server for the reliability and log tests: ``mildpath serve`` in its own process group, a database
of its own on SQLite or PostgreSQL, and the plain HTTP client those tests share.

PostgreSQL runs use a schema of their own inside the database named by ``MILDPATH_TEST_POSTGRES_URL``
(``search_path`` set through the connection's ``options``), dropped afterwards, so they never touch the
``public`` schema the rest of the suite resets.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("MILDPATH_TEST_POSTGRES_URL", "")
SECRET = "reliability-secret-key-long-enough-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


@contextlib.contextmanager
def database(backend: str, tmp: Path, name: str) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file under ``tmp`` or a PostgreSQL schema called ``name``."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / (name + '.db')}"
        return
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield with_search_path(POSTGRES_URL, name)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        engine.dispose()


def environment(url: str, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MILDPATH_DATABASE_URL": url,
        "MILDPATH_DATA_DIR": str(data_dir),
        "MILDPATH_SECRET_KEY": SECRET,
        "PYTHONUNBUFFERED": "1",
    }


def mildpath(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a ``mildpath`` command to completion (stdout and stderr captured)."""
    return subprocess.run(
        [sys.executable, "-m", "mildpath", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Server:
    """``mildpath serve`` as a subprocess in a new session (its own process group, workers included)."""

    env: dict[str, str]
    log: Path
    workers: int = 1
    port: int = 0
    extra: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Server:
        self.port = self.port or free_port()
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "mildpath",
                    "serve",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                    "--no-migrate",
                    *self.extra,
                ],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the server did not answer /healthz in {timeout} s: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL the whole process group: the supervisor and every worker die at once, mid-request."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        """A graceful stop (SIGTERM to the group), then SIGKILL if it lingers."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None
