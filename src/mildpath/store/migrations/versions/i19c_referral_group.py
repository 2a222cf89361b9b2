"""bulk export jobs remember which Group they export: a clinic's, or its open referral list (issue 19)

Revision ID: i19c_referral_group
Revises: i18b_appointments
Create Date: 2026-12-07 13:50:00

Written by hand from store/bulk_exports.py: ``group_kind`` is ``""`` (not a Group export, or the clinic's
Group) or ``referrals`` (``Group/referrals-<clinic id>/$export``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i19c_referral_group"
down_revision = "i20t_totp_encrypted"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bulk_export_jobs") as batch:
        batch.add_column(sa.Column("group_kind", sa.String(length=16), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("bulk_export_jobs") as batch:
        batch.drop_column("group_kind")
