"""Bad input gets a clear 4xx problem and writes nothing: unknown fields, impossible dates, huge numbers, wrong
types, malformed JSON, control characters, oversized bodies. Legitimate Unicode in every text field of a
patient survives a round trip on every backend.

"Writes nothing" is checked the strict way: the row count of every table, before and after.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, insert, select

from mildpath.domain.errors import Conflict, InvalidInput
from mildpath.services import patients as svc
from mildpath.services.clock import today
from mildpath.store.all_models import load_all
from mildpath.store.models import Patient
from mildpath.web.deps import SessionDep, Staff

BASE = {"mrn": "BI-1", "given_name": "Ines", "family_name": "Brandt", "birth_date": "1951-04-05", "sex": "female"}
JSON = {"Content-Type": "application/json"}


def snapshot(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Rows per table, every table (new subject tables included)."""
    db.expire_all()
    return {t.name: db.scalar(select(func.count()).select_from(t)) for t in load_all().metadata.sorted_tables}


def _problem(resp, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.text[:300]
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


CREATE_422 = [
    ("unknown field", {**BASE, "nickname": "Ines"}, "nickname"),
    ("unknown nested field", {**BASE, "address": {"street": "x"}}, "address"),
    ("30 February", {**BASE, "birth_date": "1950-02-30"}, "birth_date"),
    ("month 13", {**BASE, "birth_date": "1950-13-01"}, "birth_date"),
    ("day zero", {**BASE, "birth_date": "1950-01-00"}, "birth_date"),
    ("five-digit year", {**BASE, "birth_date": "19500-01-01"}, "birth_date"),
    ("before 1900", {**BASE, "birth_date": "1850-01-01"}, "birth_date"),
    ("born tomorrow", {**BASE, "birth_date": (today() + timedelta(days=1)).isoformat()}, "birth_date"),
    ("a word for a date", {**BASE, "birth_date": "yesterday"}, "birth_date"),
    ("a number for a date", {**BASE, "birth_date": 19500101}, "birth_date"),
    ("huge integer", {**BASE, "mrn": 10**40}, "mrn"),
    ("huge float", {**BASE, "birth_date": 1e308}, "birth_date"),
    ("list for a name", {**BASE, "given_name": ["Ines"]}, "given_name"),
    ("object for a name", {**BASE, "family_name": {"x": 1}}, "family_name"),
    ("boolean for a name", {**BASE, "given_name": True}, "given_name"),
    ("null for a required field", {**BASE, "mrn": None}, "mrn"),
    ("missing required field", {k: v for k, v in BASE.items() if k != "sex"}, "sex"),
    ("unknown sex", {**BASE, "sex": "robot"}, "sex"),
    ("unknown language", {**BASE, "preferred_language": "xx"}, "preferred_language"),
    ("name too long", {**BASE, "given_name": "I" * 121}, "given_name"),
    ("address too long", {**BASE, "address": "a" * 401}, "address"),
    ("blank MRN", {**BASE, "mrn": "   "}, "mrn"),
    ("not an email", {**BASE, "email": "ines at example"}, "email"),
    ("NUL in a name", {**BASE, "given_name": "In\x00es"}, "given_name"),
    ("escape sequence in a name", {**BASE, "family_name": "\x1b[31mBrandt"}, "family_name"),
    ("newline in an MRN", {**BASE, "mrn": "BI\n1"}, "mrn"),
    ("control character in a phone", {**BASE, "phone": "555\x07"}, "phone"),
    ("control character in an address", {**BASE, "address": "Elm\x0bSt"}, "address"),
]


@pytest.mark.parametrize(("body", "field"), [c[1:] for c in CREATE_422], ids=[c[0] for c in CREATE_422])
def test_a_bad_patient_is_refused_with_422_naming_the_field_and_nothing_is_written(client, db, dr_alice, body, field):
    before = snapshot(db)
    problem = _problem(client.post("/api/v1/patients", json=body, headers=dr_alice.auth), 422)
    assert any(e["field"].split(".")[0] == field for e in problem["errors"]), problem["errors"]
    assert snapshot(db) == before


UPDATE_422 = [
    ("unknown field", {"mrn": "CHANGED"}, "mrn"),  # the MRN is not editable: an unknown field for updates
    ("impossible date", {"birth_date": "2001-02-29"}, "birth_date"),
    ("future date", {"birth_date": "2999-01-01"}, "birth_date"),
    ("before 1900", {"birth_date": "1899-12-31"}, "birth_date"),
    ("huge number", {"phone": 10**30}, "phone"),
    ("wrong type", {"address": ["a"]}, "address"),
    ("NUL", {"address": "x\x00"}, "address"),
    ("unpaired surrogate", None, "given_name"),
]


@pytest.mark.parametrize(("body", "field"), [c[1:] for c in UPDATE_422], ids=[c[0] for c in UPDATE_422])
def test_a_bad_update_is_refused_and_the_record_is_unchanged(client, db, dr_alice, pat_id, body, field):
    before = snapshot(db)
    shown = client.get(f"/api/v1/patients/{pat_id}", headers=dr_alice.auth).json()
    before = snapshot(db)
    # A lone surrogate cannot be written by json.dumps into valid UTF-8: send the escape itself.
    raw = json.dumps(body).encode() if body is not None else b'{"given_name": "a\\ud800b"}'
    problem = _problem(client.patch(f"/api/v1/patients/{pat_id}", content=raw, headers={**dr_alice.auth, **JSON}), 422)
    assert any(e["field"].split(".")[0] == field for e in problem["errors"]), problem["errors"]
    assert snapshot(db) == before
    assert client.get(f"/api/v1/patients/{pat_id}", headers=dr_alice.auth).json() == shown


MALFORMED = [
    ("truncated", b'{"mrn": "X'),
    ("trailing garbage", json.dumps(BASE).encode() + b"}}"),
    ("not JSON at all", b"mrn=X&given_name=Y"),
    ("single quotes", b"{'mrn': 'X'}"),
    ("invalid UTF-8", b'{"mrn": "\xff\xfe"}'),
    ("deeply nested", b"[" * 100_000 + b"]" * 100_000),
    ("empty", b""),
]


@pytest.mark.parametrize("raw", [c[1] for c in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_malformed_json_gets_400_or_422_and_writes_nothing(client, db, dr_alice, raw):
    before = snapshot(db)
    resp = client.post("/api/v1/patients", content=raw, headers={**dr_alice.auth, **JSON})
    assert resp.status_code in (400, 422), resp.text[:300]
    _problem(resp, resp.status_code)
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "body",
    [[], "a string", None, 12, [BASE]],
    ids=["a list", "a string", "null", "a number", "a list holding a patient"],
)
def test_a_body_of_the_wrong_shape_gets_422(client, db, dr_alice, body):
    before = snapshot(db)
    _problem(client.post("/api/v1/patients", json=body, headers=dr_alice.auth), 422)
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/patients/18446744073709551616",
        "/api/v1/patients/2147483648",
        "/api/v1/patients/0",
        "/api/v1/patients/-5",
        "/api/v1/patients/1e3",
        "/api/v1/patients/abc",
        "/api/v1/patients?limit=100000000000000000000000",
        "/api/v1/patients?limit=0",
        "/api/v1/patients?offset=-1",
        "/api/v1/patients?limit=NaN",
        "/api/v1/patients?q=" + "x" * 101,
        "/api/v1/patients?q=%00",
    ],
)
def test_huge_negative_or_non_numeric_ids_and_queries_get_422(client, dr_alice, url):
    _problem(client.get(url, headers=dr_alice.auth), 422)


UNICODE = {
    "mrn": "MRN-Ωμέγα-٣٤",
    "given_name": "Zoë-Chloé 李小龍",
    "family_name": "O'Brien-Müller ﻿مرحبا 😀",
    "phone": "+44 (0) ２０ 7946 0018",
    "address": "Straße 5, Ünterstadt, 東京都 〒100-0001, ⁦שלום⁩",
}


def test_unicode_in_every_text_field_survives_create_read_and_update(client, db, dr_alice):
    created = client.post(
        "/api/v1/patients", json={**BASE, **UNICODE, "email": "zoë@exämple.org"}, headers=dr_alice.auth
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert {k: body[k] for k in UNICODE} == UNICODE
    assert "@" in body["email"]
    read = client.get(f"/api/v1/patients/{body['id']}", headers=dr_alice.auth).json()
    assert read == body
    found = client.get("/api/v1/patients", params={"q": "李小龍"}, headers=dr_alice.auth).json()
    assert [p["id"] for p in found["items"]] == [body["id"]]
    changed = {k: v[::-1].strip() for k, v in UNICODE.items() if k != "mrn"}
    updated = client.patch(f"/api/v1/patients/{body['id']}", json=changed, headers=dr_alice.auth)
    assert updated.status_code == 200, updated.text
    read = client.get(f"/api/v1/patients/{body['id']}", headers=dr_alice.auth).json()
    assert {k: read[k] for k in changed} == changed


def test_an_oversized_body_is_refused_with_413_before_it_is_read_and_writes_nothing(client, db, dr_alice, settings):
    before = snapshot(db)
    big = json.dumps({**BASE, "address": "x" * settings.max_body_bytes}).encode()
    _problem(client.post("/api/v1/patients", content=big, headers={**dr_alice.auth, **JSON}), 413)
    assert snapshot(db) == before


def test_an_oversized_body_without_a_length_is_cut_off_at_the_limit(client, db, dr_alice, settings):
    before = snapshot(db)
    chunk = b"x" * (256 * 1024)
    sent = 0

    def stream():  # type: ignore[no-untyped-def]
        nonlocal sent
        yield b'{"mrn": "'
        while sent < settings.max_body_bytes + len(chunk):
            sent += len(chunk)
            yield chunk
        yield b'"}'

    resp = client.post("/api/v1/patients", content=stream(), headers={**dr_alice.auth, **JSON})
    _problem(resp, 413)
    assert snapshot(db) == before


def test_a_body_just_under_the_limit_is_read_and_judged_on_its_content(client, dr_alice, settings):
    body = json.dumps({**BASE, "address": "x" * (settings.max_body_bytes - 500)}).encode()
    assert len(body) < settings.max_body_bytes
    problem = _problem(client.post("/api/v1/patients", content=body, headers={**dr_alice.auth, **JSON}), 422)
    assert problem["errors"][0]["field"] == "address"


def test_a_request_that_fails_after_writing_leaves_nothing_behind(app, db, dr_alice):
    """The transaction is the request: a failure after the service wrote rows rolls back all of them."""
    router = APIRouter()

    @router.post("/api/v1/zz-fails-after-writing/{how}")
    def fails_after_writing(how: str, actor: Staff, session: SessionDep) -> None:
        svc.create_patient(session, actor, svc.PatientIn.model_validate({**BASE, "mrn": "HALF-1"}), today=today())
        session.flush()
        if how == "conflict":
            raise Conflict("a clash found after writing")
        if how == "invalid":
            raise InvalidInput("bad input found after writing", field="x")
        if how == "busy":
            raise sa_exc.OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))
        raise RuntimeError("an unexpected failure after writing")

    app.include_router(router)
    before = snapshot(db)
    with TestClient(app, raise_server_exceptions=False) as c:
        for how, status in (("conflict", 409), ("invalid", 422), ("busy", 503), ("crash", 500)):
            resp = c.post(f"/api/v1/zz-fails-after-writing/{how}", headers=dr_alice.auth)
            _problem(resp, status)
            assert status != 503 or resp.headers["retry-after"] == "1"
            assert "HALF-1" not in resp.text
            assert snapshot(db) == before, how
    assert db.scalar(select(func.count()).select_from(Patient).where(Patient.mrn == "HALF-1")) == 0


def test_the_store_refuses_text_no_backend_can_keep_whatever_the_service_let_through(db):
    """The safety net under every table: NUL and unpaired surrogates are bad input (422), never a driver
    error (500), on SQLite and PostgreSQL alike."""
    for bad in ("a\x00b", "a\ud800b"):
        with pytest.raises(InvalidInput), db.begin_nested():
            db.execute(
                insert(Patient).values(
                    clinic_id=1, mrn="NET-1", given_name=bad, family_name="x", birth_date=today(), sex="male"
                )
            )
