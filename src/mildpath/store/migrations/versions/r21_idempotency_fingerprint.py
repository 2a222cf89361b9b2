"""reliability: the Idempotency-Key fingerprint (method, path, body)

Revision ID: r21_fingerprint
Revises: 0001
Create Date: 2026-12-06 23:45:00

Written by hand: the column web/idempotency.py compares to refuse a key reused for another request (422).
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


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("fingerprint")
