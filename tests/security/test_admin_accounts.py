"""The admin's account page (issue 20): an admin changes a staff account's role (audited, holding at the account's
next request) and resets another account's lost second factor; nobody changes their own role, and a patient's or
a caregiver's account keeps its role."""

from __future__ import annotations

import pyotp
from sqlalchemy import select

from mildpath.services import mfa
from mildpath.services.clock import now
from mildpath.store.mfa import UserMfa
from mildpath.store.models import AuditEvent, User
from tests.helpers import login, page_csrf


def test_an_admin_changes_a_clinicians_role_and_it_holds_at_the_next_request(  # type: ignore[no-untyped-def]
    client, db, admin_ada, dr_bob_other_clinic
):
    bob = dr_bob_other_clinic
    assert client.get("/api/v1/me", headers=bob.auth).json()["role"] == "clinician"
    login(client, admin_ada)
    csrf = page_csrf(client, f"/admin/users/{bob.user_id}")
    assert client.post(f"/admin/users/{bob.user_id}/role", data={"role": "admin"}).status_code == 403  # CSRF
    done = client.post(f"/admin/users/{bob.user_id}/role", data={"csrf_token": csrf, "role": "admin"})
    assert done.status_code == 200 and "now admin" in done.text
    assert db.get(User, bob.user_id).role == "admin"
    assert client.get("/api/v1/me", headers=bob.auth).json()["role"] == "admin"
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "user.role",
                                               AuditEvent.record_id == str(bob.user_id)))
    assert (event.actor_user_id, event.detail) == (admin_ada.user_id, {"from": "clinician", "to": "admin"})


def test_roles_an_admin_cannot_change(client, db, admin_ada, dr_alice, patient_pat):  # type: ignore[no-untyped-def]
    login(client, admin_ada)
    csrf = page_csrf(client, f"/admin/users/{dr_alice.user_id}")
    unknown = client.post(f"/admin/users/{dr_alice.user_id}/role", data={"csrf_token": csrf, "role": "superuser"})
    assert unknown.status_code == 422 and db.get(User, dr_alice.user_id).role == "clinician"
    own = client.post(f"/admin/users/{admin_ada.user_id}/role", data={"csrf_token": csrf, "role": "clinician"})
    assert own.status_code == 422 and db.get(User, admin_ada.user_id).role == "admin"
    patient = client.post(f"/admin/users/{patient_pat.user_id}/role", data={"csrf_token": csrf, "role": "admin"})
    assert patient.status_code == 422 and db.get(User, patient_pat.user_id).role == "patient"
    assert "Change role" not in client.get(f"/admin/users/{patient_pat.user_id}").text


def test_an_admin_resets_another_accounts_second_factor_from_the_page(client, db, admin_ada, dr_bob_other_clinic):  # type: ignore[no-untyped-def]
    bob = dr_bob_other_clinic
    at = now()
    keys = mfa.Keys("a-secret-key-for-this-test-only-0123456789")
    secret = mfa.begin_enrolment(db, bob.actor, keys=keys, now=at).secret
    mfa.confirm_enrolment(db, bob.actor, pyotp.TOTP(secret).at(at), keys=keys, now=at)
    db.flush()
    assert mfa.enrolled(db, bob.user_id)
    login(client, admin_ada)
    csrf = page_csrf(client, f"/admin/users/{bob.user_id}")
    done = client.post(f"/admin/users/{bob.user_id}/mfa/reset", data={"csrf_token": csrf})
    assert done.status_code == 200 and "second factor was removed" in done.text
    assert db.scalar(select(UserMfa).where(UserMfa.user_id == bob.user_id)) is None
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "mfa.reset",
                                              AuditEvent.record_id == str(bob.user_id))) is not None
    own = client.post(f"/admin/users/{admin_ada.user_id}/mfa/reset", data={"csrf_token": csrf})
    assert own.status_code == 422 and mfa.enrolled(db, admin_ada.user_id)


def test_an_admin_requires_a_second_factor_for_a_clinics_staff(client, db, admin_ada, dr_alice):  # type: ignore[no-untyped-def]
    from mildpath.store.models import Clinic

    login(client, admin_ada)
    assert "/admin/clinics" in client.get("/admin/users").text
    csrf = page_csrf(client, "/admin/clinics")
    url = f"/admin/clinics/{dr_alice.clinic_id}/staff-mfa"
    assert client.post(url, data={"csrf_token": csrf, "required": "yes"}).status_code == 303
    assert db.get(Clinic, dr_alice.clinic_id).staff_mfa_required is True
    assert "required" in client.get("/admin/clinics").text
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "clinic.staff_mfa"))
    assert (event.actor_user_id, event.detail) == (admin_ada.user_id, {"required": True})
    client.cookies.clear()
    login(client, dr_alice)  # no second factor yet: only its set-up page
    assert client.get("/patients").headers.get("location") == "/account/mfa"
    client.cookies.clear()
    login(client, admin_ada)
    csrf = page_csrf(client, "/admin/clinics")
    assert client.post(url, data={"csrf_token": csrf, "required": "no"}).status_code == 303
    assert db.get(Clinic, dr_alice.clinic_id).staff_mfa_required is False
