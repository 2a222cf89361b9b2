"""The hand-written migration i18b_appointments matches the models, on SQLite and PostgreSQL, and goes down and
up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mildpath.store.all_models import load_all
from tests.helpers import table_names_after_down_and_up

TABLES = ("appointments", "appointment_tasks")


def test_the_migrated_appointment_tables_match_the_models(world):
    with world.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), load_all().metadata)
    assert [d for d in diffs if any(t in repr(d) for t in TABLES)] == []


def test_the_appointments_migration_downgrades_and_upgrades_again(tmp_path):
    down, up = table_names_after_down_and_up(tmp_path, "i18a_referrals")  # the revision before i18b_appointments
    assert not set(TABLES) & down
    assert set(TABLES) <= up
