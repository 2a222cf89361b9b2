"""Finding and deleting every row about one patient, from the tables' foreign keys (patient rights, issue 10).

The plan is derived from ``Base.metadata`` at call time, so a subject table added later is covered without
changes here: a row is about the patient when it references the patient's ``patients`` row, or a row that is
itself about the patient (a diary entry's triage flag, a procedure's observations, the patient's login and its
tokens, sessions and outbox messages), through any foreign key. The audit trail has no foreign keys (its
``patient_id`` is a plain number) and is never touched: it holds no personal data and must outlive erasure.

Rows are deleted children first (reverse dependency order), each table with one ``DELETE ... WHERE fk IN
(SELECT ...)`` whose subqueries follow the foreign keys up to the patient, so nothing is loaded into memory.
A table that references itself is followed one level (rows pointing at a deleted row are not chased further).
Nothing here commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Executable, Table, delete, false, func, or_, select
from sqlalchemy.orm import Session

from mildpath.store.all_models import load_all
from mildpath.store.models import IdempotencyKey, LoginAttempt, OutboxMessage, Patient, User

ROOT = "patients"


@dataclass(frozen=True)
class ErasurePlan:
    """Tables holding rows about a patient, children first, and how each row is reached."""

    tables: tuple[Table, ...]
    edges: dict[str, tuple[tuple[str, str, str], ...]]  # table -> (fk column, referred table, referred column)


def erasure_plan() -> ErasurePlan:
    """Every table reachable from ``patients`` by following foreign keys backwards, children first."""
    metadata = load_all().metadata
    referencing: dict[str, list[tuple[str, str, str, str]]] = {}
    for table in metadata.sorted_tables:
        for fk in table.foreign_keys:
            referred = fk.column.table.name
            referencing.setdefault(referred, []).append((table.name, fk.parent.name, referred, fk.column.name))
    reached = {ROOT}
    frontier = [ROOT]
    while frontier:
        current = frontier.pop()
        for child, *_ in referencing.get(current, []):
            if child not in reached:
                reached.add(child)
                frontier.append(child)
    edges: dict[str, list[tuple[str, str, str]]] = {}
    for referred in reached:
        for child, column, _, referred_column in referencing.get(referred, []):
            edges.setdefault(child, []).append((column, referred, referred_column))
    ordered = tuple(t for t in reversed(metadata.sorted_tables) if t.name in reached)
    return ErasurePlan(ordered, {k: tuple(sorted(v)) for k, v in edges.items()})


def _where(plan: ErasurePlan, name: str, patient_id: int, path: frozenset[str]) -> ColumnElement[bool]:
    tables = {t.name: t for t in plan.tables}
    table = tables[name]
    if name == ROOT:
        return table.c.id == patient_id
    parts: list[ColumnElement[bool]] = []
    for column, referred, referred_column in plan.edges.get(name, ()):
        if referred in path:  # a cycle (or a self-reference): follow it once only
            continue
        parent = tables[referred]
        inner = _where(plan, referred, patient_id, path | {name})
        parts.append(table.c[column].in_(select(parent.c[referred_column]).where(inner)))
    return or_(*parts) if parts else false()


def count_patient_rows(session: Session, *, patient_id: int) -> dict[str, int]:
    """How many rows each table holds about the patient (tables with none are left out)."""
    plan = erasure_plan()
    out: dict[str, int] = {}
    for table in plan.tables:
        where = _where(plan, table.name, patient_id, frozenset())
        n = int(session.scalar(select(func.count()).select_from(table).where(where)) or 0)
        if n:
            out[table.name] = n
    return out


def delete_patient_rows(session: Session, *, patient_id: int) -> dict[str, int]:
    """Delete every row about the patient (see the module docstring); returns rows deleted per table.

    Also removes rows that name the patient without a foreign key: stored ``Idempotency-Key`` answers about
    the patient (they repeat the response, names included), outbox messages addressed to the patient's email
    and login attempts with the email of the patient's account.
    """
    plan = erasure_plan()
    counts: dict[str, int] = {}
    emails = _patient_emails(session, patient_id)
    extra = delete_unlinked_copies(session, patient_id=patient_id, emails=emails)
    for table in plan.tables:
        result = _run(session, delete(table).where(_where(plan, table.name, patient_id, frozenset())))
        if result.rowcount:
            counts[table.name] = counts.get(table.name, 0) + int(result.rowcount)
    for name, n in extra.items():
        if n:
            counts[name] = counts.get(name, 0) + n
    return counts


def _run(session: Session, statement: Executable) -> CursorResult[Any]:
    """A DELETE/UPDATE's result, which carries ``rowcount`` (``Session.execute`` is typed for SELECTs)."""
    return cast("CursorResult[Any]", session.execute(statement))


def _patient_emails(session: Session, patient_id: int) -> set[str]:
    emails = set(session.scalars(select(User.email).where(User.patient_id == patient_id)))
    emails |= set(session.scalars(select(Patient.email).where(Patient.id == patient_id)))
    return {e.strip().lower() for e in emails if e and e.strip()}


def delete_unlinked_copies(session: Session, *, patient_id: int, emails: set[str] | None = None) -> dict[str, int]:
    """Delete copies of the patient's details held without a foreign key to the patient (see above)."""
    emails = _patient_emails(session, patient_id) if emails is None else emails
    keys = idempotency_rows_about(session, patient_id=patient_id)
    counts = {IdempotencyKey.__tablename__: 0, OutboxMessage.__tablename__: 0, LoginAttempt.__tablename__: 0}
    if keys:
        counts[IdempotencyKey.__tablename__] = int(
            _run(session, delete(IdempotencyKey).where(IdempotencyKey.id.in_(keys))).rowcount or 0
        )
    if emails:
        counts[OutboxMessage.__tablename__] = int(
            _run(session, delete(OutboxMessage).where(OutboxMessage.recipient_address.in_(emails))).rowcount or 0
        )
        counts[LoginAttempt.__tablename__] = int(
            _run(session, delete(LoginAttempt).where(LoginAttempt.email.in_(emails))).rowcount or 0
        )
    return counts


def idempotency_rows_about(session: Session, *, patient_id: int) -> list[int]:
    """Ids of stored ``Idempotency-Key`` answers about the patient: a path under ``/patients/<id>``, or a
    stored body whose top level is the patient (``id`` on a ``/patients`` path) or names it (``patient_id``)."""
    prefix = f"/patients/{patient_id}"
    candidates = session.execute(
        select(IdempotencyKey.id, IdempotencyKey.path, IdempotencyKey.body).where(
            or_(
                IdempotencyKey.path.contains(prefix),
                IdempotencyKey.body.contains(f'"patient_id": {patient_id}'),
                IdempotencyKey.body.contains(f'"id": {patient_id}'),
            )
        )
    ).all()
    out = []
    for row_id, path, body in candidates:
        tail = path.split(prefix, 1)[1] if prefix in path else None
        if tail is not None and (tail == "" or tail.startswith("/")):
            out.append(row_id)
            continue
        try:
            data = json.loads(body or "null")
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        is_patient = path.rstrip("/").endswith("/patients") and data.get("id") == patient_id
        if is_patient or data.get("patient_id") == patient_id:
            out.append(row_id)
    return out
