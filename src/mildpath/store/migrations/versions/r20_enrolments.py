"""enrolments from the EHR: ServiceRequests and Appointments that enrolled a patient (issue 20)

Revision ID: r20_enrolments
Revises: r20_mfa
Create Date: 2026-12-07 07:30:00

Written by hand from store/enrolments.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "r20_enrolments"
down_revision = "r20_mfa"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "enrolments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("resource_type", sa.String(20), nullable=False),
        sa.Column("identifier_system", sa.String(200), nullable=False),
        sa.Column("identifier_value", sa.String(200), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("pathway", sa.String(20), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=True),
        sa.Column("resource", JSON, nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name=op.f("fk_enrolments_clinic_id_clinics")),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_enrolments_patient_id_patients")),
        sa.ForeignKeyConstraint(["created_by_user_id"], ["users.id"],
                                name=op.f("fk_enrolments_created_by_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolments")),
        sa.UniqueConstraint("clinic_id", "resource_type", "identifier_system", "identifier_value",
                            name="enrolment_identifier"),
    )
    op.create_index(op.f("ix_enrolments_patient_id"), "enrolments", ["patient_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_enrolments_patient_id"), table_name="enrolments")
    op.drop_table("enrolments")
