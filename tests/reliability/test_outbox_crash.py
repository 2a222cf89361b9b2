"""``mildpath reminders send`` killed with SIGKILL mid-delivery loses no message and sends at most the one in
flight twice, with the same Message-ID (issue 21, "Background work").

The SMTP server is a real one on loopback (a small socketserver speaking enough SMTP for ``smtplib``). It accepts
the third message, then holds its answer to that connection's QUIT: the command has handed the message over but
not yet recorded it. The test kills the command there, lets the server go on, runs the command again and
checks what the server received and what the outbox says.
"""

from __future__ import annotations

import email
import os
import signal
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from .server import POSTGRES_URL, ROOT, database, environment, mildpath

MESSAGES = 8
HOLD_AT = 3


class Smtp(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.received: list[str] = []  # Message-ID of every message accepted, in order
        self.lock = threading.Lock()
        self.hold_at: int | None = HOLD_AT
        self.holding = threading.Event()
        self.release = threading.Event()


class SmtpHandler(socketserver.StreamRequestHandler):
    server: Smtp

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        self.reply("220 loopback ESMTP")
        accepted_here = 0
        while line := self.rfile.readline():
            verb = line.decode(errors="replace").strip().split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 loopback")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                with self.server.lock:
                    self.server.received.append(email.message_from_bytes(data)["Message-ID"])
                    accepted_here = len(self.server.received)
                self.reply("250 queued")
            elif verb == "QUIT":
                if self.server.hold_at is not None and accepted_here == self.server.hold_at:
                    self.server.holding.set()
                    self.server.release.wait(120)
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip("set MILDPATH_TEST_POSTGRES_URL to test the outbox on PostgreSQL")
    with database(request.param, tmp_path, "i21_outbox_crash") as u:
        yield u


def test_a_delivery_killed_mid_batch_loses_nothing_and_resends_only_the_message_in_flight(url: str, tmp_path: Path):
    smtp = Smtp()
    threading.Thread(target=smtp.serve_forever, daemon=True).start()
    env = {
        **environment(url, tmp_path),
        "MILDPATH_SMTP_HOST": "127.0.0.1",
        "MILDPATH_SMTP_PORT": str(smtp.server_address[1]),
        "MILDPATH_SMTP_FROM": "mildpath@clinic.example.org",
    }
    try:
        assert mildpath(env, "db", "upgrade", timeout=300).returncode == 0
        engine = create_engine(url)
        with engine.begin() as conn:
            for n in range(MESSAGES):
                conn.execute(
                    text(
                        "insert into outbox (kind, recipient_address, subject, body, status, attempts, created_at)"
                        " values ('test', :to, 'Something to look at', 'Please sign in.', 'pending', 0,"
                        " CURRENT_TIMESTAMP)"
                    ),
                    {"to": f"person{n}@example.org"},
                )
        proc = subprocess.Popen(
            [sys.executable, "-m", "mildpath", "reminders", "send"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            assert smtp.holding.wait(180), "the command never reached the third message"
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(60)
        smtp.hold_at = None
        smtp.release.set()
        with smtp.lock:
            before_restart = list(smtp.received)
        assert len(before_restart) == HOLD_AT

        again = mildpath(env, "reminders", "send", timeout=300)
        assert again.returncode == 0, again.stderr
        with engine.connect() as conn:
            rows = conn.execute(text("select id, status from outbox order by id")).all()
        engine.dispose()
    finally:
        smtp.shutdown()
        smtp.server_close()

    ids = [f"<outbox-{row.id}@clinic.example.org>" for row in rows]
    assert [row.status for row in rows] == ["sent"] * MESSAGES
    assert sorted(set(smtp.received)) == sorted(ids), "a message was lost or sent without its stable Message-ID"
    twice = sorted(m for m in set(smtp.received) if smtp.received.count(m) > 1)
    assert twice == [before_restart[-1]], f"only the message in flight at the kill may go twice, not {twice}"
    assert len(smtp.received) == MESSAGES + 1
