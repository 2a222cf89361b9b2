"""Every Alembic migration walks up and down on SQLite and PostgreSQL (issue 21, "Migrations").

From an empty database: each revision in order, one at a time, then down to base and up again, and the result
matches the models. From a database holding the demo data at today's head: down to base and up again without
an error. The PostgreSQL runs use a schema of their own (``tests/reliability/server.database``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text

from mildpath.settings import Settings
from mildpath.store.all_models import load_all
from mildpath.store.migrate import alembic_config

from .server import POSTGRES_URL, SECRET, database, environment, mildpath

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip("set MILDPATH_TEST_POSTGRES_URL to walk the migrations on PostgreSQL")
    return str(request.param)


def _run(settings: Settings, engine: Engine, verb: str, revision: str) -> None:
    cfg = alembic_config(settings)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, verb)(cfg, revision)


def _app_tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def _diffs(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), load_all().metadata))


def _down_to_base_and_up(settings: Settings, engine: Engine) -> None:
    _run(settings, engine, "downgrade", "base")
    assert _app_tables(engine) == set()
    _run(settings, engine, "upgrade", "heads")
    assert _diffs(engine) == []


def _in_order(settings: Settings) -> list[str]:
    """Every revision, parents before children (walk_revisions goes from the heads down)."""
    return [s.revision for s in ScriptDirectory.from_config(alembic_config(settings)).walk_revisions()][::-1]


def test_each_migration_upgrades_then_all_downgrade_to_base_and_upgrade_again(backend, tmp_path):
    with database(backend, tmp_path, "i21_migration_walk") as url:
        engine = create_engine(url)
        settings = Settings(database_url=url, secret_key=SECRET, data_dir=str(tmp_path))
        revisions = _in_order(settings)
        assert len(revisions) >= 8
        seen: set[str] = set()
        for rev in revisions:
            _run(settings, engine, "upgrade", rev)
            tables = _app_tables(engine)
            assert tables >= seen, f"upgrading to {rev} dropped {seen - tables}"
            seen = tables
        assert _diffs(engine) == []
        _down_to_base_and_up(settings, engine)
        assert _app_tables(engine) == seen
        engine.dispose()


def test_a_database_with_the_demo_data_at_head_downgrades_and_upgrades(backend, tmp_path):
    with database(backend, tmp_path, "i21_migration_demo") as url:
        engine = create_engine(url)
        settings = Settings(database_url=url, secret_key=SECRET, data_dir=str(tmp_path))
        demo = mildpath(environment(url, tmp_path), "demo", timeout=300)
        assert demo.returncode == 0, demo.stderr
        with engine.connect() as conn:
            assert conn.execute(text("select count(*) from patients")).scalar_one() >= 30
        _down_to_base_and_up(settings, engine)
        engine.dispose()


def test_the_committed_head_fixture_downgrades_and_upgrades(tmp_path):
    """A SQLite dump made at the head of 2026-12-07 with the demo data walks down and up.

    ``fixtures/head_demo.sql.gz`` was made by ``mildpath demo`` then ``sqlite3 db .dump | gzip -9n``; it stays at
    that head on purpose, so later migrations are tried against data written before them.
    """
    import gzip
    import sqlite3

    dump = Path(__file__).parent / "fixtures" / "head_demo.sql.gz"
    db = tmp_path / "fixture.db"
    with sqlite3.connect(db) as conn:
        conn.executescript(gzip.decompress(dump.read_bytes()).decode("utf-8"))
    conn.close()
    url = f"sqlite:///{db}"
    engine = create_engine(url)
    settings = Settings(database_url=url, secret_key=SECRET, data_dir=str(tmp_path))
    with engine.connect() as c:
        assert c.execute(text("select count(*) from patients")).scalar_one() >= 30
    _down_to_base_and_up(settings, engine)
    engine.dispose()
