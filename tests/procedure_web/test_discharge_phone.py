"""The discharge sheet always prints a phone number to call (issue 15 §6): the clinic's own, else
``MILDPATH_CLINIC_PHONE``; with neither, the discharge and the sheet are refused with a message naming the setting."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from mildpath.domain.errors import Conflict
from mildpath.services import clock
from mildpath.services import procedure_exports as exports
from mildpath.services import procedures as svc
from mildpath.store import procedures as store
from mildpath.store.models import Clinic, Patient
from tests.procedure_web.conftest import READINESS, complete_checklist, ready_observation, record_data


def _ready(db, actor, view):  # type: ignore[no-untyped-def]
    svc.update_checklist(
        db, actor, view.patient_id, view.id, complete_checklist(), today=clock.today(), now=clock.now()
    )
    svc.start_procedure(db, actor, view.patient_id, view.id, now=clock.now())
    svc.save_record(db, actor, view.patient_id, view.id, record_data(), now=clock.now())
    svc.add_observation(db, actor, view.patient_id, view.id, ready_observation(), now=clock.now())


def _clinic(db, view) -> Clinic:  # type: ignore[no-untyped-def]
    return db.get(Clinic, db.get(Patient, view.patient_id).clinic_id)


def test_without_any_phone_the_discharge_is_refused_naming_the_setting(db, dr_alice, scheduled):
    _ready(db, dr_alice.actor, scheduled)
    _clinic(db, scheduled).phone = ""
    db.flush()
    with pytest.raises(Conflict) as caught:
        svc.discharge(db, dr_alice.actor, scheduled.patient_id, scheduled.id, READINESS, now=clock.now())
    assert "MILDPATH_CLINIC_PHONE" in caught.value.message
    assert store.get_procedure(db, procedure_id=scheduled.id).discharge_kind is None
    with pytest.raises(Conflict, match="MILDPATH_CLINIC_PHONE"):
        exports.discharge_instructions(db, dr_alice.actor, scheduled.patient_id, scheduled.id, fmt="html")


def test_the_setting_stands_in_for_a_clinic_without_a_phone(db, dr_alice, scheduled):
    _ready(db, dr_alice.actor, scheduled)
    _clinic(db, scheduled).phone = ""
    db.flush()
    done = svc.discharge(
        db, dr_alice.actor, scheduled.patient_id, scheduled.id, READINESS, now=clock.now(), fallback_phone="+1 555 0999"
    )
    assert done.discharge is not None
    html = exports.discharge_instructions(
        db, dr_alice.actor, scheduled.patient_id, scheduled.id, fmt="html", fallback_phone="+1 555 0999"
    ).decode()
    assert "+1 555 0999" in html


def test_the_sheet_and_its_pdf_print_the_clinics_own_phone(db, dr_alice, scheduled):
    _ready(db, dr_alice.actor, scheduled)
    _clinic(db, scheduled).phone = "+1 555 0123"
    db.flush()
    svc.discharge(
        db, dr_alice.actor, scheduled.patient_id, scheduled.id, READINESS, now=clock.now(), fallback_phone="+1 555 0999"
    )
    html = exports.discharge_instructions(
        db, dr_alice.actor, scheduled.patient_id, scheduled.id, fmt="html", fallback_phone="+1 555 0999"
    ).decode()
    assert "+1 555 0123" in html and "+1 555 0999" not in html
    pdf = exports.discharge_instructions(db, dr_alice.actor, scheduled.patient_id, scheduled.id, fmt="pdf")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "+1 555 0123" in text
