"""clinic time zone: the IANA zone schedules, messages and discharge use (issue 18)

Revision ID: i18_clinic_timezone
Revises: 0001 (depends on 0006, which added the clinic's emergency number: its own branch, like every subject)
Create Date: 2026-12-07 07:40:00

Written by hand from store/models.py (Clinic.timezone).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i18_clinic_timezone"
down_revision = "0001"
branch_labels = ("coordination",)
depends_on = "0006"


def upgrade() -> None:
    with op.batch_alter_table("clinics") as batch:
        batch.add_column(sa.Column("timezone", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("clinics") as batch:
        batch.drop_column("timezone")
