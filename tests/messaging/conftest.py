"""The stand-in SMS gateway (a real HTTP server in its own process, tests/messaging/sms_gateway.py)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

TOKEN = "gateway-test-token"


@dataclass
class Gateway:
    url: str
    base: str

    def plan(self, *steps: str) -> None:
        httpx.post(self.base + "/plan", json=list(steps), timeout=30).raise_for_status()

    def state(self) -> dict:  # type: ignore[type-arg]
        return httpx.get(self.base + "/state", timeout=30).json()  # type: ignore[no-any-return]


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    port_file = tmp_path / "port"
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("sms_gateway.py")), str(port_file), TOKEN])
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the stand-in SMS gateway did not start")
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port_file.read_text()}"
        yield Gateway(url=base + "/messages", base=base)
    finally:
        proc.kill()
        proc.wait(timeout=30)
