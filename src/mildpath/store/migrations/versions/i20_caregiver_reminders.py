"""caregiver reminders: a caregiver's own channel, and the reminders copied to them (issue 20)

Revision ID: i20_caregiver_reminders
Revises: r20_caregivers (and depends on 0003, the proms tables)
Create Date: 2026-12-07 12:45:00

Written by hand from store/caregivers.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i20_caregiver_reminders"
down_revision = "i15b_comments"
branch_labels = None
depends_on = None  # prom_reminders (the proms branch) comes before it through i15b_comments, which needs 0003b


def upgrade() -> None:
    with op.batch_alter_table("caregivers") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=False, server_default="email"))
        batch.add_column(sa.Column("phone", sa.String(40), nullable=False, server_default=""))
    op.create_table(
        "caregiver_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reminder_id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["reminder_id"], ["prom_reminders.id"],
                                name=op.f("fk_caregiver_reminders_reminder_id_prom_reminders")),
        sa.ForeignKeyConstraint(["grant_id"], ["caregivers.id"], name=op.f("fk_caregiver_reminders_grant_id_caregivers")),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], name=op.f("fk_caregiver_reminders_outbox_id_outbox")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caregiver_reminders")),
        sa.UniqueConstraint("reminder_id", "grant_id", name="caregiver_reminder_once"),
    )
    op.create_index(op.f("ix_caregiver_reminders_outbox_id"), "caregiver_reminders", ["outbox_id"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_caregiver_reminders_outbox_id"), table_name="caregiver_reminders")
    op.drop_table("caregiver_reminders")
    with op.batch_alter_table("caregivers") as batch:
        batch.drop_column("phone")
        batch.drop_column("channel")
