"""The patient's own messaging pages (issue 20): ``/me/messages`` (which channels the clinic may use: email,
texts and messages inside mildpath, each a consent recorded with how ``form``; the language, the patient's own
quiet hours) and ``/me/inbox`` (the in-app messages the clinic sent them)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from mildpath.domain.errors import InvalidInput
from mildpath.services import consent as consent_svc
from mildpath.services import inbox as svc
from mildpath.services.clock import now as clock_now
from mildpath.web.deps import PatientSelf, PatientSelfForm, RecordId, SessionDep
from mildpath.web.pages._common import form_errors, redirect, render

router = APIRouter(include_in_schema=False)

NAV = {"patient": [
    {"href": "/me/inbox", "label": "Messages", "blurb": "Messages from your clinic"},
    {"href": "/me/messages", "label": "How we contact you", "blurb": "Email, texts, language and quiet hours"},
]}
CONSENT_CHANNELS: tuple[consent_svc.Channel, ...] = ("email", "sms", "in_app")


def _preferences_page(request: Request, prefs: consent_svc.ContactPreferences, **extra) -> Response:  # type: ignore[no-untyped-def]
    context = {"prefs": prefs, "channels": CONSENT_CHANNELS, "errors": [], "saved": request.query_params.get("saved")}
    context.update(extra)
    return render(request, "messages/preferences.html", context, status_code=422 if extra.get("errors") else 200)


@router.get("/me/messages")
def preferences_page(request: Request, actor: PatientSelf, session: SessionDep) -> Response:
    assert actor.patient_id is not None
    return _preferences_page(request, consent_svc.contact_preferences(session, actor, actor.patient_id))


@router.post("/me/messages")
async def save_preferences(request: Request, actor: PatientSelfForm, session: SessionDep) -> Response:
    assert actor.patient_id is not None
    form = await request.form()
    consents = {channel: form.get(channel) == "on" for channel in CONSENT_CHANNELS}
    try:
        data = consent_svc.ContactPreferencesIn.model_validate(
            {"preferred_language": str(form.get("preferred_language", "")),
             "quiet_hours": str(form.get("quiet_hours", ""))})
        consent_svc.set_contact_preferences(session, actor, actor.patient_id, data, consents=consents,
                                            now=clock_now())
    except (ValidationError, InvalidInput) as exc:
        prefs = consent_svc.contact_preferences(session, actor, actor.patient_id)
        return _preferences_page(request, prefs, errors=form_errors(exc))
    return redirect("/me/messages?saved=1")


@router.get("/me/inbox")
def inbox_page(request: Request, actor: PatientSelf, session: SessionDep) -> Response:
    assert actor.patient_id is not None
    messages = svc.list_inbox(session, actor, actor.patient_id)
    return render(request, "messages/inbox.html", {"messages": messages})


@router.post("/me/inbox/{message_id}/read")
def mark_read(request: Request, message_id: RecordId, actor: PatientSelfForm, session: SessionDep) -> Response:
    assert actor.patient_id is not None
    svc.mark_read(session, actor, actor.patient_id, message_id, now=clock_now())
    return redirect("/me/inbox")
