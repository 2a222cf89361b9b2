"""reliability: Idempotency-Key fingerprints, API-token last use, login blocks

Revision ID: r21_fingerprint
Revises: 0001
Create Date: 2026-12-06 23:45:00

Written by hand (issue 21): the fingerprint web/idempotency.py compares to refuse a key reused for another
request (422); when an API token was last used (``mildpath token list``); the login blocks of contracts §7.
Its own branch off the foundation, like every subject.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r21_fingerprint"
down_revision = "0001"
branch_labels = ("reliability",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=False, server_default=""))
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "login_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_blocks")),
        sa.UniqueConstraint("scope", "key", name="scope_key"),
    )
    op.create_index(op.f("ix_login_blocks_email"), "login_blocks", ["email"])


def downgrade() -> None:
    op.drop_index(op.f("ix_login_blocks_email"), table_name="login_blocks")
    op.drop_table("login_blocks")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("last_used_at")
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("fingerprint")
