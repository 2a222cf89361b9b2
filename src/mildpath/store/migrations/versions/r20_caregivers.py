"""caregivers: who acts for a patient, and what they may do (issue 20)

Revision ID: r20_caregivers
Revises: r20_enrolments
Create Date: 2026-12-07 07:30:00

Written by hand from store/caregivers.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r20_caregivers"
down_revision = "r20_enrolments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "caregivers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("relation", sa.String(60), nullable=False),
        sa.Column("can_read", sa.Boolean(), nullable=False),
        sa.Column("can_diary", sa.Boolean(), nullable=False),
        sa.Column("can_questionnaires", sa.Boolean(), nullable=False),
        sa.Column("can_reminders", sa.Boolean(), nullable=False),
        sa.Column("how", sa.String(16), nullable=False),
        sa.Column("granted_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_caregivers_patient_id_patients")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_caregivers_user_id_users")),
        sa.ForeignKeyConstraint(["granted_by_user_id"], ["users.id"],
                                name=op.f("fk_caregivers_granted_by_user_id_users")),
        sa.ForeignKeyConstraint(["revoked_by_user_id"], ["users.id"],
                                name=op.f("fk_caregivers_revoked_by_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caregivers")),
    )
    op.create_index(op.f("ix_caregivers_patient_id"), "caregivers", ["patient_id"])
    op.create_index(op.f("ix_caregivers_user_id"), "caregivers", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_caregivers_user_id"), table_name="caregivers")
    op.drop_index(op.f("ix_caregivers_patient_id"), table_name="caregivers")
    op.drop_table("caregivers")
