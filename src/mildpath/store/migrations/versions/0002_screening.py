"""screening: stored candidacy screenings (self-checks, clinician assessments, FHIR imports)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:00:00

Written by hand from store/screenings.py (its own branch off the foundation, like every subject).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = ("screening",)
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "screenings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("criteria_set", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("result", JSON, nullable=False),
        sa.Column("answers", JSON, nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_screenings_patient_id_patients")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_screenings_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screenings")),
    )
    with op.batch_alter_table("screenings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_screenings_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index("ix_screenings_patient_id_kind", ["patient_id", "kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("screenings", schema=None) as batch_op:
        batch_op.drop_index("ix_screenings_patient_id_kind")
        batch_op.drop_index(batch_op.f("ix_screenings_patient_id"))
    op.drop_table("screenings")
