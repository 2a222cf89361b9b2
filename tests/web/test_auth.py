"""Login throttling, session rotation and expiry, bearer tokens stored as digests."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from tests.helpers import csrf_from, login

from mildpath.services import auth
from mildpath.store.models import ApiToken, WebSession


def _attempt(client, email, password):
    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_from(page.text)})


def test_ten_failures_for_one_email_and_address_answer_429_with_a_growing_delay(client, dr_alice):
    for _ in range(10):
        assert _attempt(client, dr_alice.email, "wrong-password-xyz").status_code == 401
    blocked = _attempt(client, dr_alice.email, dr_alice.password)
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text
    first_wait = int(blocked.headers["retry-after"])
    again = _attempt(client, dr_alice.email, "wrong-password-xyz")
    # Refused while blocked: not counted, so the block is not extended (contracts §7 as amended, issue 21).
    assert again.status_code == 429 and 0 < int(again.headers["retry-after"]) <= first_wait


def test_unknown_emails_are_throttled_too(client):
    for _ in range(10):
        _attempt(client, "nobody@example.org", "wrong-password-xyz")
    assert _attempt(client, "nobody@example.org", "wrong-password-xyz").status_code == 429


def test_throttling_one_pair_does_not_lock_the_account_from_elsewhere(db, dr_alice):
    now = auth.utcnow()
    for _ in range(10):
        auth.note_attempt(db, dr_alice.email, "10.0.0.1", False, now)
    assert not auth.check_throttle(db, dr_alice.email, "10.0.0.1", now).allowed
    assert auth.check_throttle(db, dr_alice.email, "10.0.0.2", now).allowed


def test_spraying_many_emails_from_one_address_is_stopped(db):
    now = auth.utcnow()
    for i in range(auth.ADDRESS_LIMIT):
        auth.note_attempt(db, f"user{i}@example.org", "10.9.9.9", False, now)
    assert not auth.check_throttle(db, "fresh@example.org", "10.9.9.9", now).allowed


def test_login_rotates_the_session_value(client, dr_alice):
    login(client, dr_alice)
    first = client.cookies.get("mp_session")
    login(client, dr_alice)
    assert client.cookies.get("mp_session") != first


def test_an_idle_session_expires(client, db, dr_alice, settings):
    login(client, dr_alice)
    stale = auth.utcnow() - timedelta(minutes=settings.session_idle_minutes + 1)
    db.execute(update(WebSession).where(WebSession.user_id == dr_alice.user_id).values(last_seen_at=stale))
    db.commit()
    assert client.get("/patients").status_code == 303


def test_a_session_expires_after_its_absolute_lifetime_even_when_active(client, db, dr_alice, settings):
    login(client, dr_alice)
    old = auth.utcnow() - timedelta(hours=settings.session_absolute_hours, minutes=1)
    db.execute(update(WebSession).where(WebSession.user_id == dr_alice.user_id).values(created_at=old))
    db.commit()
    assert client.get("/patients").status_code == 303


def test_api_tokens_are_stored_only_as_sha256_digests(db, dr_alice):
    digests = db.scalars(select(ApiToken.digest).where(ApiToken.user_id == dr_alice.user_id)).all()
    assert auth.digest(dr_alice.token) in digests
    assert dr_alice.token not in digests


def test_passwords_are_argon2_hashes_and_short_ones_are_refused():
    import pytest

    from mildpath.domain.errors import InvalidInput

    assert auth.hash_password("long-enough-password").startswith("$argon2id$")
    with pytest.raises(InvalidInput):
        auth.hash_password("short")


def test_the_session_cookie_is_httponly_and_samesite(client, dr_alice):
    page = client.get("/login")
    resp = client.post(
        "/login", data={"email": dr_alice.email, "password": dr_alice.password, "csrf_token": csrf_from(page.text)}
    )
    cookie = resp.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_the_login_form_does_not_redirect_off_site(client, dr_alice):
    page = client.get("/login")
    resp = client.post(
        "/login",
        data={
            "email": dr_alice.email,
            "password": dr_alice.password,
            "csrf_token": csrf_from(page.text),
            "next": "//evil.example/x",
        },
    )
    assert resp.headers["location"] == "/patients"
