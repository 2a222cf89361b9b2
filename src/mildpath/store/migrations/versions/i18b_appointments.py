"""appointments and the tasks a procedure appointment derives (issue 18)

Revision ID: i18b_appointments
Revises: r20_caregivers
Create Date: 2026-12-07 12:30:00

Written by hand from store/scheduling.py. ``referral_id`` points at the referral the appointment serves (the
referrals table comes just before, in ``i18a_referrals``); a referral erased leaves the appointment unlinked.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i18b_appointments"
down_revision = "i18a_referrals"
branch_labels = None
depends_on = "0004"


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("clinician_user_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("procedure_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_appointments_patient_id_patients")),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name=op.f("fk_appointments_clinic_id_clinics")),
        sa.ForeignKeyConstraint(["clinician_user_id"], ["users.id"],
                                name=op.f("fk_appointments_clinician_user_id_users")),
        sa.ForeignKeyConstraint(["procedure_id"], ["procedures.id"],
                                name=op.f("fk_appointments_procedure_id_procedures")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_appointments_created_by_users")),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"], name=op.f("fk_appointments_referral_id_referrals"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    op.create_index(op.f("ix_appointments_patient_id"), "appointments", ["patient_id"])
    op.create_index("ix_appointments_clinic_id_start_at", "appointments", ["clinic_id", "start_at"])
    op.create_table(
        "appointment_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointments.id"],
                                name=op.f("fk_appointment_tasks_appointment_id_appointments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_tasks")),
    )
    op.create_index(op.f("ix_appointment_tasks_appointment_id"), "appointment_tasks", ["appointment_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_appointment_tasks_appointment_id"), table_name="appointment_tasks")
    op.drop_table("appointment_tasks")
    op.drop_index("ix_appointments_clinic_id_start_at", table_name="appointments")
    op.drop_index(op.f("ix_appointments_patient_id"), table_name="appointments")
    op.drop_table("appointments")
