"""Fixtures for the education web suite: demo patients by stage, reading audit rows and PDF text."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mildpath.demo import STAGES
from mildpath.store.models import AuditEvent

SECTION_ID = re.compile(r'<section id="([a-z0-9-]+)" class="education-section">')


def demo_patient(world, stage: str) -> int:  # type: ignore[no-untyped-def]
    """The id of the first demo patient at ``stage`` (see demo/__init__.py STAGES)."""
    index = next(i for i, (name, _) in enumerate(STAGES) if name == stage)
    return int(world.demo_patient_ids[index])


@pytest.fixture
def no_plan_patient_id(world) -> int:  # type: ignore[no-untyped-def]
    """A demo patient who only did the self-check: no recovery plan, no procedure date."""
    return demo_patient(world, "self_check")


def audit_rows(db: Session, action: str, patient_id: int | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.action == action)
    if patient_id is not None:
        stmt = stmt.where(AuditEvent.patient_id == patient_id)
    return list(db.scalars(stmt.order_by(AuditEvent.id)))


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages)


def section_ids(html: str) -> list[str]:
    return SECTION_ID.findall(html)
