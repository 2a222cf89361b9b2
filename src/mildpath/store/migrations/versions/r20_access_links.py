"""access links: magic links, invitations and password resets (issue 20)

Revision ID: r20_access
Revises: r20_messaging
Create Date: 2026-12-07 07:00:00

Written by hand from store/access_links.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r20_access"
down_revision = "r20_messaging"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_access_links_user_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_user_id"], ["users.id"],
                                name=op.f("fk_access_links_created_by_user_id_users")),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], name=op.f("fk_access_links_outbox_id_outbox")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_links")),
        sa.UniqueConstraint("digest", name=op.f("uq_access_links_digest")),
    )
    op.create_index(op.f("ix_access_links_user_id"), "access_links", ["user_id"])
    op.create_index(op.f("ix_access_links_outbox_id"), "access_links", ["outbox_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_access_links_outbox_id"), table_name="access_links")
    op.drop_index(op.f("ix_access_links_user_id"), table_name="access_links")
    op.drop_table("access_links")
