"""The hand-written migration 0005 matches the recovery tables, and its branch goes down and up cleanly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from mildpath.settings import Settings
from mildpath.store.all_models import load_all
from mildpath.store.db import make_engine
from mildpath.store.migrate import alembic_config, current_heads, upgrade

TABLES = {"recovery_plans", "diary_entries", "triage_flags"}


def _touches_recovery(diff: object) -> bool:
    text = repr(diff)
    return any(name in text for name in TABLES)


def test_the_migrated_tables_match_the_models(world):
    with world.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), load_all().metadata)
    assert [d for d in diffs if _touches_recovery(d)] == []


def test_recovery_is_its_own_branch_off_the_foundation(settings):
    assert "0005" in current_heads(settings)


def test_the_recovery_branch_downgrades_and_upgrades_again(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}", secret_key="x" * 48, data_dir=str(tmp_path))
    engine = make_engine(settings)
    upgrade(settings, engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.begin() as conn:
        cfg = alembic_config(settings)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "recovery@-1")
    names = set(inspect(engine).get_table_names())
    assert not TABLES & names and "patients" in names
    upgrade(settings, engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()
