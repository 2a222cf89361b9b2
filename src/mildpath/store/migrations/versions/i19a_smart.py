"""SMART Backend Services and CDS Hooks clients: registered clients, used jtis, access tokens, CDS cards and
feedback (issue 19)

Revision ID: i19a_smart
Revises: r20_caregivers
Create Date: 2026-12-07 12:30:00

Written by hand from store/smart.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "i19a_smart"
down_revision = "r20_caregivers"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "fhir_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("issuer", sa.String(2048), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=True),
        sa.Column("jwks", JSON, nullable=True),
        sa.Column("jwks_url", sa.String(2048), nullable=True),
        sa.Column("scopes", sa.String(2000), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name=op.f("fk_fhir_clients_clinic_id_clinics")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_fhir_clients_client_id")),
    )
    op.create_index(op.f("ix_fhir_clients_issuer"), "fhir_clients", ["issuer"])
    op.create_table(
        "fhir_client_jtis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("jti", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_pk"], ["fhir_clients.id"], ondelete="CASCADE",
                                name=op.f("fk_fhir_client_jtis_client_pk_fhir_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_client_jtis")),
        sa.UniqueConstraint("client_pk", "jti", name="uq_fhir_client_jtis_client_pk_jti"),
    )
    op.create_index(op.f("ix_fhir_client_jtis_expires_at"), "fhir_client_jtis", ["expires_at"])
    op.create_table(
        "fhir_access_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_pk"], ["fhir_clients.id"], ondelete="CASCADE",
                                name=op.f("fk_fhir_access_tokens_client_pk_fhir_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_access_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_fhir_access_tokens_digest")),
    )
    op.create_index(op.f("ix_fhir_access_tokens_client_pk"), "fhir_access_tokens", ["client_pk"])
    op.create_index(op.f("ix_fhir_access_tokens_expires_at"), "fhir_access_tokens", ["expires_at"])
    op.create_table(
        "cds_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(64), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("criteria_set", sa.String(120), nullable=False),
        sa.Column("criteria", JSON, nullable=False),
        sa.Column("patient_ref", sa.String(128), nullable=False, server_default=""),
        sa.Column("clinic_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name=op.f("fk_cds_cards_clinic_id_clinics"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cds_cards")),
        sa.UniqueConstraint("uuid", name=op.f("uq_cds_cards_uuid")),
    )
    op.create_table(
        "cds_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_pk", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(120), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("accepted_suggestions", JSON, nullable=False),
        sa.Column("override_reason", JSON, nullable=True),
        sa.Column("outcome_timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=True),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["card_pk"], ["cds_cards.id"], ondelete="CASCADE",
                                name=op.f("fk_cds_feedback_card_pk_cds_cards")),
        sa.ForeignKeyConstraint(["client_pk"], ["fhir_clients.id"], name=op.f("fk_cds_feedback_client_pk_fhir_clients")),
        sa.ForeignKeyConstraint(["actor_user_id"], ["users.id"], name=op.f("fk_cds_feedback_actor_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cds_feedback")),
    )
    op.create_index(op.f("ix_cds_feedback_card_pk"), "cds_feedback", ["card_pk"])


def downgrade() -> None:
    op.drop_index(op.f("ix_cds_feedback_card_pk"), table_name="cds_feedback")
    op.drop_table("cds_feedback")
    op.drop_table("cds_cards")
    op.drop_index(op.f("ix_fhir_access_tokens_expires_at"), table_name="fhir_access_tokens")
    op.drop_index(op.f("ix_fhir_access_tokens_client_pk"), table_name="fhir_access_tokens")
    op.drop_table("fhir_access_tokens")
    op.drop_index(op.f("ix_fhir_client_jtis_expires_at"), table_name="fhir_client_jtis")
    op.drop_table("fhir_client_jtis")
    op.drop_index(op.f("ix_fhir_clients_issuer"), table_name="fhir_clients")
    op.drop_table("fhir_clients")
