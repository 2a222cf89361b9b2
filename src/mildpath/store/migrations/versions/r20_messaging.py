"""messaging: outbox channels, delivery status and retries; channel consents (issue 20)

Revision ID: r20_messaging
Revises: 0001 (depends on 0002, where the outbox and patients are)
Create Date: 2026-12-07 07:00:00

Written by hand from store/models.py (OutboxMessage) and store/messaging.py (ChannelConsent). Its own branch
off the foundation, like every subject.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r20_messaging"
down_revision = "0001"
branch_labels = ("messaging",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=False, server_default="email"))
        batch.add_column(sa.Column("patient_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_error", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(op.f("fk_outbox_patient_id_patients"), "patients", ["patient_id"], ["id"])
        batch.create_index(op.f("ix_outbox_patient_id"), ["patient_id"])
    op.create_table(
        "channel_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("how", sa.String(16), nullable=False),
        sa.Column("recorded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_channel_consents_patient_id_patients")),
        sa.ForeignKeyConstraint(
            ["recorded_by_user_id"], ["users.id"], name=op.f("fk_channel_consents_recorded_by_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_consents")),
    )
    op.create_index("ix_channel_consents_patient_channel", "channel_consents", ["patient_id", "channel", "id"])


def downgrade() -> None:
    op.drop_index("ix_channel_consents_patient_channel", table_name="channel_consents")
    op.drop_table("channel_consents")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_patient_id")
        batch.drop_constraint("fk_outbox_patient_id_patients", type_="foreignkey")
        for name in ("next_attempt_at", "last_error", "patient_id", "channel"):
            batch.drop_column(name)
