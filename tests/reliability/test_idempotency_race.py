"""Issue 21, items 1 and 2: one Idempotency-Key, many requests at once, against the real server.

Ten requests with the same key and body are sent at the same moment (a barrier releases ten threads) to
``mildpath serve`` with 2 worker processes, on SQLite and on PostgreSQL. Each answer is either the stored
answer (201, the same patient) or 409 with ``Retry-After`` while the first is in flight; never a 5xx. Exactly
one patient is stored. Retried after the 409s, every request gets the stored answer.

Then the key is reused with another body (422), another path (422), and the original again (the stored answer).
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from mildpath.services.access import Actor
from mildpath.services.auth import add_user, create_token
from mildpath.settings import Settings
from mildpath.store.migrate import upgrade
from mildpath.store.models import Clinic, IdempotencyKey, Patient
from tests.reliability.server import POSTGRES_URL, SECRET, Server, database, environment

AT_ONCE = 10
BODY = {"mrn": "RACE-1", "given_name": "Rae", "family_name": "Race", "birth_date": "1950-01-01", "sex": "female"}


def _setup(url: str, data_dir: Path) -> str:
    upgrade(Settings(database_url=url, secret_key=SECRET, data_dir=str(data_dir)))
    engine = create_engine(url)
    with Session(engine) as s, s.begin():
        clinic = Clinic(name="Race Clinic")
        s.add(clinic)
        s.flush()
        system = Actor.system("tests")
        user = add_user(s, system, email="race@example.org", role="clinician", password="race-test-password",
                        clinic_id=clinic.id)
        token = create_token(s, system, user, name="race")
    engine.dispose()
    return token


def _burst(url: str, headers: dict[str, str], body: dict[str, str]) -> list[httpx.Response]:
    barrier = threading.Barrier(AT_ONCE)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def one() -> None:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            resp = client.post(url, json=body, headers=headers)
        with lock:
            answers.append(resp)

    threads = [threading.Thread(target=one) for _ in range(AT_ONCE)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_one_key_sent_ten_times_at_once_gives_the_stored_answer_or_409_never_500(backend, tmp_path):
    if backend == "postgres" and not POSTGRES_URL:
        pytest.skip("PostgreSQL run: set MILDPATH_TEST_POSTGRES_URL to test against PostgreSQL")
    with database(backend, tmp_path, "mp_idem_race") as url:
        token = _setup(url, tmp_path)
        server = Server(environment(url, tmp_path), tmp_path / "server.log", workers=2).start()
        try:
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "race-key-1"}
            target = server.url + "/api/v1/patients"
            ids = set()
            for round_ in range(3):  # several bursts: the race window is short, give it chances to open
                key = {**headers, "Idempotency-Key": f"race-key-{round_}"}
                body = {**BODY, "mrn": f"RACE-{round_}"}
                answers = _burst(target, key, body)
                statuses = sorted(a.status_code for a in answers)
                assert all(s in (201, 409) for s in statuses), statuses
                created = {a.json()["id"] for a in answers if a.status_code == 201}
                assert len(created) == 1, statuses
                for a in answers:
                    if a.status_code == 409:
                        assert a.headers["content-type"].startswith("application/problem+json")
                        assert int(a.headers["retry-after"]) >= 1
                # Retried after Retry-After, a 409 becomes the stored answer.
                again = httpx.post(target, json=body, headers=key, timeout=60)
                assert again.status_code == 201 and again.json()["id"] in created
                assert again.headers.get("idempotent-replayed") == "true"
                ids |= created

            # Item 2: the same key with another body, or on another path, is refused; the original replays.
            key = {**headers, "Idempotency-Key": "race-key-0"}
            other = httpx.post(target, json={**BODY, "mrn": "RACE-OTHER"}, headers=key, timeout=60)
            assert other.status_code == 422, other.text
            assert any(e["field"] == "Idempotency-Key" for e in other.json()["errors"])
            reordered = httpx.post(target, json={**BODY, "mrn": "RACE-0", "sex": "male"}, headers=key, timeout=60)
            assert reordered.status_code == 422
            elsewhere = httpx.post(server.url + f"/api/v1/patients/{min(ids)}/diary", json={"pain_back": 1},
                                   headers=key, timeout=60)
            assert elsewhere.status_code == 422, elsewhere.text
            original = httpx.post(target, json={**BODY, "mrn": "RACE-0"}, headers=key, timeout=60)
            assert original.status_code == 201 and original.json()["id"] in ids
        finally:
            server.stop()
        engine = create_engine(url)
        with Session(engine) as s:
            mrns = list(s.scalars(select(Patient.mrn).where(Patient.mrn.like("RACE-%"))))
            assert sorted(mrns) == ["RACE-0", "RACE-1", "RACE-2"]
            assert s.scalar(select(func.count()).select_from(IdempotencyKey)) == 3
        engine.dispose()
