"""procedures: scheduled procedures, observations, adverse events and reinterventions

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-26 12:00:00

Written by hand from store/procedures.py (its own branch off the foundation, like every subject).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0001"
branch_labels = ("procedures",)
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "procedures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scheduled_date", sa.Date(), nullable=False),
        sa.Column("operator_user_id", sa.Integer(), nullable=True),
        sa.Column("checklist", JSON, nullable=False),
        sa.Column("checklist_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("override_by", sa.String(length=200), nullable=False),
        sa.Column("override_user_id", sa.Integer(), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=False),
        sa.Column("override_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("override_items", JSON, nullable=False),
        sa.Column("record", JSON, nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("readiness", JSON, nullable=True),
        sa.Column("discharge", JSON, nullable=True),
        sa.Column("discharge_kind", sa.String(length=16), nullable=True),
        sa.Column("discharged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overnight_reason", sa.Text(), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_procedures_patient_id_patients")),
        sa.ForeignKeyConstraint(["operator_user_id"], ["users.id"], name=op.f("fk_procedures_operator_user_id_users")),
        sa.ForeignKeyConstraint(["override_user_id"], ["users.id"], name=op.f("fk_procedures_override_user_id_users")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_procedures_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procedures")),
    )
    with op.batch_alter_table("procedures", schema=None) as batch_op:
        batch_op.create_index("ix_procedures_patient_id_scheduled_date", ["patient_id", "scheduled_date"], unique=False)
        batch_op.create_index("ix_procedures_scheduled_date_status", ["scheduled_date", "status"], unique=False)

    op.create_table(
        "procedure_observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_by", sa.String(length=200), nullable=False),
        sa.Column("vitals", JSON, nullable=True),
        sa.Column("neuro", JSON, nullable=True),
        sa.Column("pain", sa.Integer(), nullable=True),
        sa.Column("walking", sa.String(length=16), nullable=True),
        sa.Column("voided", sa.Boolean(), nullable=True),
        sa.Column("aldrete", sa.Integer(), nullable=True),
        sa.Column("padss", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("entered_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["procedure_id"], ["procedures.id"], name=op.f("fk_procedure_observations_procedure_id_procedures")
        ),
        sa.ForeignKeyConstraint(["entered_by"], ["users.id"], name=op.f("fk_procedure_observations_entered_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procedure_observations")),
    )
    with op.batch_alter_table("procedure_observations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_procedure_observations_procedure_id_taken_at", ["procedure_id", "taken_at"], unique=False
        )

    op.create_table(
        "adverse_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("onset", sa.Date(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("entered_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["procedure_id"], ["procedures.id"], name=op.f("fk_adverse_events_procedure_id_procedures")
        ),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_adverse_events_patient_id_patients")),
        sa.ForeignKeyConstraint(["entered_by"], ["users.id"], name=op.f("fk_adverse_events_entered_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_events")),
    )
    with op.batch_alter_table("adverse_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adverse_events_procedure_id"), ["procedure_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_adverse_events_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "reinterventions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column("levels", JSON, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("entered_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["procedure_id"], ["procedures.id"], name=op.f("fk_reinterventions_procedure_id_procedures")
        ),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_reinterventions_patient_id_patients")),
        sa.ForeignKeyConstraint(["entered_by"], ["users.id"], name=op.f("fk_reinterventions_entered_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reinterventions")),
    )
    with op.batch_alter_table("reinterventions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reinterventions_procedure_id"), ["procedure_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reinterventions_patient_id"), ["patient_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reinterventions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reinterventions_patient_id"))
        batch_op.drop_index(batch_op.f("ix_reinterventions_procedure_id"))
    op.drop_table("reinterventions")
    with op.batch_alter_table("adverse_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adverse_events_patient_id"))
        batch_op.drop_index(batch_op.f("ix_adverse_events_procedure_id"))
    op.drop_table("adverse_events")
    with op.batch_alter_table("procedure_observations", schema=None) as batch_op:
        batch_op.drop_index("ix_procedure_observations_procedure_id_taken_at")
    op.drop_table("procedure_observations")
    with op.batch_alter_table("procedures", schema=None) as batch_op:
        batch_op.drop_index("ix_procedures_scheduled_date_status")
        batch_op.drop_index("ix_procedures_patient_id_scheduled_date")
    op.drop_table("procedures")
