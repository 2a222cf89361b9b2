"""Texts through an HTTP SMS gateway (issue 20, contracts §10): one Idempotency-Key per message across every try,
retries with back-off after failures and timeouts, exactly-once delivery, nothing lost, nothing retried once
accepted; consent re-checked before each try. The gateway is a real HTTP server on loopback (conftest.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from mildpath.domain.messaging import MAX_ATTEMPTS, retry_delay
from mildpath.services import notify
from mildpath.services.access import Actor
from mildpath.services.clock import now
from mildpath.services.consent import ConsentIn, record_consent
from mildpath.store.models import OutboxMessage, Patient
from tests.messaging.conftest import TOKEN

TEMPLATE = '{"to": "{to}", "from": "{from}", "text": "{text}", "meta": {"brace": "{other}"}}'


def _gateway_channel(gateway, timeout: float = 5.0) -> dict[str, notify.Sender]:  # type: ignore[no-untyped-def]
    sms = notify.SmsGateway(gateway.url, sender="Clinic", template=TEMPLATE,
                            auth_header=f"Authorization: Bearer {TOKEN}", timeout=timeout)
    return {"sms": sms, "email": notify.LogSender(), "in_app": notify.InAppSender()}


@pytest.fixture(autouse=True)
def empty_outbox(db):  # type: ignore[no-untyped-def]
    """What the shared world queued goes out first (in the test's transaction), so counts are this test's."""
    notify.deliver_pending(db, notify.LogSender(), limit=100_000, now=now() + timedelta(days=3650))


@pytest.fixture
def texting_patient(db, dr_alice, pat_id):  # type: ignore[no-untyped-def]
    patient = db.get(Patient, pat_id)
    patient.phone = "+1 (555) 010-7788"
    db.flush()
    record_consent(db, dr_alice.actor, pat_id, ConsentIn(channel="sms", granted=True, how="form"), now=now())
    return pat_id


def _text(db, patient_id: int, body: str = 'Hola "Ana": a questionnaire is waiting. https://x/me') -> OutboxMessage:  # type: ignore[no-untyped-def]
    message = notify.queue(db, kind="prom_reminder", subject="", body=body, recipient_address="+15550107788",
                           channel="sms", patient_id=patient_id)
    db.flush()
    return message


def test_a_text_goes_out_once_with_its_id_as_idempotency_key(db, gateway, texting_patient):  # type: ignore[no-untyped-def]
    message = _text(db, texting_patient)
    counts = notify.deliver_pending(db, _gateway_channel(gateway))
    assert counts.sent == 1 and message.status == "sent" and message.attempts == 1
    state = gateway.state()
    (request,) = state["requests"]
    assert request["key"] == str(message.id)
    assert request["auth"] == f"Bearer {TOKEN}" and request["content_type"] == "application/json"
    body = json.loads(request["body"])  # quotes and accents escaped inside the JSON strings
    assert body == {"to": "+15550107788", "from": "Clinic", "text": message.body, "meta": {"brace": "{other}"}}
    assert notify.deliver_pending(db, _gateway_channel(gateway)).sent == 0  # never sent again


def test_a_gateway_error_is_retried_later_under_the_same_key(db, gateway, texting_patient):  # type: ignore[no-untyped-def]
    gateway.plan("500")
    message = _text(db, texting_patient)
    at = now()
    first = notify.deliver_pending(db, _gateway_channel(gateway), now=at)
    assert first.retrying == 1 and message.status == "retrying"
    assert message.last_error == "SMS gateway answered HTTP 500"
    assert message.next_attempt_at == at + retry_delay(1)
    # Not due yet: nothing is tried.
    assert notify.deliver_pending(db, _gateway_channel(gateway), now=at + timedelta(seconds=5)).as_tuple() == (
        0, 0, 0, 0, 0)
    second = notify.deliver_pending(db, _gateway_channel(gateway), now=at + retry_delay(1))
    assert second.sent == 1 and message.status == "sent" and message.attempts == 2
    state = gateway.state()
    assert [r["key"] for r in state["requests"]] == [str(message.id)] * 2
    assert [d["key"] for d in state["delivered"]] == [str(message.id)]


def test_an_answer_lost_after_the_gateway_took_the_text_is_delivered_once(db, gateway, texting_patient):  # type: ignore[no-untyped-def]
    gateway.plan("accept-then-hang")
    message = _text(db, texting_patient)
    at = now()
    assert notify.deliver_pending(db, _gateway_channel(gateway, timeout=3.0), now=at).retrying == 1
    assert message.last_error == "SMS gateway: no answer in time"
    assert notify.deliver_pending(db, _gateway_channel(gateway), now=at + timedelta(hours=1)).sent == 1
    state = gateway.state()
    assert len(state["requests"]) == 2 and {r["key"] for r in state["requests"]} == {str(message.id)}
    assert len(state["delivered"]) == 1  # the gateway dropped the duplicate: the patient got one text


def test_a_refused_text_is_given_up_at_once_and_kept(db, gateway, texting_patient):  # type: ignore[no-untyped-def]
    gateway.plan("400")
    message = _text(db, texting_patient)
    counts = notify.deliver_pending(db, _gateway_channel(gateway))
    assert counts.failed == 1 and message.status == "failed" and message.attempts == 1
    assert message.last_error == "SMS gateway answered HTTP 400"
    assert notify.deliver_pending(db, _gateway_channel(gateway), now=now() + timedelta(days=1)).failed == 0
    assert len(gateway.state()["requests"]) == 1
    assert db.get(OutboxMessage, message.id) is not None  # kept, with its reason


def test_a_gateway_that_keeps_failing_is_given_up_after_the_last_try(db, gateway, texting_patient):  # type: ignore[no-untyped-def]
    gateway.plan(*["500"] * MAX_ATTEMPTS)
    message = _text(db, texting_patient)
    at = now()
    for _ in range(MAX_ATTEMPTS):
        notify.deliver_pending(db, _gateway_channel(gateway), now=at)
        at += timedelta(hours=2)
    assert message.status == "failed" and message.attempts == MAX_ATTEMPTS
    assert len(gateway.state()["requests"]) == MAX_ATTEMPTS


def test_too_many_requests_waits_as_long_as_the_gateway_asks(db, gateway, texting_patient):  # type: ignore[no-untyped-def]
    gateway.plan("429")
    message = _text(db, texting_patient)
    at = now()
    notify.deliver_pending(db, _gateway_channel(gateway), now=at)
    assert message.status == "retrying" and message.next_attempt_at == at + timedelta(seconds=600)


def test_an_unreachable_gateway_loses_nothing(db, texting_patient):  # type: ignore[no-untyped-def]
    down = notify.SmsGateway("http://127.0.0.1:9/messages", sender="c", template=TEMPLATE, timeout=5.0)
    message = _text(db, texting_patient)
    counts = notify.deliver_pending(db, {"sms": down})
    assert counts.retrying == 1 and message.status == "retrying" and message.last_error.startswith("SMS gateway")


def test_a_text_without_consent_on_record_is_never_sent(db, gateway, pat_id):  # type: ignore[no-untyped-def]
    message = _text(db, pat_id)
    counts = notify.deliver_pending(db, _gateway_channel(gateway))
    assert counts.cancelled == 1 and message.status == "cancelled"
    assert message.last_error == "no consent on record for sms"
    assert gateway.state()["requests"] == []


def test_a_withdrawn_consent_stops_texts_already_queued(db, gateway, texting_patient, patient_pat):  # type: ignore[no-untyped-def]
    message = _text(db, texting_patient)
    record_consent(db, patient_pat.actor, texting_patient, ConsentIn(channel="sms", granted=False, how="link"),
                   now=now())
    assert notify.deliver_pending(db, _gateway_channel(gateway)).cancelled == 1
    assert message.last_error == "the patient withdrew consent to sms"
    assert gateway.state()["requests"] == []


def test_without_a_gateway_texts_go_to_the_file_sink(db, tmp_path, texting_patient):  # type: ignore[no-untyped-def]
    from mildpath.settings import Settings

    settings = Settings(database_url="sqlite://", secret_key="k" * 48, data_dir=str(tmp_path))
    message = _text(db, texting_patient, body="ñ link")
    assert notify.deliver_pending(db, notify.channels_for(settings)).sent == 1
    (line,) = (tmp_path / "sms-outbox.ndjson").read_text(encoding="utf-8").splitlines()
    assert json.loads(line) == {"idempotency_key": str(message.id), "to": "+15550107788", "from": "", "text": "ñ link"}


def test_each_message_is_committed_before_the_next_is_tried(world, gateway, pat_id, session_factory):  # type: ignore[no-untyped-def]
    """deliver_outbox: a transaction per message (a crash after the gateway accepted one never resends it)."""
    factory = session_factory
    with factory() as s, s.begin():
        patient = s.get(Patient, pat_id)
        patient.phone = "+15550107788"
        record_consent(s, Actor.system("tests"), pat_id, ConsentIn(channel="sms", granted=True, how="form"),
                       now=now())
        ids = [_text(s, pat_id, body=f"text {n}").id for n in range(3)]
    gateway.plan("ok", "400", "ok")
    counts = notify.deliver_outbox(factory, _gateway_channel(gateway))
    assert counts.failed == 1
    with factory() as s:
        statuses = [s.scalar(select(OutboxMessage.status).where(OutboxMessage.id == i)) for i in ids]
    assert statuses == ["sent", "failed", "sent"]
