"""Consent per channel (who, when, how; audited) and opting out by replying STOP (contracts §10's inbound hook)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mildpath.store.messaging import ChannelConsent
from mildpath.store.models import AuditEvent, Patient
from tests.helpers import login

SECRET = "inbound-secret-for-tests"


@pytest.fixture
def with_phone(db, pat_id):  # type: ignore[no-untyped-def]
    db.get(Patient, pat_id).phone = "+1 555 010 7788"
    db.flush()
    return pat_id


@pytest.fixture
def hook_secret(app):  # type: ignore[no-untyped-def]
    before = app.state.settings.sms_inbound_secret
    object.__setattr__(app.state.settings, "sms_inbound_secret", SECRET)
    yield SECRET
    object.__setattr__(app.state.settings, "sms_inbound_secret", before)


def _consent(client, persona, pid, **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/patients/{pid}/consents", json=body, headers=persona.auth)


def test_a_clinician_records_consent_given_on_a_form_and_it_is_audited(client, dr_alice, with_phone, db):  # type: ignore[no-untyped-def]
    resp = _consent(client, dr_alice, with_phone, channel="sms", granted=True, how="form")
    assert resp.status_code == 201, resp.text
    assert resp.json()["recorded_by_user_id"] == dr_alice.user_id
    summary = client.get(f"/api/v1/patients/{with_phone}/consents", headers=dr_alice.auth).json()
    assert summary["in_force"] == {"sms": True}
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "consent.grant",
                                              AuditEvent.patient_id == with_phone)) is not None


def test_a_patient_withdraws_their_own_consent_by_link(client, dr_alice, patient_pat, with_phone):  # type: ignore[no-untyped-def]
    _consent(client, dr_alice, with_phone, channel="sms", granted=True, how="clinician")
    resp = _consent(client, patient_pat, with_phone, channel="sms", granted=False, how="link")
    assert resp.status_code == 201, resp.text
    summary = client.get(f"/api/v1/patients/{with_phone}/consents", headers=patient_pat.auth).json()
    assert summary["in_force"] == {"sms": False} and [h["how"] for h in summary["history"]] == ["clinician", "link"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"channel": "fax", "granted": True, "how": "form"}, "channel"),
        ({"channel": "sms", "granted": "yes", "how": "form"}, "granted"),
        ({"channel": "sms", "granted": True, "how": "sms_stop"}, "how"),
    ],
)
def test_bad_consent_input_is_422_naming_the_field(client, dr_alice, with_phone, body, field):  # type: ignore[no-untyped-def]
    resp = _consent(client, dr_alice, with_phone, **body)
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"].endswith(field)


def test_consent_to_texts_needs_a_phone_number(client, dr_alice, pat_id, db):  # type: ignore[no-untyped-def]
    db.get(Patient, pat_id).phone = ""
    db.flush()
    resp = _consent(client, dr_alice, pat_id, channel="sms", granted=True, how="form")
    assert resp.status_code == 422 and "phone" in resp.json()["detail"]


def test_another_clinics_clinician_cannot_see_or_record_consent(client, dr_bob_other_clinic, with_phone):  # type: ignore[no-untyped-def]
    assert client.get(f"/api/v1/patients/{with_phone}/consents", headers=dr_bob_other_clinic.auth).status_code == 404
    assert _consent(client, dr_bob_other_clinic, with_phone, channel="sms", granted=True,
                    how="form").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic abc"])
def test_the_inbound_hook_refuses_callers_without_the_secret(client, hook_secret, header):  # type: ignore[no-untyped-def]
    headers = {"Authorization": header} if header else {}
    resp = client.post("/hooks/sms/inbound", json={"from": "+15550107788", "text": "STOP"}, headers=headers)
    assert resp.status_code == 401 and resp.headers["content-type"].startswith("application/problem+json")


def test_the_inbound_hook_is_closed_while_no_secret_is_set(client):  # type: ignore[no-untyped-def]
    resp = client.post("/hooks/sms/inbound", json={"from": "+1", "text": "STOP"}, headers={"Authorization": "Bearer "})
    assert resp.status_code == 401


@pytest.mark.parametrize("reply", ["STOP", "stop please", "Baja", "  ALTO.", "Parar"])
def test_a_stop_reply_withdraws_consent_to_texts(client, dr_alice, hook_secret, with_phone, db, reply):  # type: ignore[no-untyped-def]
    _consent(client, dr_alice, with_phone, channel="sms", granted=True, how="form")
    resp = client.post("/hooks/sms/inbound", json={"from": "+15550107788", "text": reply},
                       headers={"Authorization": f"Bearer {hook_secret}"})
    assert resp.status_code == 200 and resp.json() == {"action": "opted_out"}
    latest = db.scalars(select(ChannelConsent).where(ChannelConsent.patient_id == with_phone)
                        .order_by(ChannelConsent.id.desc())).first()
    assert (latest.channel, latest.granted, latest.how) == ("sms", False, "sms_stop")


def test_other_replies_change_nothing_and_an_unknown_number_answers_the_same(client, hook_secret, with_phone, db):  # type: ignore[no-untyped-def]
    auth = {"Authorization": f"Bearer {hook_secret}"}
    assert client.post("/hooks/sms/inbound", json={"from": "+15550107788", "text": "thanks, see you"},
                       headers=auth).json() == {"action": "ignored"}
    assert client.post("/hooks/sms/inbound", json={"from": "+19999999999", "text": "STOP"},
                       headers=auth).json() == {"action": "opted_out"}
    assert db.scalars(select(ChannelConsent).where(ChannelConsent.patient_id == with_phone)).all() == []


def test_a_signed_in_person_cannot_post_as_the_gateway(client, dr_alice, hook_secret):  # type: ignore[no-untyped-def]
    login(client, dr_alice)
    resp = client.post("/hooks/sms/inbound", json={"from": "+1", "text": "STOP"})
    assert resp.status_code == 403
