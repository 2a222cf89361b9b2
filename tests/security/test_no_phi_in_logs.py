"""No personal health information in logs or notifications (issue 10).

A whole demo run: ``mildpath demo`` (its output captured), then the real server (``mildpath serve
--log-level debug``: the root, ``mildpath.*`` and uvicorn loggers at DEBUG; SQLAlchemy stays at WARNING by
design, see ``mildpath.cli._logging``) exercised over HTTP with logins (good and bad), patient pages and
forms, API reads and writes, every patient-scoped GET route in the schema, the documented example of every
patient-scoped POST route (diary entries, questionnaire answers, ...), errors of every kind (401, 404, 409,
413, 422, malformed JSON) carrying patient data in their input, and the admin's export. Then the outbox is
delivered in-process with every logger captured at DEBUG.

Every captured line and every outbox message is scanned for each demo patient's names, MRN, birth date,
email, phone and address, for the identities this run typed in, for the words patients wrote in their
diaries, and (in the server log) for the passwords that were sent.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from mildpath.demo import ADMIN, CLINIC_PHONE, CLINICIANS, PATIENT_LOGINS
from mildpath.services import notify
from mildpath.services.access import Actor
from mildpath.services.auth import create_token, get_user_by_email
from mildpath.store.all_models import load_all
from mildpath.store.models import OutboxMessage, Patient
from tests.helpers import CSRF_RE
from tests.reliability.server import POSTGRES_URL, Server, database, environment, mildpath

NEW_PATIENT = {
    "mrn": "LOG-7781",
    "given_name": "Ottilie",
    "family_name": "Vanderbrook",
    "birth_date": "1947-09-23",
    "sex": "female",
    "phone": "+1 555 7781",
    "email": "ottilie.vanderbrook@example.net",
    "address": "4 Juniper Hollow, Marshfield",
    "preferred_language": "en",
}
NEW_ADDRESS = "91 Quillfeather Court, Ashbury"
REFUSED_NAME = "Cordelia Pennywhistle"  # typed into requests that fail: must not be logged either
WORD = re.compile(r"[A-Za-z][A-Za-z -]{3,}")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip("PostgreSQL run: set MILDPATH_TEST_POSTGRES_URL to test against PostgreSQL")
    return str(request.param)


def _csrf(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def _login(base: str, email: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    page = client.get("/login")
    resp = client.post("/login", data={"email": email, "password": password, "csrf_token": _csrf(page.text)})
    assert resp.status_code in (303, 401), resp.text[:300]
    return client


def _tokens(url: str) -> dict[str, str]:
    engine = create_engine(url)
    with Session(engine) as s, s.begin():
        out = {
            email: create_token(s, Actor.system("tests"), get_user_by_email(s, email), name="phi-test")
            for email in (CLINICIANS[0][0], ADMIN[0], PATIENT_LOGINS[0][0])
        }
    engine.dispose()
    return out


def _example(operation: dict) -> dict | None:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    if "example" in content:
        return content["example"]
    for example in content.get("examples", {}).values():
        if "value" in example:
            return example["value"]
    return None


def _exercise(base: str, tokens: dict[str, str], pat_id: int, other_id: int) -> None:
    alice = {"Authorization": f"Bearer {tokens[CLINICIANS[0][0]]}"}
    admin = {"Authorization": f"Bearer {tokens[ADMIN[0]]}"}
    pat = {"Authorization": f"Bearer {tokens[PATIENT_LOGINS[0][0]]}"}
    api = httpx.Client(base_url=base, timeout=30)

    # Logins that fail, one with a patient's own email as the login name.
    _login(base, CLINICIANS[0][0], "not-the-password-123")
    _login(base, "pat.quinn@example.org", "not-the-password-123")

    # A clinician's pages and forms.
    web = _login(base, CLINICIANS[0][0], CLINICIANS[0][1])
    web.get("/patients")
    web.get("/patients", params={"q": "Quinn"})
    chart = web.get(f"/patients/{pat_id}")
    for href in sorted(set(re.findall(rf'href="(/patients/{pat_id}/[^"?#]*)"', chart.text))):
        web.get(href)
    form = web.get("/patients/new")
    web.post("/patients", data={**NEW_PATIENT, "mrn": "LOG-FORM-1", "csrf_token": _csrf(form.text)})
    web.post(
        "/patients",
        data={**NEW_PATIENT, "given_name": REFUSED_NAME, "birth_date": "2999-01-01", "csrf_token": _csrf(form.text)},
    )
    edit = web.get(f"/patients/{pat_id}/edit")
    values = dict(re.findall(r'name="(\w+)" value="([^"]*)"', edit.text))
    web.post(f"/patients/{pat_id}", data={**values, "address": NEW_ADDRESS, "csrf_token": _csrf(edit.text)})
    web.post("/logout", data={"csrf_token": _csrf(web.get("/patients").text)})

    # The patient's own pages.
    me = _login(base, PATIENT_LOGINS[0][0], PATIENT_LOGINS[0][1])
    for href in ("/me", f"/patients/{pat_id}"):
        page = me.get(href)
        for link in sorted(set(re.findall(rf'href="(/patients/{pat_id}/[^"?#]*)"', page.text))):
            me.get(link)

    # The API: reads, writes and errors of every kind, with patient data in the failing input.
    api.get("/api/v1/patients", headers=alice)
    api.get("/api/v1/patients", params={"q": "Quinn"}, headers=alice)
    api.get(f"/api/v1/patients/{pat_id}", headers=alice)
    api.get(f"/api/v1/patients/{pat_id}", headers=pat)
    created = api.post("/api/v1/patients", json=NEW_PATIENT, headers={**alice, "Idempotency-Key": "phi-1"})
    assert created.status_code == 201, created.text
    api.post("/api/v1/patients", json=NEW_PATIENT, headers=alice)  # 409: the MRN exists
    api.patch(f"/api/v1/patients/{created.json()['id']}", json={"address": NEW_ADDRESS}, headers=alice)
    bad = {**NEW_PATIENT, "mrn": "LOG-BAD", "given_name": REFUSED_NAME, "birth_date": "1950-02-30"}
    api.post("/api/v1/patients", json=bad, headers=alice)  # 422
    api.post("/api/v1/patients", json={**bad, "given_name": REFUSED_NAME + "\x00"}, headers=alice)  # 422
    api.post("/api/v1/patients", content=b'{"given_name": "' + REFUSED_NAME.encode() + b'"', headers=alice)  # 400
    api.post("/api/v1/patients", content=REFUSED_NAME.encode() * 800_000, headers=alice)  # 413
    api.get(f"/api/v1/patients/{other_id}", headers=pat)  # 404
    api.get("/api/v1/patients")  # 401
    schema = api.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/patients/{patient_id}") or path.count("{") != 1:
            continue
        url = path.replace("{patient_id}", str(pat_id))
        if "get" in operations:
            api.get(url, headers=alice)
            api.get(url, headers=pat)
        example = _example(operations.get("post", {}))
        if example is not None:
            api.post(url, json=example, headers={**pat, "Idempotency-Key": f"phi-{path}"})
            api.post(url, json=example, headers=alice)
            api.post(url, json={**example, "unknown_field": REFUSED_NAME}, headers=alice)  # 422
    if "/api/v1/patients/{patient_id}/diary" in schema["paths"]:
        emergency = {"bladder_bowel_change": True, "new_weakness": True, "temperature_c": 38.6}
        assert api.post(f"/api/v1/patients/{pat_id}/diary", json=emergency, headers=pat).status_code == 201
    api.post(f"/api/v1/patients/{pat_id}/export", json={"reason": "patient_request"}, headers=admin)
    api.get("/api/v1/audit", headers=admin)


def _phi(url: str) -> tuple[dict[str, str], list[str], list[str]]:
    """(label -> text found anywhere) and the words found as whole words: every patient's names, and the
    words of every diary answer (whole words, so that "fine" does not match "defined")."""
    engine = create_engine(url)
    exact: dict[str, str] = {}
    names: list[str] = [REFUSED_NAME]
    diary: list[str] = []
    with Session(engine) as s:
        for p in s.scalars(select(Patient)):
            names += [p.given_name, p.family_name]
            exact[f"name of {p.mrn}"] = f"{p.given_name} {p.family_name}"
            exact[f"sorted name of {p.mrn}"] = f"{p.family_name}, {p.given_name}"
            exact[f"MRN {p.mrn}"] = p.mrn
            exact[f"birth date of {p.mrn}"] = p.birth_date.isoformat()
            for field in ("email", "address", "phone"):
                value = getattr(p, field)
                if value and value != CLINIC_PHONE:  # the clinic's own number is not personal data
                    exact[f"{field} of {p.mrn}"] = value
        tables = load_all().metadata.tables
        if "diary_entries" in tables:
            for (answers,) in s.execute(select(tables["diary_entries"].c.answers)):
                for value in _strings(answers):
                    diary += [w.strip() for w in WORD.findall(value)]
    engine.dispose()
    return exact, names, diary


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _leaks(text: str, exact: dict[str, str], names: list[str]) -> list[str]:
    found = [f"{label}: {value!r}" for label, value in exact.items() if value and value in text]
    for name in set(names):
        if re.search(rf"(?<![\w@.]){re.escape(name)}(?![\w@])", text):
            found.append(f"name {name!r}")
    return found


def test_a_whole_demo_run_at_debug_level_leaves_no_patient_data_in_logs_or_notifications(
    backend, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    with database(backend, tmp_path, "mp_phi_logs") as url:
        env = environment(url, tmp_path)
        demo = mildpath(env, "demo", timeout=300)
        assert demo.returncode == 0, demo.stderr[-2000:]
        tokens = _tokens(url)
        engine = create_engine(url)
        with Session(engine) as s:
            pat_id = s.scalar(select(Patient.id).where(Patient.mrn == "DEMO-0001"))
            other_id = s.scalar(select(Patient.id).where(Patient.mrn == "DEMO-0002"))
        server = Server(env, tmp_path / "server.log", extra=("--log-level", "debug")).start()
        try:
            _exercise(server.url, tokens, pat_id, other_id)
        finally:
            server.stop()
        server_log = server.log.read_text(errors="replace")
        assert "DEBUG" in server_log, "the server did not log at DEBUG: the scan would prove nothing"

        # The outbox, delivered in-process with every logger at DEBUG (SQLAlchemy kept at WARNING, as served).
        caplog.set_level(logging.DEBUG)
        logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
        with Session(engine) as s, s.begin():
            messages = [f"{m.subject}\n{m.body}" for m in s.scalars(select(OutboxMessage))]
            notify.deliver_pending(s, notify.LogSender(), limit=1000)
        engine.dispose()
        exact, names, diary = _phi(url)

    assert diary, "no diary words to look for: the scan would prove nothing about diaries"
    assert messages, "the run queued no notification: the outbox scan would prove nothing"
    places = {
        "mildpath demo output": demo.stdout + demo.stderr,
        "server log": server_log,
        "outbox delivery log": caplog.text,
        **{f"outbox message {i}": text for i, text in enumerate(messages)},
    }
    leaks = {where: _leaks(text, exact, names + diary) for where, text in places.items()}
    leaks = {where: found for where, found in leaks.items() if found}
    secrets = [p for _, p, *_ in (*CLINICIANS, ADMIN) if p in server_log] + [
        p for _, p, _ in PATIENT_LOGINS if p in server_log
    ]
    assert not leaks, json.dumps(leaks, indent=1)
    assert not secrets, f"passwords in the server log: {secrets}"


def test_the_scan_finds_a_planted_leak():
    exact = {"MRN DEMO-0001": "DEMO-0001", "birth date": "1956-08-02"}
    names = ["Pat", "Quinn", "redness"]
    assert _leaks("GET /patients 200 for Pat", exact, names) == ["name 'Pat'"]
    assert _leaks("stored DEMO-0001", exact, names) == ["MRN DEMO-0001: 'DEMO-0001'"]
    assert _leaks("mildpath serving; patients 30; pat@demo.mildpath.org; Patel; rednesses", exact, names) == []


def test_an_exception_is_logged_with_its_type_and_stack_but_never_its_message(caplog):
    """Messages of exceptions quote data (pydantic quotes the input, KeyError the key): the server's formatter
    withholds them, whichever logger the exception passes through."""
    from mildpath.cli._logging import WITHHELD, RedactingFormatter

    name, born = "Pat Quinn", "1956-08-02"  # runtime values: the stack shows source lines, not values
    try:
        try:
            {"given_name": name}[name + " DEMO-0001"]
        except KeyError as exc:
            raise ValueError(f"could not store {name}, born {born}") from exc
    except ValueError:
        record = logging.LogRecord(
            "uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI application", (), None
        )
        record.exc_info = sys.exc_info()
    text = RedactingFormatter("%(name)s: %(message)s").format(record)
    assert "Quinn" not in text and "1956-08-02" not in text
    assert "ValueError: " + WITHHELD in text and "KeyError: " + WITHHELD in text
    assert "test_no_phi_in_logs.py" in text  # the stack stays: it is what finds the bug
