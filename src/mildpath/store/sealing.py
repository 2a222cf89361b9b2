"""Secrets encrypted at rest (issue 20): the staff TOTP secrets, so a copy of the database alone reveals none.

A sealed value is ``v1:`` + a Fernet token (``cryptography``: AES-128-CBC with HMAC-SHA256) under a key derived
from ``MILDPATH_SECRET_KEY`` by HKDF-SHA256 (info ``mildpath-totp-v1``). To rotate the secret key, set the new
one as ``MILDPATH_SECRET_KEY`` and the old one as ``MILDPATH_SECRET_KEY_PREVIOUS``: values sealed under the old
key still open, and the caller re-seals them under the new key on their next successful use (``stale``).
A value without the prefix is a clear secret from before encryption: it opens, and is stale.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mildpath.settings import Settings

PREFIX = "v1:"
INFO = b"mildpath-totp-v1"


class Unreadable(ValueError):
    """A sealed value that neither the secret key nor the previous one opens (a copy without its key)."""


@dataclass(frozen=True)
class Keys:
    current: str
    previous: str = ""

    @classmethod
    def of(cls, settings: Settings) -> Keys:
        return cls(settings.secret_key, settings.secret_key_previous)


@dataclass(frozen=True)
class Opened:
    clear: str
    stale: bool  # re-seal it under the current key (clear before, or sealed under the previous key)


@lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=SHA256(), length=32, salt=None, info=INFO).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def seal(keys: Keys, clear: str) -> str:
    return PREFIX + _fernet(keys.current).encrypt(clear.encode()).decode()


def unseal(keys: Keys, stored: str) -> Opened:
    if not is_sealed(stored):
        return Opened(stored, stale=True)
    token = stored.removeprefix(PREFIX).encode()
    for key, stale in ((keys.current, False), (keys.previous, True)):
        if key:
            try:
                return Opened(_fernet(key).decrypt(token).decode(), stale)
            except InvalidToken:
                continue
    raise Unreadable("the secret key does not open this value")
