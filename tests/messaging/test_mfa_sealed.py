"""The staff TOTP secret is kept encrypted at rest (issue 20): the column never holds the base32 secret, a copy
of the database without the secret key produces no codes, and the key rotates with MILDPATH_SECRET_KEY_PREVIOUS."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pyotp
import pytest
from sqlalchemy import select

from mildpath.services import mfa
from mildpath.store import sealing
from mildpath.store.mfa import UserMfa
from mildpath.store.models import User
from tests.helpers import csrf_from, login

OLD_KEY = "the-secret-key-before-the-rotation-0123456789"
STRANGER = mfa.Keys("a-key-that-is-not-this-sites-key-0123456789")


def _row(db, persona) -> UserMfa:  # type: ignore[no-untyped-def]
    db.flush()  # what the service changed, then what the web requests wrote
    db.expire_all()
    return db.scalar(select(UserMfa).where(UserMfa.user_id == persona.user_id))


def _verify(db, persona, keys: mfa.Keys) -> bool:  # type: ignore[no-untyped-def]
    at = datetime.now(UTC)
    return mfa.verify(db, db.get(User, persona.user_id), pyotp.TOTP(persona.totp_secret).at(at), keys=keys, now=at)


def test_the_stored_secret_is_never_the_base32_secret(client, db, admin_ada, dr_alice):  # type: ignore[no-untyped-def]
    stored = _row(db, admin_ada).secret
    assert stored.startswith("v1:") and admin_ada.totp_secret not in stored
    login(client, dr_alice)
    setup = client.get("/account/mfa")
    secret = re.search(r"<code>([A-Z2-7]{16,})</code>", setup.text).group(1)
    assert secret not in _row(db, dr_alice).secret
    done = client.post("/account/mfa", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_from(setup.text)})
    assert done.status_code == 200 and secret not in _row(db, dr_alice).secret


def test_a_copy_of_the_database_without_its_key_produces_no_codes(db, settings, admin_ada):  # type: ignore[no-untyped-def]
    with pytest.raises(sealing.Unreadable):
        sealing.unseal(STRANGER, _row(db, admin_ada).secret)
    assert not _verify(db, admin_ada, STRANGER)
    assert _verify(db, admin_ada, mfa.Keys.of(settings))  # the site, with its key, still takes the same code


def test_rotating_the_secret_key_keeps_the_second_factor_and_reseals_it(db, settings, admin_ada):  # type: ignore[no-untyped-def]
    row = _row(db, admin_ada)
    row.secret = sealing.seal(mfa.Keys(OLD_KEY), admin_ada.totp_secret)
    db.flush()
    assert not _verify(db, admin_ada, mfa.Keys.of(settings))  # the new key alone does not open the old seal
    rotated = mfa.Keys.of(settings.model_copy(update={"secret_key_previous": OLD_KEY}))
    assert _verify(db, admin_ada, rotated)
    resealed = _row(db, admin_ada).secret
    assert sealing.unseal(mfa.Keys.of(settings), resealed) == sealing.Opened(admin_ada.totp_secret, stale=False)
    with pytest.raises(sealing.Unreadable):
        sealing.unseal(mfa.Keys(OLD_KEY), resealed)


def test_a_secret_still_clear_from_before_is_sealed_on_its_next_use(db, settings, admin_ada):  # type: ignore[no-untyped-def]
    _row(db, admin_ada).secret = admin_ada.totp_secret
    db.flush()
    assert _verify(db, admin_ada, mfa.Keys.of(settings))
    stored = _row(db, admin_ada).secret
    assert stored.startswith("v1:") and sealing.unseal(mfa.Keys.of(settings), stored).clear == admin_ada.totp_secret
