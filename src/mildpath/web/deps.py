"""Typed dependencies: one transaction per request, the calling actor, and the route's access policy.

Every route declares a :class:`Policy` (``tests/web/test_authorization_matrix.py`` walks the route table and
fails on a route without one). The policy authenticates (bearer token under ``/api``, session cookie for
pages), checks the role and returns the :class:`~mildpath.services.access.Actor`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import inspect
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from mildpath.domain.errors import PermissionDenied
from mildpath.services import auth, clock, mfa, smart
from mildpath.services import caregivers as caregivers_svc
from mildpath.services.access import Actor
from mildpath.settings import Settings
from mildpath.store.db import READ_FIRST, transaction
from mildpath.web.forms import check_form, read_body
from mildpath.web.problems import CsrfFailed, LoginRequired, MfaEnrolmentRequired
from mildpath.web.security import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, csrf_valid


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


SLOT_TIMEOUT = 5.0  # seconds a request may queue for SQLite's writer before it answers 503 with Retry-After
SLOT_QUEUE = 256  # requests of one process queued for the writer beyond which the next one answers 503 at once
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # their transactions start as readers (store/db.py)


async def sqlite_write_slot(request: Request) -> AsyncIterator[None]:
    """On SQLite, one request of this process at a time holds a database transaction; the others queue here,
    on the event loop, holding no worker thread.

    Why: every SQLite transaction takes the write lock (BEGIN IMMEDIATE, store/db.py) from the policy check
    to the commit, across several worker-thread calls (dependencies, handler, teardown). If requests queued
    for the lock *inside* worker threads, a burst could occupy every thread of the pool with waiters, and the
    request holding the lock could never get a thread to finish and commit: the server would stall until
    the waits timed out. Queued here, the waiters cost nothing and the holder always has a thread. PostgreSQL
    runs transactions side by side and skips this. Several worker processes still share the file: between
    them SQLite's own lock decides (one waiter per process).
    """
    if not request.app.state.settings.is_sqlite or request.method in READ_METHODS:
        yield  # PostgreSQL; or a read-first transaction, which takes no lock unless it writes (store/db.py)
        return
    state = request.app.state
    loop = asyncio.get_running_loop()
    if getattr(state, "write_slot_loop", None) is not loop:  # an asyncio.Lock belongs to one event loop
        state.write_slot, state.write_slot_loop = asyncio.Lock(), loop
        state.write_slot_waiting = 0
    lock: asyncio.Lock = state.write_slot
    if state.write_slot_waiting >= SLOT_QUEUE:  # overloaded: say so at once rather than queue for seconds
        raise sqlite3.OperationalError("database is locked (too many requests queued for the writer)")
    state.write_slot_waiting += 1
    try:
        await asyncio.wait_for(lock.acquire(), timeout=SLOT_TIMEOUT)
    except TimeoutError:
        raise sqlite3.OperationalError("database is locked (queued too long for the writer)") from None
    finally:
        state.write_slot_waiting -= 1
    try:
        yield
    finally:
        lock.release()


def get_session(
    request: Request, _slot: Annotated[None, Depends(sqlite_write_slot, scope="function")]
) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back when it raises.

    Declared with ``scope="function"`` where it is used, so the commit happens *before* the response is
    sent: a client that got its acknowledgement knows the row is on disk (the crash test relies on it).
    """
    with transaction(request.app.state.session_factory) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

ANONYMOUS = "anonymous"
#: where a SMART backend client's access token is read (elsewhere it is no one's token: 401); the route's policy
#: then admits role ``backend`` or not, and the service checks the token's scopes.
BACKEND_PATHS = ("/fhir/", "/api/v1/enrolments")
MFA_SETUP_PATHS = frozenset({"/account/mfa", "/logout", "/language"})  # what a staff member without the second
# factor they must use can still open


def _resolve(request: Request, session: Session, settings: Settings) -> Actor:
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    address = getattr(request.state, "client_address", "") or ""
    actor = Actor(None, ANONYMOUS, address=address)
    request.state.csrf_binding = "anon:" + (getattr(request.state, "anon_id", "") or "")
    if request.url.path.startswith(("/api/", "/fhir/")):
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            user = auth.user_for_token(session, value.strip())
            if user is not None:
                actor = Actor.for_user(user, address)
                request.state.preferred_language = auth.interface_language(session, user)
            elif request.url.path.startswith(BACKEND_PATHS):  # a SMART backend client's token (/auth/token)
                actor = smart.actor_for_token(session, value.strip(), now=clock.now(), address=address) or actor
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            user = auth.user_for_session(
                session,
                cookie,
                clock.now(),
                idle=timedelta(minutes=settings.session_idle_minutes),
                absolute=timedelta(hours=settings.session_absolute_hours),
            )
            if user is not None:
                actor = Actor.for_user(user, address)
                if user.role != "patient" and mfa.enrolment_needed(session, user):
                    request.state.mfa_enrolment_needed = True
                request.state.csrf_binding = "sess:" + cookie
                request.state.user_name = user.display_name
                request.state.preferred_language = auth.interface_language(session, user)
    request.state.actor = actor
    return actor


def begin(request: Request, session: Session) -> None:
    """Begin the request's transaction (once): a reader for GET/HEAD/OPTIONS, a writer otherwise (see Policy)."""
    if session.in_transaction():
        return
    if request.method in READ_METHODS:
        session.connection(execution_options={READ_FIRST: True})
    else:
        session.connection()


@dataclass(frozen=True)
class Policy:
    """Who may call a route. ``roles`` empty means anyone, logged in or not.

    ``own`` documents how the route limits records to the caller (``"patient"``: the patient id in the path
    must be visible to the actor, enforced by the service's access function; ``"none"``: no record).
    """

    name: str
    roles: frozenset[str]
    own: str = "none"
    caregiver_scope: str = ""  # routes a caregiver may call: what they do there (services/caregivers.py)

    def __call__(self, request: Request, session: SessionDep, settings: SettingsDep) -> Actor:
        # Begin the request's transaction here, in the worker thread FastAPI runs this sync dependency in: on
        # SQLite a writing request takes the write lock (BEGIN IMMEDIATE, store/db.py). An `async def`
        # handler's database calls run on the event loop; if its first one had to wait for the lock there, the
        # loop would stop, and with it the commit of the request holding the lock (a 30-second deadlock).
        # A GET begins as a reader: it never queues behind writers (WAL), and takes the lock only if it writes.
        begin(request, session)
        actor = _resolve(request, session, settings)
        if getattr(request.state, "mfa_enrolment_needed", False) and request.url.path not in MFA_SETUP_PATHS:
            raise MfaEnrolmentRequired()
        if not self.roles:
            return actor
        if actor.role == ANONYMOUS:
            raise LoginRequired()
        if actor.role not in self.roles:
            raise PermissionDenied(f"this page is for {' or '.join(sorted(self.roles))} accounts")
        if actor.role == "caregiver":
            patient_id = str(request.path_params.get("patient_id", ""))
            if patient_id.isdigit() and len(patient_id) < 10:  # the banner of every page acting for a patient
                request.state.acting_for = caregivers_svc.acting_for(session, actor, int(patient_id))
            return dataclasses.replace(actor, scope=self.caregiver_scope)
        return actor


@dataclass(frozen=True)
class SharedSecretPolicy(Policy):
    """A machine calling back (the SMS gateway's inbound replies, contracts §10): admitted with
    ``Authorization: Bearer <secret>`` matching the setting ``secret_setting`` (never when it is empty).
    Anyone else gets 401, or 403 when signed in as a person."""

    secret_setting: str = ""

    def __call__(self, request: Request, session: SessionDep, settings: SettingsDep) -> Actor:
        session.connection()
        expected = str(getattr(settings, self.secret_setting, "") or "")
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if expected and scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), expected.encode()):
            return Actor.system(self.name)
        if _resolve(request, session, settings).role == ANONYMOUS:
            raise LoginRequired()
        raise PermissionDenied("this address is for the SMS gateway")


PUBLIC = Policy("public", frozenset())
SIGNED_IN = Policy("signed_in", frozenset({"patient", "clinician", "admin", "caregiver"}))
STAFF = Policy("staff", frozenset({"clinician", "admin"}))
ADMIN = Policy("admin", frozenset({"admin"}))
PATIENT_RECORD = Policy("patient_record", frozenset({"patient", "clinician", "admin"}), own="patient")
STAFF_PATIENT_RECORD = Policy("staff_patient_record", frozenset({"clinician", "admin"}), own="patient")
PATIENT_SELF = Policy("patient_self", frozenset({"patient"}), own="self")
CAREGIVER = Policy("caregiver", frozenset({"caregiver"}))
# Issue 20: enrolment from the EHR: the clinic's clinicians and coordinators, or its EHR as a registered SMART
# backend client (bound to the clinic, with create on the resource type: services/enrolments.py checks both).
ENROLMENT = Policy("enrolment", frozenset({"clinician", "coordinator", "backend"}))
DIARY_RECORD = Policy(
    "diary_record", frozenset({"patient", "clinician", "admin", "caregiver"}), own="patient", caregiver_scope="diary"
)
QUESTIONNAIRE_RECORD = Policy(
    "questionnaire_record", frozenset({"patient", "clinician", "admin", "caregiver"}), own="patient",
    caregiver_scope="questionnaires",
)
PLAN_RECORD = Policy(
    "plan_record", frozenset({"patient", "clinician", "admin", "caregiver"}), own="patient", caregiver_scope="read"
)
# Issue 18: coordinators and clinicians work their clinic's referrals (admins: every clinic); the decision is a
# clinician's alone (services/referrals.py).
REFERRAL_WORK = Policy("referral_work", frozenset({"coordinator", "clinician", "admin"}))
REFERRAL_DECISION = Policy("referral_decision", frozenset({"clinician"}))
# Scheduling (issue 18): coordinators and clinicians of the patient's clinic, and admins, book and change
# appointments; the patient reads their own.
SCHEDULING = Policy("scheduling", frozenset({"clinician", "coordinator", "admin"}), own="patient")
APPOINTMENT_RECORD = Policy(
    "appointment_record", frozenset({"patient", "clinician", "coordinator", "admin"}), own="patient"
)
# Issue 20: the clinic invites patients and sends them sign-in links: its clinicians and coordinators (and admins).
PATIENT_INVITE = Policy("patient_invite", frozenset({"clinician", "coordinator", "admin"}))
SCHEDULE_DESK = Policy("schedule_desk", frozenset({"clinician", "coordinator", "admin"}))  # the clinic's day
SMS_GATEWAY = SharedSecretPolicy("sms-gateway", frozenset({"sms-gateway"}), secret_setting="sms_inbound_secret")

PublicActor = Annotated[Actor, Depends(PUBLIC)]
SignedIn = Annotated[Actor, Depends(SIGNED_IN)]
Staff = Annotated[Actor, Depends(STAFF)]
Admin = Annotated[Actor, Depends(ADMIN)]
PatientRecordActor = Annotated[Actor, Depends(PATIENT_RECORD)]
StaffPatientRecordActor = Annotated[Actor, Depends(STAFF_PATIENT_RECORD)]
PatientSelf = Annotated[Actor, Depends(PATIENT_SELF)]
SmsGateway = Annotated[Actor, Depends(SMS_GATEWAY)]
CaregiverActor = Annotated[Actor, Depends(CAREGIVER)]
Enroller = Annotated[Actor, Depends(ENROLMENT)]
DiaryRecordActor = Annotated[Actor, Depends(DIARY_RECORD)]
PlanRecordActor = Annotated[Actor, Depends(PLAN_RECORD)]
QuestionnaireRecordActor = Annotated[Actor, Depends(QUESTIONNAIRE_RECORD)]
ReferralWorker = Annotated[Actor, Depends(REFERRAL_WORK)]
ReferralClinician = Annotated[Actor, Depends(REFERRAL_DECISION)]
SchedulingActor = Annotated[Actor, Depends(SCHEDULING)]
AppointmentRecordActor = Annotated[Actor, Depends(APPOINTMENT_RECORD)]
ScheduleDesk = Annotated[Actor, Depends(SCHEDULE_DESK)]
PatientInviter = Annotated[Actor, Depends(PATIENT_INVITE)]


async def _verify_csrf(request: Request) -> None:
    body = await read_body(request)
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        form = await request.form()
        raw = form.get(CSRF_FIELD)
        token = raw if isinstance(raw, str) else None
    binding = getattr(request.state, "csrf_binding", None) or "anon:" + (getattr(request.state, "anon_id", "") or "")
    if not csrf_valid(request.app.state.settings.secret_key, binding, token):
        raise CsrfFailed()
    await check_form(request, body)  # the text rules every form shares (web/forms.py)


def with_csrf(policy: Policy) -> Callable[..., Awaitable[Actor]]:
    """The policy, plus the CSRF check every state-changing form needs (the token is bound to the session
    the policy just resolved, or to the anonymous visitor)."""

    async def dependency(request: Request, actor: Actor) -> Actor:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            await _verify_csrf(request)
        return actor

    # The annotations of a closure are strings here (postponed evaluation) that FastAPI cannot resolve
    # against module globals, so the signature is given as real objects.
    dependency.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
            inspect.Parameter(
                "actor", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Annotated[Actor, Depends(policy)]
            ),
        ],
        return_annotation=Actor,
    )
    dependency.policy = policy  # type: ignore[attr-defined]
    return dependency


PublicForm = Annotated[Actor, Depends(with_csrf(PUBLIC))]
SignedInForm = Annotated[Actor, Depends(with_csrf(SIGNED_IN))]
StaffForm = Annotated[Actor, Depends(with_csrf(STAFF))]
AdminForm = Annotated[Actor, Depends(with_csrf(ADMIN))]
PatientRecordForm = Annotated[Actor, Depends(with_csrf(PATIENT_RECORD))]
StaffPatientRecordForm = Annotated[Actor, Depends(with_csrf(STAFF_PATIENT_RECORD))]
PatientSelfForm = Annotated[Actor, Depends(with_csrf(PATIENT_SELF))]
DiaryRecordForm = Annotated[Actor, Depends(with_csrf(DIARY_RECORD))]
QuestionnaireRecordForm = Annotated[Actor, Depends(with_csrf(QUESTIONNAIRE_RECORD))]
ReferralWorkerForm = Annotated[Actor, Depends(with_csrf(REFERRAL_WORK))]
ReferralClinicianForm = Annotated[Actor, Depends(with_csrf(REFERRAL_DECISION))]


# Ids in paths are bounded so a huge number is a clean 422, never a database overflow.
PatientId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Patient id")]
RecordId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Record id")]
