"""proms: questionnaire responses and the reminders queued for open timepoints

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-26 12:00:00

Written by hand from store/proms.py (its own branch off the foundation, like every subject).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0001"
branch_labels = ("proms",)
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "prom_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("instrument", sa.String(length=16), nullable=False),
        sa.Column("timepoint", sa.String(length=16), nullable=False),
        sa.Column("procedure_date", sa.Date(), nullable=True),
        sa.Column("after_treatment", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answers", JSON, nullable=False),
        sa.Column("current_step", sa.Integer(), nullable=False),
        sa.Column("scores", JSON, nullable=True),
        sa.Column("entry_mode", sa.String(length=16), nullable=False),
        sa.Column("entered_by", sa.Integer(), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_prom_responses_patient_id_patients")),
        sa.ForeignKeyConstraint(["entered_by"], ["users.id"], name=op.f("fk_prom_responses_entered_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prom_responses")),
        sa.UniqueConstraint("patient_id", "instrument", "timepoint", "procedure_date", name="prom_slot"),
    )
    with op.batch_alter_table("prom_responses", schema=None) as batch_op:
        batch_op.create_index("ix_prom_responses_patient_id_answered_on", ["patient_id", "answered_on"], unique=False)
        batch_op.create_index("ix_prom_responses_status_instrument", ["status", "instrument"], unique=False)

    op.create_table(
        "prom_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("timepoint", sa.String(length=16), nullable=False),
        sa.Column("procedure_date", sa.Date(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_prom_reminders_patient_id_patients")),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], name=op.f("fk_prom_reminders_outbox_id_outbox")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prom_reminders")),
        sa.UniqueConstraint("patient_id", "timepoint", "procedure_date", name="prom_reminder_slot"),
    )


def downgrade() -> None:
    op.drop_table("prom_reminders")
    with op.batch_alter_table("prom_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_prom_responses_status_instrument")
        batch_op.drop_index("ix_prom_responses_patient_id_answered_on")
    op.drop_table("prom_responses")
