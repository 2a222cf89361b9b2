"""comments patients write on questionnaires and the self-check, read by the symptom reader (issue 15 §1)

Revision ID: i15b_comments
Revises: r20_caregivers
Create Date: 2026-12-07 12:20:00

Written by hand from store/proms.py, store/screenings.py and store/recovery.py:

- ``prom_responses.comment``: the patient's optional comment on a questionnaire, as written.
- ``prom_responses.comment_entry_id`` and ``screenings.comment_entry_id``: the diary entry that carries the
  comment's triage when the symptom reader found a sign in it (the entry raised the worklist flag). No foreign
  key: erasing a patient's diary must not depend on the order the tables are emptied in.
- ``diary_entries.origin``: where the words of an entry were written (``diary``, ``questionnaire``,
  ``self_check``). Rows stored before this revision get ``diary``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i15b_comments"
down_revision = "i19b_bulk"
branch_labels = None
depends_on = ("0002", "0003b", "0005")  # the screenings, prom_responses and diary_entries tables


def upgrade() -> None:
    with op.batch_alter_table("prom_responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("comment", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("comment_entry_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("screenings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("comment_entry_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("diary_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=16), nullable=False, server_default="diary"))


def downgrade() -> None:
    with op.batch_alter_table("diary_entries", schema=None) as batch_op:
        batch_op.drop_column("origin")
    with op.batch_alter_table("screenings", schema=None) as batch_op:
        batch_op.drop_column("comment_entry_id")
    with op.batch_alter_table("prom_responses", schema=None) as batch_op:
        batch_op.drop_column("comment_entry_id")
        batch_op.drop_column("comment")
