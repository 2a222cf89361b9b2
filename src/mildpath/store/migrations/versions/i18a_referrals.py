"""referrals: a flagged person carried from the flag to a decision (issue 18, contracts §9)

Revision ID: i18a_referrals
Revises: r20_caregivers
Create Date: 2026-12-07 12:30:00

Generated from store/referrals.py with Alembic's autogenerate, then read and tidied by hand.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "i18a_referrals"
down_revision = "i20_caregiver_reminders"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "patient_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=200), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name=op.f("fk_patient_identifiers_clinic_id_clinics")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_patient_identifiers_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_identifiers")),
        sa.UniqueConstraint("clinic_id", "system", "value", name="clinic_system_value"),
    )
    op.create_index(op.f("ix_patient_identifiers_patient_id"), "patient_identifiers", ["patient_id"])
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("subject_ref", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("urgency", sa.String(length=8), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("assigned_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["assigned_user_id"], ["users.id"], name=op.f("fk_referrals_assigned_user_id_users")),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name=op.f("fk_referrals_clinic_id_clinics")),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_referrals_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    op.create_index("ix_referrals_clinic_id_state", "referrals", ["clinic_id", "state"])
    op.create_index(op.f("ix_referrals_patient_id"), "referrals", ["patient_id"])
    op.create_index(op.f("ix_referrals_subject_ref"), "referrals", ["subject_ref"])
    op.create_table(
        "referral_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_user_id"], ["users.id"], name=op.f("fk_referral_contacts_actor_user_id_users")),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_referral_contacts_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_contacts")),
    )
    op.create_index(op.f("ix_referral_contacts_referral_id"), "referral_contacts", ["referral_id"])
    op.create_table(
        "referral_coverage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("study_title", sa.String(length=300), nullable=False),
        sa.Column("study_nct", sa.String(length=20), nullable=False),
        sa.Column("enrolment", sa.String(length=16), nullable=False),
        sa.Column("prior_auth_status", sa.String(length=16), nullable=False),
        sa.Column("prior_auth_dates", JSON, nullable=False),
        sa.Column("policy_id", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("reviewed", sa.Date(), nullable=True),
        sa.Column("updated_by_user_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_referral_coverage_referral_id_referrals")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_user_id"], ["users.id"], name=op.f("fk_referral_coverage_updated_by_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_coverage")),
        sa.UniqueConstraint("referral_id", name=op.f("uq_referral_coverage_referral_id")),
    )
    op.create_table(
        "referral_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("findings", JSON, nullable=False),
        sa.Column("clinician_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name=op.f("fk_referral_decisions_clinic_id_clinics")),
        sa.ForeignKeyConstraint(
            ["clinician_user_id"], ["users.id"], name=op.f("fk_referral_decisions_clinician_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_referral_decisions_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_decisions")),
    )
    op.create_index(op.f("ix_referral_decisions_at"), "referral_decisions", ["at"])
    op.create_index(op.f("ix_referral_decisions_clinic_id"), "referral_decisions", ["clinic_id"])
    op.create_index(op.f("ix_referral_decisions_referral_id"), "referral_decisions", ["referral_id"])
    op.create_table(
        "referral_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=False),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_user_id"], ["users.id"], name=op.f("fk_referral_events_actor_user_id_users")),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_referral_events_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_events")),
    )
    op.create_index(op.f("ix_referral_events_referral_id"), "referral_events", ["referral_id"])
    op.create_table(
        "referral_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("dated", sa.Date(), nullable=False),
        sa.Column("result", sa.String(length=32), nullable=False),
        sa.Column("criteria_set", sa.String(length=120), nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("missing", JSON, nullable=False),
        sa.Column("criteria", JSON, nullable=False),
        sa.Column("referrer_name", sa.String(length=200), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name=op.f("fk_referral_sources_clinic_id_clinics")),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["users.id"], name=op.f("fk_referral_sources_created_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_referral_sources_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_sources")),
    )
    op.create_index("ix_referral_sources_clinic_id_key", "referral_sources", ["clinic_id", "key"])
    op.create_index(op.f("ix_referral_sources_referral_id"), "referral_sources", ["referral_id"])
    op.create_table(
        "referral_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(length=80), nullable=False),
        sa.Column("reason_code", sa.String(length=60), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["referral_decisions.id"],
            name=op.f("fk_referral_overrides_decision_id_referral_decisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_overrides")),
    )
    op.create_index(op.f("ix_referral_overrides_decision_id"), "referral_overrides", ["decision_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_referral_overrides_decision_id"), table_name="referral_overrides")
    op.drop_table("referral_overrides")
    op.drop_index(op.f("ix_referral_sources_referral_id"), table_name="referral_sources")
    op.drop_index("ix_referral_sources_clinic_id_key", table_name="referral_sources")
    op.drop_table("referral_sources")
    op.drop_index(op.f("ix_referral_events_referral_id"), table_name="referral_events")
    op.drop_table("referral_events")
    op.drop_index(op.f("ix_referral_decisions_referral_id"), table_name="referral_decisions")
    op.drop_index(op.f("ix_referral_decisions_clinic_id"), table_name="referral_decisions")
    op.drop_index(op.f("ix_referral_decisions_at"), table_name="referral_decisions")
    op.drop_table("referral_decisions")
    op.drop_table("referral_coverage")
    op.drop_index(op.f("ix_referral_contacts_referral_id"), table_name="referral_contacts")
    op.drop_table("referral_contacts")
    op.drop_index(op.f("ix_referrals_subject_ref"), table_name="referrals")
    op.drop_index(op.f("ix_referrals_patient_id"), table_name="referrals")
    op.drop_index("ix_referrals_clinic_id_state", table_name="referrals")
    op.drop_table("referrals")
    op.drop_index(op.f("ix_patient_identifiers_patient_id"), table_name="patient_identifiers")
    op.drop_table("patient_identifiers")
