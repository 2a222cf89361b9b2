"""CDS Hooks feedback feeds the coordination workflow (issues 18 and 19): an accepted card opens a referral in the
clinic whose EHR asked, for the EHR's patient; an overridden card shows in the override report with its reason."""

from __future__ import annotations

from datetime import date

from mildpath.store import referrals as referral_store
from tests.screening.vignettes import Vignette
from tests.screening_web.conftest import cds_request
from tests.smart.conftest import register
from tests.smart.test_cds_jwt import ISSUER, SERVICE, _bearer


def _card(client, ehr, signer) -> str:  # type: ignore[no-untyped-def]
    resp = client.post(SERVICE, json=cds_request(Vignette("typical", "likely_candidate")),
                       headers=_bearer(signer, ehr, SERVICE))
    assert resp.status_code == 200, resp.text
    return str(resp.json()["cards"][0]["uuid"])


def _feedback(client, ehr, signer, card: str, outcome: str, **extra):  # type: ignore[no-untyped-def]
    item = {"card": card, "outcome": outcome, "outcomeTimestamp": f"{date.today().isoformat()}T12:00:00Z", **extra}
    return client.post(f"{SERVICE}/feedback", json={"feedback": [item]},
                       headers=_bearer(signer, ehr, f"{SERVICE}/feedback"))


def test_an_accepted_card_opens_a_referral_for_the_ehrs_patient_in_the_clinic_that_asked(
    client, db, rsa_signer, dr_alice
):
    ehr = register(db, rsa_signer, issuer=ISSUER, scopes=[], clinic_id=dr_alice.actor.clinic_id)
    card = _card(client, ehr, rsa_signer)
    assert _feedback(client, ehr, rsa_signer, card, "accepted").status_code == 200
    found = referral_store.open_for(db, clinic_id=dr_alice.actor.clinic_id, patient_id=None,
                                    subject_ref="Patient/pat-1")
    assert found is not None and found.state == "new"

    def card_sources() -> list[str]:
        return [s.key for s in referral_store.sources_of(db, referral_ids=[found.id])[found.id] if s.kind == "cds_card"]

    assert card_sources() == [f"cds-card:{card}"]
    assert _feedback(client, ehr, rsa_signer, card, "accepted").status_code == 200  # the same card again
    assert card_sources() == [f"cds-card:{card}"]  # one source, never a duplicate


def test_an_overridden_card_is_counted_in_the_override_report_with_the_ehrs_reason(
    client, db, rsa_signer, dr_alice
):
    ehr = register(db, rsa_signer, issuer=ISSUER, scopes=[], clinic_id=dr_alice.actor.clinic_id)
    card = _card(client, ehr, rsa_signer)
    reason = {"reason": {"system": "http://example.org/reasons", "code": "patient-declined"}, "userComment": "No"}
    assert _feedback(client, ehr, rsa_signer, card, "overridden", overrideReason=reason).status_code == 200
    today = date.today().isoformat()
    resp = client.get("/api/v1/reports/overrides", headers=dr_alice.auth, params={"from": today, "to": today})
    assert resp.status_code == 200, resp.text
    report = resp.json()
    cds = report["cds_feedback"]
    assert cds and all(row["overridden"] >= 1 and row["reasons"].get("patient-declined", 0) >= 1 for row in cds)


def test_a_card_asked_by_a_client_bound_to_no_clinic_keeps_only_its_feedback(client, db, rsa_signer, dr_alice):
    ehr = register(db, rsa_signer, issuer=ISSUER, scopes=[])
    card = _card(client, ehr, rsa_signer)
    before = referral_store.open_for(db, clinic_id=dr_alice.actor.clinic_id, patient_id=None,
                                     subject_ref="Patient/pat-1")
    assert _feedback(client, ehr, rsa_signer, card, "accepted").status_code == 200
    after = referral_store.open_for(db, clinic_id=dr_alice.actor.clinic_id, patient_id=None,
                                    subject_ref="Patient/pat-1")
    assert (before is None) == (after is None)
