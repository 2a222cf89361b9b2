"""Issue 21, item 6: login throttling per contracts §7 as amended, walked through with an injected clock.

A block of ``MILDPATH_LOGIN_BLOCK_SECONDS`` (30) after the 10th failure for one (email, address) within 15
minutes, doubling with each failure after a block, capped at ``MILDPATH_LOGIN_BLOCK_MAX_SECONDS`` (900);
``Retry-After`` is the true remaining time; refused attempts do not extend the block; the right password works
once it has passed; a success resets; a higher per-address limit (50) stops spraying without locking every
user behind one NAT; an admin lifts a block. The clock is the app's (``app.state.clock``), never a sleep.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mildpath.services import auth
from mildpath.services.access import Actor
from tests.helpers import csrf_from

WRONG = "wrong-password-xyz"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(app) -> Clock:  # type: ignore[no-untyped-def]
    c = Clock()
    app.state.clock = c
    return c


def attempt(client, email: str, password: str, address: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"X-Forwarded-For": address} if address else {}
    page = client.get("/login")
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_from(page.text)}, headers=headers
    )


def fail_ten_times(client, email: str) -> None:  # type: ignore[no-untyped-def]
    for i in range(10):
        assert attempt(client, email, WRONG).status_code == 401, i


def test_the_block_lasts_exactly_its_time_and_the_right_password_works_after_it(client, clock, dr_alice):
    fail_ten_times(client, dr_alice.email)
    blocked = attempt(client, dr_alice.email, dr_alice.password)
    assert blocked.status_code == 429 and blocked.headers["retry-after"] == "30"
    clock.advance(10)
    assert attempt(client, dr_alice.email, dr_alice.password).headers["retry-after"] == "20"  # the true time
    clock.advance(19)
    last = attempt(client, dr_alice.email, WRONG)  # refused while blocked: not counted, no extension
    assert last.status_code == 429 and last.headers["retry-after"] == "1"
    clock.advance(1)
    assert attempt(client, dr_alice.email, dr_alice.password).status_code == 303


def test_each_failure_after_a_block_doubles_it_up_to_the_cap(client, clock, dr_alice):
    fail_ten_times(client, dr_alice.email)
    waits = []
    for _ in range(7):
        refused = attempt(client, dr_alice.email, WRONG)
        assert refused.status_code == 429
        wait = int(refused.headers["retry-after"])
        waits.append(wait)
        clock.advance(wait)
        assert attempt(client, dr_alice.email, WRONG).status_code == 401  # the block has passed: tried, failed
    assert waits == [30, 60, 120, 240, 480, 900, 900]
    # and still the right password works once the (capped) block has passed
    clock.advance(int(attempt(client, dr_alice.email, WRONG).headers["retry-after"]))
    assert attempt(client, dr_alice.email, dr_alice.password).status_code == 303


def test_both_block_lengths_come_from_the_settings(client_with, world, session_factory, dr_alice):
    c = client_with(login_block_seconds=5, login_block_max_seconds=12)
    clock = Clock()
    c.app.state.clock = clock
    fail_ten_times(c, dr_alice.email)
    waits = []
    for _ in range(4):
        wait = int(attempt(c, dr_alice.email, WRONG).headers["retry-after"])
        waits.append(wait)
        clock.advance(wait)
        assert attempt(c, dr_alice.email, WRONG).status_code == 401
    assert waits == [5, 10, 12, 12]


def test_a_success_resets_and_a_quiet_quarter_hour_forgets(client, clock, dr_alice):
    fail_ten_times(client, dr_alice.email)
    clock.advance(30)
    assert attempt(client, dr_alice.email, dr_alice.password).status_code == 303
    for i in range(9):  # a fresh count: nine mistakes are allowed again
        assert attempt(client, dr_alice.email, WRONG).status_code == 401, i
    assert attempt(client, dr_alice.email, dr_alice.password).status_code == 303
    fail_ten_times(client, dr_alice.email)
    clock.advance(30 + 15 * 60 + 1)  # the block ended more than 15 minutes ago and the failures left the window
    assert attempt(client, dr_alice.email, WRONG).status_code == 401
    assert attempt(client, dr_alice.email, dr_alice.password).status_code == 303


def test_one_nat_address_does_not_lock_out_a_clinic(client_with, personas):
    """Many users behind one address each mistyping a few times are not blocked; spraying from it is."""
    c = client_with(trusted_proxies="testclient")
    c.app.state.clock = Clock()
    users = list(personas.values())[:5]
    for p in users:  # 5 users x 9 failures = 45 < the per-address limit of 50
        for _ in range(9):
            assert attempt(c, p.email, WRONG, "203.0.113.7").status_code == 401
    for p in users:
        assert attempt(c, p.email, p.password, "203.0.113.7").status_code == 303, p.name


def test_spraying_many_emails_from_one_address_is_blocked_there_only(client_with, dr_alice):
    c = client_with(trusted_proxies="testclient")
    c.app.state.clock = Clock()
    for i in range(auth.ADDRESS_LIMIT):
        assert attempt(c, f"spray{i}@example.org", WRONG, "198.51.100.9").status_code == 401
    assert attempt(c, dr_alice.email, dr_alice.password, "198.51.100.9").status_code == 429
    assert attempt(c, dr_alice.email, dr_alice.password, "198.51.100.10").status_code == 303


def test_an_admin_lifts_a_block(client, clock, db, dr_alice):
    fail_ten_times(client, dr_alice.email)
    assert attempt(client, dr_alice.email, dr_alice.password).status_code == 429
    assert auth.unblock(db, Actor.system("tests"), dr_alice.email) == 1
    db.flush()
    assert attempt(client, dr_alice.email, dr_alice.password).status_code == 303


def test_a_race_of_failures_never_errors(db):
    """Two failures noted for one pair in the same transaction (the upsert path) raise nothing."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    for _ in range(12):
        auth.note_attempt(db, "race@example.org", "192.0.2.1", False, now)
    assert not auth.check_throttle(db, "race@example.org", "192.0.2.1", now).allowed
