"""The questionnaire tables: the hand-written migration matches the models, on SQLite and PostgreSQL, and the
registry query returns plain rows."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from mildpath.settings import Settings
from mildpath.store.all_models import load_all
from mildpath.store.db import make_engine
from mildpath.store.migrate import alembic_config, upgrade
from mildpath.store.proms import PromResponse, registry_responses
from tests.conftest import SECRET

TABLES = {"prom_responses", "prom_reminders"}


def _ours(diff: object) -> bool:
    text = repr(diff)
    return any(table in text for table in TABLES)


def test_the_migration_matches_the_models(world):
    base = load_all()
    with world.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), base.metadata)
    assert [d for d in diffs if _ours(d)] == []


def test_the_migration_is_its_own_branch_and_downgrades_cleanly(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}", secret_key=SECRET, data_dir=str(tmp_path))
    engine = make_engine(settings)
    upgrade(settings, engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.begin() as conn:
        cfg = alembic_config(settings)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "proms@-1")  # 0003b: the wording column (issue 15 §5)
        assert "wording" not in {c["name"] for c in inspect(conn).get_columns("prom_responses")}
        command.downgrade(cfg, "proms@-1")
    names = set(inspect(engine).get_table_names())
    assert not TABLES & names and "patients" in names
    engine.dispose()


def test_registry_rows_are_plain_values_of_completed_responses(db, world):
    rows = registry_responses(db, patient_ids=world.demo_patient_ids)
    assert rows and all(r.scores and r.answered_on for r in rows)
    demo = PromResponse.patient_id.in_(world.demo_patient_ids)
    in_progress = db.query(PromResponse).filter(demo, PromResponse.status == "in_progress").count()
    assert len(rows) == db.query(PromResponse).filter(demo).count() - in_progress
    baseline = [r for r in rows if r.timepoint == "baseline"]
    assert all(not r.after_treatment for r in baseline)
    assert all(r.procedure_date is None or r.answered_on <= r.procedure_date for r in baseline)
