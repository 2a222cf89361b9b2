"""staff TOTP secrets encrypted at rest: a wider column, and the clear secrets sealed (issue 20)

Revision ID: i20t_totp_encrypted
Revises: i20_caregiver_reminders
Create Date: 2026-12-07 13:35:00

The key comes from the settings ``store/migrate.py`` hands in (``mildpath db upgrade``, the app, the tests), or
else from ``MILDPATH_SECRET_KEY`` in the environment. With no key at hand the clear rows stay clear and
``services/mfa.py`` seals each one on its next successful use. Downgrade opens the sealed rows again (it needs
the key; without it, it stops rather than lose the secrets).
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context, op

from mildpath.settings import Settings
from mildpath.store import sealing

revision = "i20t_totp_encrypted"
down_revision = "i20c_patient_quiet_hours"
branch_labels = None
depends_on = None

TABLE = sa.table("user_mfa", sa.column("id", sa.Integer()), sa.column("secret", sa.String()))


def _keys() -> sealing.Keys | None:
    settings = context.config.attributes.get("settings")
    if settings is None and os.environ.get("MILDPATH_SECRET_KEY"):
        settings = Settings()
    return sealing.Keys.of(settings) if settings is not None else None


def _rows() -> list[tuple[int, str]]:
    return [(r.id, r.secret) for r in op.get_bind().execute(sa.select(TABLE.c.id, TABLE.c.secret))]


def _write(row_id: int, secret: str) -> None:
    op.get_bind().execute(sa.update(TABLE).where(TABLE.c.id == row_id).values(secret=secret))


def upgrade() -> None:
    with op.batch_alter_table("user_mfa") as batch:
        batch.alter_column("secret", existing_type=sa.String(64), type_=sa.String(255), existing_nullable=False)
    keys = _keys()
    if keys is None:
        return  # sealed lazily, on each secret's next use
    for row_id, secret in _rows():
        if not sealing.is_sealed(secret):
            _write(row_id, sealing.seal(keys, secret))


def downgrade() -> None:
    rows = [(row_id, secret) for row_id, secret in _rows() if sealing.is_sealed(secret)]
    keys = _keys()
    if rows and keys is None:
        raise RuntimeError("set MILDPATH_SECRET_KEY: the sealed TOTP secrets cannot be opened without it")
    for row_id, secret in rows:
        assert keys is not None
        _write(row_id, sealing.unseal(keys, secret).clear)
    with op.batch_alter_table("user_mfa") as batch:
        batch.alter_column("secret", existing_type=sa.String(255), type_=sa.String(64), existing_nullable=False)
