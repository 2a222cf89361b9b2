"""The registry report and the de-identified extract of the demo clinic, compared key for key and value for value
with goldens stored before they became typed models (issue 16): the JSON of ``mildpath report outcomes --json``,
the API and the PDF's numbers must not change with the refactoring.

The demo is loaded into a fresh SQLite file on a fixed day, so every id, date and figure is the same on each run.
To rewrite the goldens after a deliberate change of the report: ``MILDPATH_WRITE_GOLDEN=1 pytest`` this file."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from mildpath.services.access import Actor

GOLDEN = Path(__file__).with_name("golden")
AS_OF = date(2026, 6, 1)
KEY = b"golden-pseudonym-key-0123456789"
WRITE = os.environ.get("MILDPATH_WRITE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    from mildpath.demo import load_demo
    from mildpath.settings import Settings
    from mildpath.store.db import make_engine, make_session_factory
    from mildpath.store.migrate import upgrade

    folder = tmp_path_factory.mktemp("golden")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'demo.db'}", secret_key="golden-secret-key-long-enough-0123456789",
        data_dir=str(folder),
    )
    engine = make_engine(settings)
    upgrade(settings, engine)
    session = make_session_factory(engine)()
    load_demo(session, today=AS_OF)
    session.flush()
    yield session
    session.rollback()
    session.close()
    engine.dispose()


def _same_as_golden(name: str, value: Any) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(value, indent=1, sort_keys=False, ensure_ascii=False) + "\n"
    if WRITE:
        path.write_text(text, encoding="utf-8")
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert value == stored
    assert text == path.read_text(encoding="utf-8")  # byte for byte: 2 is not 2.0, the key order holds
    assert list(_keys(value)) == list(_keys(stored))  # the same keys in the same order, all the way down


def _keys(value: Any, where: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield f"{where}.{k}"
            yield from _keys(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _keys(v, f"{where}[{i}]")


def _json(report: Any) -> Any:
    return report if isinstance(report, dict) else report.model_dump(mode="json")


def test_the_registry_report_of_the_demo_clinic_is_the_stored_golden(demo_db: Session) -> None:
    from mildpath.services.outcomes import outcomes_report

    report = outcomes_report(demo_db, Actor.system("tests"), today=AS_OF)
    _same_as_golden("outcomes_report_demo", _json(report))


def test_a_filtered_report_with_declared_wording_is_the_stored_golden(demo_db: Session) -> None:
    from mildpath.services.outcomes import outcomes_report, parse_filters

    filters = parse_filters({"levels_treated": 1, "age_band": "65-74"})
    report = outcomes_report(demo_db, Actor.system("tests"), filters, today=AS_OF, declared=("odi",))
    _same_as_golden("outcomes_report_demo_filtered", _json(report))


def test_the_deidentified_tables_of_the_demo_clinic_are_the_stored_golden(demo_db: Session, tmp_path: Path) -> None:
    from mildpath.reports.exports import write_table
    from mildpath.services.outcomes_export import COLUMNS, deidentified_tables

    tables = deidentified_tables(demo_db, Actor.system("tests"), today=AS_OF, key=KEY)
    rows = {name: [dict(r) if isinstance(r, dict) else r.model_dump() for r in t] for name, t in tables.items()}
    _same_as_golden("deidentified_demo", rows)
    for name, table in tables.items():  # the CSV files written from them are the same bytes as the golden's
        path = tmp_path / f"{name}.csv"
        write_table(table, COLUMNS[name], path, "csv")
        written = path.read_text(encoding="utf-8")
        golden_csv = GOLDEN / f"deidentified_demo_{name}.csv"
        if WRITE:
            golden_csv.write_text(written, encoding="utf-8")
        assert written == golden_csv.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["outcomes_report_demo", "outcomes_report_demo_filtered"])
def test_the_typed_report_reads_its_own_json_back_unchanged(name: str) -> None:
    from mildpath.services.outcomes_models import OutcomesReport

    stored = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    assert OutcomesReport.model_validate(stored).model_dump(mode="json") == stored
