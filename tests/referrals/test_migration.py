"""The hand-written migration i18_clinic_timezone matches the model, on SQLite and PostgreSQL, and goes down and up."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from mildpath.settings import Settings
from mildpath.store.all_models import load_all
from mildpath.store.db import make_engine
from mildpath.store.migrate import alembic_config, current_heads, upgrade


def test_the_migrated_clinics_table_matches_the_model(world):
    with world.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), load_all().metadata)
    assert [d for d in diffs if "clinics" in repr(d)] == []
    assert "timezone" in {c["name"] for c in inspect(world.engine).get_columns("clinics")}


def test_coordination_is_its_own_branch(settings):
    assert "i18_clinic_timezone" in current_heads(settings)


def test_the_coordination_branch_downgrades_and_upgrades_again(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}", secret_key="x" * 48, data_dir=str(tmp_path))
    engine = make_engine(settings)
    upgrade(settings, engine)
    with engine.begin() as conn:
        cfg = alembic_config(settings)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "coordination@-1")
    assert "timezone" not in {c["name"] for c in inspect(engine).get_columns("clinics")}
    upgrade(settings, engine)
    assert "timezone" in {c["name"] for c in inspect(engine).get_columns("clinics")}
    engine.dispose()
