"""``mildpath db backup`` taken while writes continue restores to a consistent state (issue 21, "Backups").

A writer thread commits pairs of audit rows (one transaction each, the same marker on both) until told to stop;
``mildpath db backup`` runs in its own process meanwhile. The backup is restored with ``mildpath db restore`` into
a second, empty database and counted: every marker comes back as a whole pair, the count lies between what was
committed before the backup began and what was committed by the time it ended, and the demo data is all there.
PostgreSQL runs use two databases of their own (``pg_dump`` covers a whole database, not a schema).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from .server import POSTGRES_URL, environment, mildpath

MARK = "i21-backup-load"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A source and a target database URL, both empty."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'live.db'}", f"sqlite:///{tmp_path / 'restored.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("set MILDPATH_TEST_POSTGRES_URL to test PostgreSQL backups under load")
    base = POSTGRES_URL.rsplit("/", 1)[0]
    names = [f"i21_backup_{tag}_{uuid.uuid4().hex[:8]}" for tag in ("live", "restored")]
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base + "/" + names[0], base + "/" + names[1]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _pairs_committed(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("select count(*) from audit_events where action = :a"), {"a": MARK}).scalar_one())


class Writer(threading.Thread):
    """Commits one pair of audit rows per transaction until ``stop`` is set; counts what it committed."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(daemon=True)
        self.engine = engine
        self.stop = threading.Event()
        self.committed = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        insert = text(
            "insert into audit_events (at, actor_role, action, record_type, record_id, address, detail)"
            " values (CURRENT_TIMESTAMP, 'system', :a, 'backup-test', :r, '', '{}')"
        )
        try:
            while not self.stop.is_set():
                marker = uuid.uuid4().hex
                with self.engine.begin() as conn:
                    conn.execute(insert, [{"a": MARK, "r": marker}, {"a": MARK, "r": marker}])
                self.committed += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc


def test_a_backup_taken_during_writes_restores_whole_transactions_and_all_the_data(databases, tmp_path):
    live_url, restored_url = databases
    live_env = environment(live_url, tmp_path)
    demo = mildpath(live_env, "demo", timeout=300)
    assert demo.returncode == 0, demo.stderr
    live = create_engine(live_url, connect_args={"timeout": 60} if live_url.startswith("sqlite") else {})
    with live.connect() as conn:
        patients = conn.execute(text("select count(*) from patients")).scalar_one()
    writer = Writer(live)
    writer.start()
    try:
        while writer.committed < 50 and writer.is_alive():
            writer.stop.wait(0.05)
        before = writer.committed
        dump = tmp_path / "under-load.backup"
        backup = mildpath(live_env, "db", "backup", str(dump), timeout=300)
        after = writer.committed
        while writer.committed < after + 20 and writer.is_alive():
            writer.stop.wait(0.05)
    finally:
        writer.stop.set()
        writer.join(timeout=120)
    assert writer.error is None, writer.error
    assert backup.returncode == 0, backup.stderr
    assert _pairs_committed(live) == 2 * writer.committed > 2 * after

    restored_env = environment(restored_url, tmp_path)
    if not restored_url.startswith("sqlite"):
        assert mildpath(restored_env, "db", "upgrade", timeout=300).returncode == 0
    restore = mildpath(restored_env, "db", "restore", str(dump), timeout=300)
    assert restore.returncode == 0, restore.stderr
    restored = create_engine(restored_url)
    with restored.connect() as conn:
        halves = conn.execute(
            text("select record_id from audit_events where action = :a group by record_id having count(*) <> 2"),
            {"a": MARK},
        ).all()
        assert halves == [], "a transaction was cut in two by the backup"
        rows = _pairs_committed(restored)
        assert 2 * before <= rows <= 2 * after
        assert conn.execute(text("select count(*) from patients")).scalar_one() == patients >= 30
        if restored_url.startswith("sqlite"):
            assert conn.execute(text("pragma integrity_check")).scalar_one() == "ok"
    restored.dispose()
    live.dispose()
    # The restored database is a working one: it is at the head, so the migrations find nothing to do.
    assert mildpath(restored_env, "db", "upgrade", timeout=300).returncode == 0
