"""patient quiet hours and read in-app messages (issue 20)

Revision ID: i20c_patient_quiet_hours
Revises: i20_caregiver_reminders
Create Date: 2026-12-07 13:30:00

Written by hand: ``patients.quiet_hours`` (the patient's own window, ``HH:MM-HH:MM``, overriding the clinic's;
null: the clinic's) and ``outbox.read_at`` (when the patient read an in-app message on /me/inbox).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i20c_patient_quiet_hours"
down_revision = "i18b_appointments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("quiet_hours", sa.String(11), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("read_at")
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("quiet_hours")
