"""recovery: recovery-plan settings, symptom-diary entries and triage flags

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-26 12:00:00

Written by hand from store/recovery.py (its own branch off the foundation, like every subject).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0001"
branch_labels = ("recovery",)
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "recovery_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("procedure_date", sa.Date(), nullable=False),
        sa.Column("no_lifting_weeks", sa.Integer(), nullable=True),
        sa.Column("physical_therapy", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_recovery_plans_patient_id_patients")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_recovery_plans_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_plans")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_recovery_plans_patient_id")),
    )
    op.create_table(
        "diary_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("entered_by", sa.Integer(), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answers", JSON, nullable=False),
        sa.Column("days_since_procedure", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("advice", sa.Text(), nullable=False),
        sa.Column("rules_version", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_diary_entries_patient_id_patients")),
        sa.ForeignKeyConstraint(["entered_by"], ["users.id"], name=op.f("fk_diary_entries_entered_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diary_entries")),
    )
    with op.batch_alter_table("diary_entries", schema=None) as batch_op:
        batch_op.create_index("ix_diary_entries_patient_id_entered_at", ["patient_id", "entered_at"], unique=False)

    op.create_table(
        "triage_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_triage_flags_patient_id_patients")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["diary_entries.id"], name=op.f("fk_triage_flags_entry_id_diary_entries")
        ),
        sa.ForeignKeyConstraint(["acknowledged_by"], ["users.id"], name=op.f("fk_triage_flags_acknowledged_by_users")),
        sa.ForeignKeyConstraint(["resolved_by"], ["users.id"], name=op.f("fk_triage_flags_resolved_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_flags")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_triage_flags_entry_id")),
    )
    with op.batch_alter_table("triage_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_triage_flags_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index("ix_triage_flags_status_created_at", ["status", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("triage_flags", schema=None) as batch_op:
        batch_op.drop_index("ix_triage_flags_status_created_at")
        batch_op.drop_index(batch_op.f("ix_triage_flags_patient_id"))
    op.drop_table("triage_flags")
    with op.batch_alter_table("diary_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_diary_entries_patient_id_entered_at")
    op.drop_table("diary_entries")
    op.drop_table("recovery_plans")
