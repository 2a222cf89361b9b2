"""Staff second factor (issue 20): TOTP required for admins (and for a clinic's clinicians when it says so),
enrolment with a QR code, recovery codes, no replay, throttled codes; patients are never asked."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from mildpath.store.mfa import UserMfa
from mildpath.store.models import Clinic
from tests.helpers import csrf_from, login


def _password(client, persona):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    return client.post("/login", data={"email": persona.email, "password": persona.password,
                                       "csrf_token": csrf_from(page.text), "next": "/patients"})


def _code(client, code: str):  # type: ignore[no-untyped-def]
    page = client.get("/login/mfa")
    return client.post("/login/mfa", data={"code": code, "csrf_token": csrf_from(page.text), "next": "/patients"})


def test_an_admin_signs_in_with_password_then_code(client, admin_ada):  # type: ignore[no-untyped-def]
    first = _password(client, admin_ada)
    assert first.status_code == 303 and first.headers["location"].startswith("/login/mfa")
    assert client.get("/patients").status_code == 303  # the password alone opens nothing
    assert _code(client, "000000").status_code == 401
    done = _code(client, pyotp.TOTP(admin_ada.totp_secret).now())
    assert done.status_code == 303 and done.headers["location"] == "/patients"
    assert client.get("/patients").status_code == 200


def test_a_code_is_never_accepted_twice(client, admin_ada):  # type: ignore[no-untyped-def]
    totp = pyotp.TOTP(admin_ada.totp_secret)
    code = totp.at(time.time())
    _password(client, admin_ada)
    first = _code(client, code)
    if first.status_code != 303:  # the step turned between computing and checking
        first = _code(client, totp.at(time.time()))
        code = totp.at(time.time())
    assert first.status_code == 303
    client.cookies.clear()
    _password(client, admin_ada)
    assert _code(client, code).status_code == 401


def test_a_recovery_code_works_once(client, db, admin_ada):  # type: ignore[no-untyped-def]
    import hashlib

    row = db.scalar(select(UserMfa).where(UserMfa.user_id == admin_ada.user_id))
    row.recovery_digests = [hashlib.sha256(b"abc123def456").hexdigest()]
    db.flush()
    _password(client, admin_ada)
    assert _code(client, "abc123-def456").status_code == 303
    client.cookies.clear()
    _password(client, admin_ada)
    assert _code(client, "abc123-def456").status_code == 401


def test_wrong_codes_are_throttled(client, admin_ada):  # type: ignore[no-untyped-def]
    _password(client, admin_ada)
    codes = [_code(client, "123456").status_code for _ in range(12)]
    assert codes[:10] == [401] * 10 and codes[-1] == 429


def test_an_admin_without_a_second_factor_reaches_only_the_set_up(client, db, admin_ada):  # type: ignore[no-untyped-def]
    db.query(UserMfa).filter(UserMfa.user_id == admin_ada.user_id).delete()
    db.flush()
    done = _password(client, admin_ada)
    assert done.status_code == 303 and done.headers["location"] == "/patients"
    blocked = client.get("/patients")
    assert blocked.status_code == 303 and blocked.headers["location"] == "/account/mfa"
    setup = client.get("/account/mfa")
    assert setup.status_code == 200 and "<svg" in setup.text
    secret = re.search(r"<code>([A-Z2-7]{16,})</code>", setup.text).group(1)
    wrong = client.post("/account/mfa", data={"code": "000000", "csrf_token": csrf_from(setup.text)})
    assert wrong.status_code == 422
    ok = client.post("/account/mfa", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_from(setup.text)})
    assert ok.status_code == 200 and len(re.findall(r"<li><code>[0-9a-f]{6}-[0-9a-f]{6}</code></li>", ok.text)) == 10
    assert client.get("/patients").status_code == 200
    # The API is not a browser session: tokens are their own credential (made at the command line).
    assert client.get("/api/v1/patients", headers=admin_ada.auth).status_code == 200


def test_a_clinic_may_require_it_of_its_clinicians(client, db, dr_alice, dr_bob_other_clinic):  # type: ignore[no-untyped-def]
    db.get(Clinic, dr_alice.clinic_id).staff_mfa_required = True
    db.flush()
    login(client, dr_alice)
    assert client.get("/patients").headers.get("location") == "/account/mfa"
    client.cookies.clear()
    login(client, dr_bob_other_clinic)
    assert client.get("/patients").status_code == 200


def test_patients_are_never_asked(client, patient_pat):  # type: ignore[no-untyped-def]
    login(client, patient_pat)
    assert client.get("/me", follow_redirects=True).status_code == 200
    assert client.get("/account/mfa").status_code == 403


@pytest.mark.parametrize("path", ["/login/mfa"])
def test_the_code_page_without_a_password_step_goes_back_to_login(client, path):  # type: ignore[no-untyped-def]
    resp = client.get(path)
    assert resp.status_code == 303 and resp.headers["location"] == "/login"


def test_an_admin_resets_a_lost_second_factor_and_the_account_enrols_again(client, db, admin_ada, dr_alice):  # type: ignore[no-untyped-def]
    from mildpath.domain.errors import PermissionDenied
    from mildpath.services import mfa

    with pytest.raises(PermissionDenied):
        mfa.reset(db, dr_alice.actor, admin_ada.user_id)
    mfa.reset(db, admin_ada.actor, admin_ada.user_id)
    db.flush()
    assert db.scalar(select(UserMfa).where(UserMfa.user_id == admin_ada.user_id)) is None
    _password(client, admin_ada)
    assert client.get("/patients").headers.get("location") == "/account/mfa"
