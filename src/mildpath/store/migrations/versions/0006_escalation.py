"""escalation and emergency number: clinic on-call contact and time limits, flags' escalation time (issue 15)

Revision ID: 0006
Revises: 0001 (depends on 0005: its own branch, like every subject)
Create Date: 2026-12-07 00:40:00

Written by hand from store/models.py (Clinic) and store/recovery.py (TriageFlag.escalated_at).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0001"
branch_labels = ("escalation",)
depends_on = "0005"

CLINIC_COLUMNS = (
    ("emergency_number", sa.String(40), ""),
    ("oncall_name", sa.String(200), ""),
    ("oncall_email", sa.String(254), ""),
    ("oncall_phone", sa.String(40), ""),
)


def upgrade() -> None:
    with op.batch_alter_table("clinics") as batch:
        for name, kind, default in CLINIC_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=False, server_default=default))
        batch.add_column(sa.Column("escalate_emergency_minutes", sa.Integer(), nullable=False, server_default="30"))
        batch.add_column(sa.Column("escalate_same_day_minutes", sa.Integer(), nullable=False, server_default="240"))
    with op.batch_alter_table("triage_flags") as batch:
        batch.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("triage_flags") as batch:
        batch.drop_column("escalated_at")
    with op.batch_alter_table("clinics") as batch:
        for name in (
            "escalate_same_day_minutes",
            "escalate_emergency_minutes",
            *(c[0] for c in reversed(CLINIC_COLUMNS)),
        ):
            batch.drop_column(name)
