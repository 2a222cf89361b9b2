"""SQLite under concurrent writers: the threads of one process queue for the write lock (store/db.py's write
gate) instead of sleeping in SQLite's busy handler, and nobody gets "database is locked"."""

from __future__ import annotations

import threading

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from mildpath.settings import Settings
from mildpath.store.db import make_engine

THREADS, WRITES = 8, 25


def test_concurrent_write_transactions_all_land_without_database_is_locked(tmp_path):
    engine = make_engine(
        Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}", secret_key="x" * 40, data_dir=str(tmp_path))
    )
    rows = Table("rows", MetaData(), Column("id", Integer, primary_key=True), Column("who", String(20)))
    rows.metadata.create_all(engine)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(WRITES):
                with engine.begin() as conn:  # a read then a write in one transaction, like a request
                    conn.execute(select(func.count()).select_from(rows)).scalar()
                    conn.execute(insert(rows).values(who=f"{n}-{i}"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[:3]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(rows)).scalar() == THREADS * WRITES
    engine.dispose()


def test_a_failed_transaction_releases_the_write_lock_for_the_next(tmp_path):
    engine = make_engine(
        Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}", secret_key="x" * 40, data_dir=str(tmp_path))
    )
    rows = Table("rows", MetaData(), Column("id", Integer, primary_key=True))
    rows.metadata.create_all(engine)
    for _ in range(3):
        try:
            with engine.begin() as conn:
                conn.execute(insert(rows).values(id=1))
                conn.execute(insert(rows).values(id=1))  # a unique violation: the transaction rolls back
        except Exception:  # noqa: S110 - the point is what comes next
            pass
    with engine.begin() as conn:  # would wait 30 s and fail if a rollback kept the lock
        conn.execute(insert(rows).values(id=2))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(rows)).scalar() == 1
    engine.dispose()
