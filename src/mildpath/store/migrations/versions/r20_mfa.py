"""staff multi-factor: TOTP secrets and recovery codes, sessions waiting for the code, per-clinic rule (issue 20)

Revision ID: r20_mfa
Revises: r20_access
Create Date: 2026-12-07 07:10:00

Written by hand from store/mfa.py and store/models.py (WebSession.mfa_pending, Clinic.staff_mfa_required).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision = "r20_mfa"
down_revision = "r20_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_mfa",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recovery_digests", JSON, nullable=False),
        sa.Column("last_step", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_mfa_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_mfa")),
        sa.UniqueConstraint("user_id", name=op.f("uq_user_mfa_user_id")),
    )
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(sa.Column("mfa_pending", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("clinics") as batch:
        batch.add_column(sa.Column("staff_mfa_required", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("clinics") as batch:
        batch.drop_column("staff_mfa_required")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("mfa_pending")
    op.drop_table("user_mfa")
