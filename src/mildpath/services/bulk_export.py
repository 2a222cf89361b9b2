"""FHIR Bulk Data ``$export`` (issue 19; contracts §11): kick-off, status, download and cancel, access-checked
and audited; and the background worker that runs the jobs.

Who may export what is :func:`may_export`'s one decision (the SMART Backend Services work extends it with a
client's scopes): an admin the whole system, a clinician or coordinator their own clinic (``Patient/$export``
means their clinic's patients; ``Group/<clinic id>/$export`` only their clinic's Group). Only the account that
kicked a job off may poll it, download its files or cancel it; to anyone else it does not exist (404).

A job is a database row (store/bulk_exports.py). ``mildpath serve`` runs :func:`run_due` every
``MILDPATH_BULK_EXPORT_INTERVAL_SECONDS`` in a thread of its own: it requeues jobs whose worker died (still
running ``MILDPATH_BULK_EXPORT_STALE_SECONDS`` after they started; three tries, then failed), deletes files whose
time is up (``MILDPATH_BULK_EXPORT_EXPIRY_HOURS``), and runs the queued jobs one by one. The resources are
exactly what ``mildpath export fhir`` writes (services/outcomes_export.py), of the job's clinic when it has one,
written by ``reports.exports.write_ndjson``: every file under a temporary name, renamed only when complete, and
the job is marked complete only after that, so a half-written file is never listed or served. A rerun starts
from an empty folder.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from mildpath.domain.errors import NotFound, PermissionDenied
from mildpath.fhir import bulk
from mildpath.fhir import server as fhir_server
from mildpath.reports.exports import write_ndjson
from mildpath.services import clock, smart
from mildpath.services.access import Actor, record
from mildpath.services.outcomes_export import bulk_fhir_resources
from mildpath.settings import Settings
from mildpath.store import bulk_exports as store
from mildpath.store import clinics as clinics_store
from mildpath.store import referrals as referrals_store
from mildpath.store import smart as smart_store
from mildpath.store.db import transaction

log = logging.getLogger("mildpath.bulk")
LEVELS = ("system", "patient", "group")
EXPORTERS = ("clinician", "coordinator", "admin", "backend")  # backend: a SMART client with system scopes
MAX_ATTEMPTS = 3
RETRY_AFTER_SECONDS = 2


@dataclass(frozen=True)
class ExportFile:
    type: str
    file: str
    count: int


@dataclass(frozen=True)
class ExportJob:
    """A job as its requester sees it."""

    id: str
    status: str  # queued | running | completed | failed
    request_url: str
    transaction_time: datetime | None
    expires_at: datetime | None
    files: tuple[ExportFile, ...]
    error: str = ""  # a failed job's reason (never patient data)


def may_export(session: Session, actor: Actor, level: str, group_id: str | None = None) -> int | None:
    """The clinic the actor may export at this level (``None``: every clinic), or an access error.

    ``system``: admins only. ``patient``: an admin every patient, clinicians and coordinators their clinic's.
    ``group``: the Group of one clinic (its id is the clinic's), an admin any, the others only their own;
    another clinic's Group is :class:`NotFound`, like one that does not exist."""
    if level not in LEVELS:
        raise ValueError(level)
    if actor.role not in EXPORTERS:
        raise PermissionDenied("exports are for staff accounts")
    if actor.role == "backend":
        return _backend_clinic(session, actor, level, group_id)
    if level == "system":
        if actor.role != "admin":
            raise PermissionDenied("a system-level export is for admins; export your clinic's Group")
        return None
    if level == "patient":
        return None if actor.role == "admin" else _own_clinic(actor)
    clinic_id = _group_clinic(group_id)[0]
    if clinic_id is None or clinics_store.get_or_none(session, clinic_id=clinic_id) is None:
        raise NotFound(f"no Group/{group_id}", record_type="Group")
    if actor.role != "admin" and clinic_id != actor.clinic_id:
        raise NotFound(f"no Group/{group_id}", record_type="Group")
    return clinic_id


def _group_clinic(group_id: str | None) -> tuple[int | None, str]:
    """A Group id as (clinic id, kind): ``<clinic id>`` the clinic's Group, ``referrals-<clinic id>`` its open
    referral list (kind ``referrals``); (None, "") for anything else."""
    rest = group_id or ""
    kind = ""
    if rest.startswith(fhir_server.REFERRAL_GROUP_PREFIX):
        rest, kind = rest.removeprefix(fhir_server.REFERRAL_GROUP_PREFIX), "referrals"
    return (int(rest), kind) if rest.isdigit() else (None, "")


def _backend_clinic(session: Session, actor: Actor, level: str, group_id: str | None) -> int | None:
    """A SMART backend client: its scopes must read every type (``system/*.read`` or ``system/*.rs``); a
    clinic-bound client exports its clinic (its Group only), a system-wide one every clinic."""
    if not smart.may_export(actor, level):
        raise PermissionDenied("a Bulk Data export needs system/*.read (or system/*.rs) in the token's scopes")
    if level != "group":
        return actor.clinic_id
    clinic_id = _group_clinic(group_id)[0]
    found = clinic_id is not None and clinics_store.get_or_none(session, clinic_id=clinic_id) is not None
    if not found or (actor.clinic_id is not None and clinic_id != actor.clinic_id):
        raise NotFound(f"no Group/{group_id}", record_type="Group")
    return clinic_id


def _own_clinic(actor: Actor) -> int:
    if actor.clinic_id is None:
        raise PermissionDenied("this account belongs to no clinic")
    return actor.clinic_id


def jobs_dir(data_dir: str) -> Path:
    return Path(data_dir) / "bulk"


def kick_off(
    session: Session, actor: Actor, *, level: str, group_id: str | None, kickoff: bulk.Kickoff, request_url: str,
    now: datetime,
) -> ExportJob:
    """Queue an export (202 at the caller); audited as ``fhir.export_kickoff`` with its level and scope."""
    clinic_id = may_export(session, actor, level, group_id)
    row = store.add(session, job_id=secrets.token_hex(16), requester_user_id=actor.user_id,
                    requester_client_id=actor.email if actor.role == "backend" else None, level=level,
                    clinic_id=clinic_id, request_url=request_url, types=list(kickoff.types), since=kickoff.since,
                    type_filters=list(kickoff.type_filters), now=now,
                    group_kind=_group_clinic(group_id)[1] if level == "group" else "")
    record(session, actor, "fhir.export_kickoff", "BulkExport", row.id, None,
           {"level": level, "clinic_id": clinic_id, "types": list(kickoff.types)})
    return _view(row)


def _requested_by(row: store.BulkExportJob, actor: Actor) -> bool:
    if actor.role == "backend":
        return row.requester_client_id is not None and row.requester_client_id == actor.email
    return actor.user_id is not None and row.requester_user_id == actor.user_id


def _mine(session: Session, actor: Actor, job_id: str, now: datetime) -> store.BulkExportJob:
    row = store.get(session, job_id=job_id)
    if (
        row is None
        or not _requested_by(row, actor)
        or row.status not in store.LIVE
        or (row.expires_at is not None and row.expires_at <= now)
    ):
        raise NotFound("no such export job", record_type="BulkExport")
    return row


def _view(row: store.BulkExportJob) -> ExportJob:
    files = tuple(ExportFile(o["type"], o["file"], int(o["count"])) for o in row.output or [])
    return ExportJob(row.id, row.status, row.request_url, row.started_at, row.expires_at, files, row.error or "")


def status(session: Session, actor: Actor, job_id: str, *, now: datetime) -> ExportJob:
    """The job's state, for its requester only (:class:`NotFound` for anyone else, or once cancelled/expired)."""
    return _view(_mine(session, actor, job_id, now))


def cancel(session: Session, actor: Actor, job_id: str, *, data_dir: str, now: datetime) -> None:
    """The client's ``DELETE``: the job stops counting (a running one's result is thrown away) and its files go."""
    row = _mine(session, actor, job_id, now)
    row.status = "cancelled"
    row.finished_at = now
    row.output = []
    shutil.rmtree(jobs_dir(data_dir) / row.id, ignore_errors=True)
    record(session, actor, "fhir.export_cancel", "BulkExport", row.id, None)


def output_file(session: Session, actor: Actor, job_id: str, file_name: str, *, data_dir: str, now: datetime) -> Path:
    """The path of one complete output file of a completed job (requester only); audited as a download."""
    row = _mine(session, actor, job_id, now)
    listed = {o["file"]: o for o in row.output or []} if row.status == "completed" else {}
    if file_name not in listed:
        raise NotFound("no such export file", record_type="BulkExportFile")
    path = jobs_dir(data_dir) / row.id / file_name
    if not path.is_file():
        raise NotFound("no such export file", record_type="BulkExportFile")
    record(session, actor, "fhir.export_download", listed[file_name]["type"], row.id, None,
           {"count": listed[file_name]["count"]})
    return path


# ------------------------------------------------------------------------------------------ the worker


def run_due(settings: Settings, factory: sessionmaker[Session], *, limit: int = 10) -> int:
    """One round of the worker: requeue dead jobs, delete expired files, run queued jobs; returns jobs run."""
    now = clock.now()
    stale = now - timedelta(seconds=settings.bulk_export_stale_seconds)
    with transaction(factory) as session:
        for row in store.stale_running(session, started_before=stale):
            shutil.rmtree(jobs_dir(settings.data_dir) / row.id, ignore_errors=True)
            if row.attempts >= MAX_ATTEMPTS:
                row.status, row.error, row.finished_at = "failed", "the export was interrupted too often", now
                row.expires_at = now + timedelta(hours=settings.bulk_export_expiry_hours)
            else:
                row.status = "queued"
        for row in store.expired(session, now=now):
            shutil.rmtree(jobs_dir(settings.data_dir) / row.id, ignore_errors=True)
            row.status, row.output = "expired", []
        waiting = [(row.id, row.attempts) for row in store.queued(session, limit=limit)]
    ran = 0
    for job_id, attempts in waiting:
        ran += run_job(settings, factory, job_id, attempts)
    return ran


def run_job(settings: Settings, factory: sessionmaker[Session], job_id: str, attempts: int) -> int:
    """Claim and run one queued job (0 when another worker took it first)."""
    with transaction(factory) as session:
        if not store.claim(session, job_id=job_id, attempts=attempts, now=clock.now()):
            return 0
        row = store.get(session, job_id=job_id)
        assert row is not None
        actor = Actor(row.requester_user_id, "system", None, None, row.requester_client_id or "bulk-export", "worker")
        kickoff = bulk.Kickoff(tuple(row.types or ()), row.since, type_filters=tuple(row.type_filters or ()))
        clinic_id = row.clinic_id
        referral_list = row.group_kind == "referrals"
        refused = _refusal(session, row)
    folder = jobs_dir(settings.data_dir) / job_id
    if attempts:  # a rerun starts from nothing (the first run's folder is new: the id is)
        shutil.rmtree(folder, ignore_errors=True)
    output: list[dict[str, Any]] = []
    error = refused
    try:
        if refused:
            raise _Refused
        with transaction(factory) as session:
            only = referrals_store.open_in_clinic(session, clinic_id=clinic_id or 0) if referral_list else None
            found = bulk_fhir_resources(session, actor, clinic_id=clinic_id, patient_ids=only)
            filters = kickoff.filters()
            counts = write_ndjson((r for r in found if bulk.keep(r, kickoff, filters)), folder)
        order = {t: i for i, t in enumerate(bulk.EXPORT_TYPES)}
        for rtype in sorted(counts, key=lambda t: (order.get(t, len(order)), t)):
            output.append({"type": rtype, "file": f"{rtype}.ndjson", "count": counts[rtype]})
    except _Refused:
        log.warning("bulk export refused at run time (the requester may no longer export)")
    except Exception as exc:  # the job fails cleanly: no files, the reason's type kept (never patient data)
        log.warning("bulk export failed (%s)", type(exc).__name__)
        shutil.rmtree(folder, ignore_errors=True)
        error = f"the export failed ({type(exc).__name__})"
    now = clock.now()
    with transaction(factory) as session:
        finished = store.finish(
            session, job_id=job_id, attempts=attempts + 1, status="failed" if error else "completed", now=now,
            expires_at=now + timedelta(hours=settings.bulk_export_expiry_hours), output=output, error=error,
        )
    if not finished:  # cancelled (or taken over) meanwhile: its files are not anyone's
        shutil.rmtree(folder, ignore_errors=True)
    return 1


class _Refused(Exception):
    """The requester may no longer export: the job fails without reading any patient data."""


def _refusal(session: Session, row: store.BulkExportJob) -> str:
    """Why the job's requester may no longer run it ("" when they still may): checked again when the job runs,
    so an account deactivated, a client disabled, or a role or clinic changed after the kick-off exports nothing."""
    group_id = None
    if row.level == "group" and row.clinic_id is not None:
        prefix = fhir_server.REFERRAL_GROUP_PREFIX if row.group_kind == "referrals" else ""
        group_id = f"{prefix}{row.clinic_id}"
    if row.requester_client_id is not None:
        client = smart_store.client(session, client_id=row.requester_client_id)
        if client is None or not client.active:
            return "the export's client was disabled after the kick-off"
        if client.clinic_id is not None and client.clinic_id != row.clinic_id:
            return "the export's client no longer covers what the job exports"
        return ""
    user = store.requester_user(session, user_id=row.requester_user_id) if row.requester_user_id else None
    if user is None or not user.active:
        return "the account that kicked the export off is no longer active"
    try:
        allowed = may_export(session, Actor.for_user(user), row.level, group_id)
    except (PermissionDenied, NotFound):
        allowed = -1
    if allowed != row.clinic_id:
        return "the account that kicked the export off may no longer export this"
    return ""


def start_export_thread(settings: Settings, factory: sessionmaker[Session], stop: threading.Event) -> threading.Thread:
    """Run :func:`run_due` every ``settings.bulk_export_interval_seconds`` until ``stop`` is set."""

    def loop() -> None:
        while True:
            try:
                run_due(settings, factory)
            except Exception as exc:  # the thread must outlive a database hiccup; the next round tries again
                log.warning("bulk export round failed (%s)", type(exc).__name__)
            if stop.wait(settings.bulk_export_interval_seconds):
                return

    thread = threading.Thread(target=loop, name="mildpath-bulk-export", daemon=True)
    thread.start()
    return thread
