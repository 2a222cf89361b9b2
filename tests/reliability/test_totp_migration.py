"""The i20t_totp_encrypted migration seals the TOTP secrets kept clear before it, and its downgrade opens them
again (issue 20), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, create_engine, text

from mildpath.settings import Settings
from mildpath.store import sealing

from .server import POSTGRES_URL, SECRET, database
from .test_migration_walk import _run

CLEAR = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _secret(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("select secret from user_mfa")).scalar_one())


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_migration_seals_clear_secrets_and_its_downgrade_opens_them(backend, tmp_path):  # type: ignore[no-untyped-def]
    if backend == "postgres" and not POSTGRES_URL:
        pytest.skip("set MILDPATH_TEST_POSTGRES_URL to run the migration on PostgreSQL")
    with database(backend, tmp_path, "i20t_totp_migration") as url:
        engine = create_engine(url)
        settings = Settings(database_url=url, secret_key=SECRET, data_dir=str(tmp_path))
        _run(settings, engine, "upgrade", "i20_caregiver_reminders")
        with engine.begin() as conn:
            conn.execute(text("insert into users (id, email, display_name, role, password_hash, active, created_at)"
                              " values (1, 'ada@example.org', 'Ada', 'admin', '', true, CURRENT_TIMESTAMP)"))
            conn.execute(text("insert into user_mfa (user_id, secret, recovery_digests, last_step, created_at)"
                              " values (1, :s, '[]', 0, CURRENT_TIMESTAMP)"), {"s": CLEAR})
        _run(settings, engine, "upgrade", "i20t_totp_encrypted")
        sealed = _secret(engine)
        assert CLEAR not in sealed and sealing.unseal(sealing.Keys(SECRET), sealed).clear == CLEAR
        _run(settings, engine, "downgrade", "i20_caregiver_reminders")
        assert _secret(engine) == CLEAR
        engine.dispose()
