"""proms: record the wording each questionnaire response was collected with (issue 15 §5)

Revision ID: 0003b
Revises: 0003
Create Date: 2026-12-07 00:30:00

Written by hand from store/proms.py. Rows stored before this revision get ``neutral``: mildpath shipped only its
own neutral labels, and a site that used licensed wording declares it with ``MILDPATH_LICENSED_WORDING``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003b"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("prom_responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wording", sa.String(length=16), nullable=False, server_default="neutral"))


def downgrade() -> None:
    with op.batch_alter_table("prom_responses", schema=None) as batch_op:
        batch_op.drop_column("wording")
