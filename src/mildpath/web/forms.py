"""The rules every HTML form shares before its own model judges it (issue 21, item 11).

The form parser (Starlette's) decodes invalid UTF-8 into U+FFFD without a word, so text a broken client sent
would be stored changed; and NUL or an unpaired surrogate cannot be stored by any database here (the store
refuses them at flush time, after which the request's session can no longer show the form again). So every
form POST is read once here, in the CSRF check every form passes (web/deps.py ``with_csrf``), and a value
that is not valid UTF-8 or holds NUL / an unpaired surrogate is refused as :class:`InvalidInput` naming the
field (a 422 page saying which field and why). Everything else (lengths, numbers, bidi overrides, control
characters) is the form's own model's job: the API's model for the same data, whose error the form shows
next to the field with what was typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from urllib.parse import unquote_to_bytes

from starlette.requests import Request

from mildpath.domain.errors import InvalidInput
from mildpath.domain.inputs import INT_MAX, INT_MIN, ISO_DATE, check_number, check_text

FORM_TYPE = "application/x-www-form-urlencoded"
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


async def read_body(request: Request) -> bytes | None:
    """The raw body, kept for the form parser to read again; None if the route's ``Form()`` parameters
    already consumed the stream (FastAPI parses those before the dependencies run)."""
    try:
        return await request.body()
    except RuntimeError:
        return None


async def check_form(request: Request, body: bytes | None) -> None:
    """:func:`check_form_body` for a request's body (from :func:`read_body`); a body already parsed is checked
    in its parsed values for what cannot be stored."""
    if body is not None:
        check_form_body(body, request.headers.get("content-type", ""))
        return
    for name, value in (await request.form()).multi_items():
        if isinstance(value, str) and _UNSTORABLE.search(value):
            raise InvalidInput(
                f"{name}: contains a character that cannot be stored (NUL or unpaired surrogate)", field=name
            )


def _decoded(raw: bytes) -> str | None:
    """One name or value of a urlencoded body as text, or None if its bytes are not UTF-8."""
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return None


def check_form_body(body: bytes, content_type: str) -> None:
    """Refuse a urlencoded form whose names or values are not UTF-8 text or hold unstorable characters."""
    if content_type.split(";", 1)[0].strip().lower() != FORM_TYPE:
        return
    for pair in body.split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        name = _decoded(raw_name)
        if name is None or _UNSTORABLE.search(name):
            raise InvalidInput("form: a field name is not valid text", field="form")
        value = _decoded(raw_value)
        if value is None:
            raise InvalidInput(f"{name}: is not valid Unicode text (not UTF-8)", field=name)
        if _UNSTORABLE.search(value):
            raise InvalidInput(
                f"{name}: contains a character that cannot be stored (NUL or unpaired surrogate)", field=name
            )


def form_date(raw: str) -> date:
    """A date typed in a form, by the API's rule: ``YYYY-MM-DD`` only (``20260105`` or ``0`` is no date there,
    though Python's ``date.fromisoformat`` reads the first). Raises ValueError like ``fromisoformat``."""
    if not ISO_DATE.fullmatch(raw):
        raise ValueError("expected a date as YYYY-MM-DD")
    return date.fromisoformat(raw)


def check_texts(values: Mapping[str, object], limits: Mapping[str, int]) -> None:
    """The API's text rules (domain/inputs.py ``check_text``: no control characters, unpaired surrogates or
    bidi overrides) and a length, for form fields that reach a service without an input model (admin forms
    whose only other door is the CLI); :class:`InvalidInput` names the field."""
    for name, limit in limits.items():
        value = values.get(name)
        if not isinstance(value, str):
            continue
        check_text(value, name)
        if len(value) > limit:
            raise InvalidInput(f"{name}: longer than {limit} characters", field=name)


def form_id(raw: str, name: str) -> int | None:
    """A record id typed in a form: empty is none; anything else must be a whole number within the API's
    32-bit range (never read as "none", which could mean every clinic or no one)."""
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidInput(f"{name}: expected a whole number (a record id)", field=name)
    if len(raw) > 12:  # out of range by its length alone (and no 4,300-digit int() to parse)
        raise InvalidInput(f"{name}: out of range ({INT_MIN} to {INT_MAX})", field=name)
    number = int(raw)
    check_number(number, name)
    return number
