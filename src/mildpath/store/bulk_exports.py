"""Bulk Data ``$export`` jobs (issue 19; contracts §11): one row per kick-off, run in the background by the
server's worker thread (services/bulk_export.py). The files live under ``<data_dir>/bulk/<job id>/``; the row
says what they hold (``output``: type, file, count) once the job is complete.

States: ``queued`` -> ``running`` -> ``completed`` | ``failed``; ``cancelled`` (the client's DELETE) and
``expired`` (the files' time is up) are final and have no files. Keyword-only query and persist functions; none
commits (the caller owns the transaction).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from mildpath.store.base import Base, JSONType, UTCDateTime, utcnow
from mildpath.store.models import User

STATES = ("queued", "running", "completed", "failed", "cancelled", "expired")
LIVE = ("queued", "running", "completed", "failed")


class BulkExportJob(Base):
    __tablename__ = "bulk_export_jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, unguessable (in the status URL)
    # Who asked: a person (their account) or a SMART backend client (its client id); only they may poll it.
    requester_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True, nullable=True)
    requester_client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    level: Mapped[str] = mapped_column(String(8))  # system | patient | group
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"), nullable=True)  # None: every clinic
    request_url: Mapped[str] = mapped_column(Text)
    types: Mapped[list[str]] = mapped_column(JSONType, default=list)  # empty: every type
    since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    type_filters: Mapped[list[str]] = mapped_column(JSONType, default=list)  # "Type?search" as given
    group_kind: Mapped[str] = mapped_column(String(16), default="", server_default="")  # "" | referrals
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    output: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)  # [{type, file, count}]
    error: Mapped[str] = mapped_column(Text, default="")


def add(
    session: Session, *, job_id: str, requester_user_id: int | None, requester_client_id: str | None, level: str,
    clinic_id: int | None, request_url: str,
    types: list[str], since: datetime | None, type_filters: list[str], now: datetime, group_kind: str = "",
) -> BulkExportJob:
    row = BulkExportJob(id=job_id, requester_user_id=requester_user_id, requester_client_id=requester_client_id,
                        level=level, clinic_id=clinic_id, group_kind=group_kind,
                        request_url=request_url, types=types, since=since, type_filters=type_filters,
                        status="queued", attempts=0, created_at=now, output=[], error="")
    session.add(row)
    session.flush()
    return row


def get(session: Session, *, job_id: str) -> BulkExportJob | None:
    return session.get(BulkExportJob, job_id)


def requester_user(session: Session, *, user_id: int) -> User | None:
    """The account that kicked a job off (the worker re-checks it may still export)."""
    return session.get(User, user_id)


def claim(session: Session, *, job_id: str, attempts: int, now: datetime) -> bool:
    """Take a queued job (compare-and-set on its state and attempt count: two workers never both run it)."""
    result = session.execute(
        update(BulkExportJob)
        .where(BulkExportJob.id == job_id, BulkExportJob.status == "queued", BulkExportJob.attempts == attempts)
        .values(status="running", attempts=attempts + 1, started_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def queued(session: Session, *, limit: int) -> list[BulkExportJob]:
    stmt = select(BulkExportJob).where(BulkExportJob.status == "queued").order_by(BulkExportJob.created_at)
    return list(session.scalars(stmt.limit(limit)))


def stale_running(session: Session, *, started_before: datetime) -> list[BulkExportJob]:
    """Jobs marked running that started before this time (their worker died: a restart or a crash)."""
    stmt = select(BulkExportJob).where(
        BulkExportJob.status == "running", BulkExportJob.started_at < started_before
    )
    return list(session.scalars(stmt.order_by(BulkExportJob.created_at)))


def finish(
    session: Session, *, job_id: str, attempts: int, status: str, now: datetime, expires_at: datetime | None,
    output: list[dict[str, Any]], error: str,
) -> bool:
    """Record the end of the run ``attempts`` (False when the job was cancelled or taken over meanwhile)."""
    result = session.execute(
        update(BulkExportJob)
        .where(BulkExportJob.id == job_id, BulkExportJob.status == "running", BulkExportJob.attempts == attempts)
        .values(status=status, finished_at=now, expires_at=expires_at, output=output, error=error)
    )
    return bool(getattr(result, "rowcount", 0))


def expired(session: Session, *, now: datetime) -> list[BulkExportJob]:
    stmt = select(BulkExportJob).where(
        BulkExportJob.status.in_(("completed", "failed")), BulkExportJob.expires_at <= now
    )
    return list(session.scalars(stmt))
