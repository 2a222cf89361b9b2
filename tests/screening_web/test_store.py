"""The hand-written migration 0002 matches the screenings table, its branch goes down and up cleanly, and the
bulk latest-status query answers for many patients in two queries."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, inspect

from mildpath.services.clock import now, today
from mildpath.settings import Settings
from mildpath.store import screenings as store
from mildpath.store.all_models import load_all
from mildpath.store.db import make_engine
from mildpath.store.migrate import alembic_config, current_heads, upgrade


def test_the_migrated_table_matches_the_model(world):
    with world.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), load_all().metadata)
    assert [d for d in diffs if "screenings" in repr(d)] == []


def test_screening_is_its_own_branch_off_the_foundation(settings):
    assert "0002" in current_heads(settings)


def test_the_screening_branch_downgrades_and_upgrades_again(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}", secret_key="x" * 48, data_dir=str(tmp_path))
    engine = make_engine(settings)
    upgrade(settings, engine)
    assert "screenings" in inspect(engine).get_table_names()
    with engine.begin() as conn:
        cfg = alembic_config(settings)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "screening@-1")
    names = set(inspect(engine).get_table_names())
    assert "screenings" not in names and "patients" in names
    upgrade(settings, engine)
    assert "screenings" in inspect(engine).get_table_names()
    engine.dispose()


def test_the_latest_status_of_every_listed_patient_takes_two_queries(db, connection, world):
    statements: list[str] = []

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(connection, "before_cursor_execute", seen)
    try:
        latest = store.latest_by_patient(db, patient_ids=world.demo_patient_ids)
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    assert set(latest) == set(world.demo_patient_ids)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2


def test_a_screening_row_round_trips_its_json(db, pat_id):
    result = {"status": "not_candidate", "criteria": [{"id": "x", "evidence": [{"value": 2.5, "date": None}]}]}
    row = store.add_screening(
        db,
        patient_id=pat_id,
        kind="fhir_import",
        as_of=today(),
        criteria_set="mild-default@1.0.0",
        status="not_candidate",
        result=result,
        answers={"facts": []},
        created_by=None,
        created_at=now(),
    )
    db.expire_all()
    again = store.get_screening(db, patient_id=pat_id, screening_id=row.id)
    assert again is not None and again.result == result and again.created_at.tzinfo is not None
    assert store.get_screening(db, patient_id=pat_id + 1, screening_id=row.id) is None
