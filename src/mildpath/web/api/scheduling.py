"""/api/v1 appointments (issue 18): book, list, move and cancel; each as iCalendar, and the patient's feed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from mildpath.services import clock
from mildpath.services import scheduling as svc
from mildpath.web.deps import AppointmentRecordActor, PatientId, PublicActor, RecordId, SchedulingActor, SessionDep
from mildpath.web.downloads import CALENDAR, attachment
from mildpath.web.i18n import N_, translations

router = APIRouter(tags=["scheduling"])
ICS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/calendar": {}}, "description": "iCalendar (RFC 5545), in the clinic's time zone"}
}
TITLES = {
    "evaluation": N_("Evaluation visit"),
    "procedure": N_("Procedure"),
    "follow_up": N_("Follow-up visit"),
    "calendar": N_("My appointments"),
}


def titles(language: str) -> Mapping[str, str]:
    """The calendar's words in the patient's language."""
    catalogue = translations(language)
    return {kind: catalogue.gettext(text) for kind, text in TITLES.items()}


def _ics(body: bytes, name: str) -> Response:
    return attachment(body, CALENDAR, name)


@router.get("/api/v1/patients/{patient_id}/appointments", response_model=list[svc.AppointmentView])
def list_appointments(patient_id: PatientId, actor: AppointmentRecordActor, session: SessionDep
                      ) -> list[svc.AppointmentView]:
    """The patient's appointments, earliest first, with times in UTC and in the clinic's zone."""
    return svc.list_for_patient(session, actor, patient_id)


@router.post("/api/v1/patients/{patient_id}/appointments", response_model=svc.AppointmentView, status_code=201)
def book_appointment(patient_id: PatientId, body: svc.AppointmentIn, actor: SchedulingActor, session: SessionDep
                     ) -> svc.AppointmentView:
    """Book an appointment (coordinators, clinicians); a procedure creates its tasks and questionnaire dates."""
    return svc.book(session, actor, patient_id, body, now=clock.now())


@router.patch("/api/v1/appointments/{appointment_id}", response_model=svc.AppointmentView)
def change_appointment(appointment_id: RecordId, body: svc.AppointmentChange, actor: SchedulingActor,
                       session: SessionDep) -> svc.AppointmentView:
    """Move or cancel an appointment (or mark it done); what a procedure derived moves or cancels with it."""
    return svc.change(session, actor, appointment_id, body, now=clock.now())


@router.get("/api/v1/appointments/{appointment_id}/calendar.ics", response_class=Response, responses=ICS)
def appointment_ics(appointment_id: RecordId, actor: AppointmentRecordActor, session: SessionDep) -> Response:
    return _ics(svc.appointment_ics(session, actor, appointment_id, now=clock.now(), titles=titles),
                f"appointment-{appointment_id}.ics")


@router.get("/api/v1/patients/{patient_id}/appointments.ics", response_class=Response, responses=ICS)
def patient_appointments_ics(patient_id: PatientId, actor: AppointmentRecordActor, session: SessionDep) -> Response:
    return _ics(svc.patient_ics(session, actor, patient_id, now=clock.now(), titles=titles), "appointments.ics")


@router.get("/api/v1/patients/{patient_id}/calendar-feed")
def calendar_feed_link(request: Request, patient_id: PatientId, actor: AppointmentRecordActor, session: SessionDep
                       ) -> dict[str, str]:
    """The patient's calendar feed URL, for a calendar app to subscribe to (it needs no sign-in)."""
    settings = request.app.state.settings
    token = svc.feed_token(session, actor, patient_id, secret_key=settings.secret_key)
    return {"url": f"{settings.links_base}/api/v1/calendar/{token}.ics"}


@router.get("/api/v1/calendar/{token}.ics", response_class=Response, responses=ICS)
def calendar_feed(
    request: Request, token: Annotated[str, Path(max_length=80)], actor: PublicActor, session: SessionDep
) -> Response:
    """The patient's appointments as a subscribable feed; the token in the URL is the only key."""
    body = svc.feed_ics(session, token, secret_key=request.app.state.settings.secret_key, now=clock.now(),
                        titles=titles)
    return _ics(body, "appointments.ics")
