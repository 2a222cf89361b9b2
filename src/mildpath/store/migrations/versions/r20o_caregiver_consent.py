"""consent log rows of a caregiver: opting out of their own texts or emails (issue 20)

Revision ID: r20o_caregiver_consent
Revises: i19c_referral_group
Create Date: 2026-12-07 15:15:00

Written by hand from store/messaging.py: ``channel_consents.caregiver_id`` is empty for the patient's own
consent, and names the caregiver grant whose messages a row is about (a STOP from the caregiver's phone, the
opt-out link in a message to them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r20o_caregiver_consent"
down_revision = "i19c_referral_group"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_consents") as batch:
        batch.add_column(sa.Column("caregiver_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_channel_consents_caregiver_id_caregivers"), "caregivers",
                                 ["caregiver_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("channel_consents") as batch:
        batch.drop_constraint(op.f("fk_channel_consents_caregiver_id_caregivers"), type_="foreignkey")
        batch.drop_column("caregiver_id")
