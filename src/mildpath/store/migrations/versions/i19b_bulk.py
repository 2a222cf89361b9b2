"""bulk export jobs: FHIR Bulk Data $export kick-offs run in the background (issue 19)

Revision ID: i19b_bulk
Revises: r20_caregivers
Create Date: 2026-12-07 12:30:00

Written by hand from store/bulk_exports.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "i19b_bulk"
down_revision = "i19a_smart"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "bulk_export_jobs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("requester_user_id", sa.Integer(), nullable=True),
        sa.Column("requester_client_id", sa.String(64), nullable=True),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=True),
        sa.Column("request_url", sa.Text(), nullable=False),
        sa.Column("types", JSON, nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("type_filters", JSON, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("output", JSON, nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["requester_user_id"], ["users.id"],
                                name=op.f("fk_bulk_export_jobs_requester_user_id_users")),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name=op.f("fk_bulk_export_jobs_clinic_id_clinics")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_export_jobs")),
    )
    op.create_index(op.f("ix_bulk_export_jobs_requester_user_id"), "bulk_export_jobs", ["requester_user_id"])
    op.create_index(op.f("ix_bulk_export_jobs_status"), "bulk_export_jobs", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_bulk_export_jobs_status"), table_name="bulk_export_jobs")
    op.drop_index(op.f("ix_bulk_export_jobs_requester_user_id"), table_name="bulk_export_jobs")
    op.drop_table("bulk_export_jobs")
