"""Engines and sessions. SQLite (the embedded default) runs in WAL mode with foreign keys on."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from mildpath.domain.errors import InvalidInput
from mildpath.settings import Settings

# Text no database here can store: NUL (PostgreSQL refuses it in text and, as the escape ``\u0000``, in JSONB)
# and unpaired surrogates (not encodable as UTF-8). Refused as bad input before the statement runs.
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]|\\u0000")


def make_engine(settings: Settings, **kwargs: Any) -> Engine:
    """The engine for ``settings.database_url``; creates the SQLite file's folder when needed."""
    url = settings.database_url
    # Database errors must not quote parameters (patient data) in their messages, hence in logs.
    kwargs.setdefault("hide_parameters", True)
    if settings.is_sqlite:
        path = settings.sqlite_path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        _WriteGate().install(engine)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        engine = create_engine(url, **kwargs)
    event.listen(engine, "before_cursor_execute", _refuse_unstorable_text)
    return engine


def _refuse_unstorable_text(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    """The last line of defence for every table, present and future: a string parameter holding NUL or an
    unpaired surrogate raises :class:`InvalidInput` (a 422) instead of a driver error (a 500) on PostgreSQL,
    and is refused alike on SQLite so both backends answer the same. Services validate their fields first;
    this catches what they let through (free-form JSON, search terms)."""
    names = list(getattr(getattr(context, "compiled", None), "positiontup", None) or ())
    for key, value in _strings(parameters, names):
        if _UNSTORABLE.search(value):
            name = str(key).rstrip("_0123456789") or "text"
            raise InvalidInput(
                f"{name}: contains a character that cannot be stored (NUL or unpaired surrogate)", field=name
            )


def _strings(parameters: Any, names: list[str], key: str = "text") -> Iterator[tuple[str, str]]:
    """Every string in a DBAPI parameter set (a dict, a positional tuple, or a list of either), with its name."""
    if isinstance(parameters, str):
        yield key, parameters
    elif isinstance(parameters, dict):
        for k, v in parameters.items():
            yield from _strings(v, names, str(k))
    elif isinstance(parameters, (list, tuple)):
        positional = len(names) == len(parameters)
        for i, v in enumerate(parameters):
            yield from _strings(v, names, names[i] if positional else key)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # The driver's own transaction handling is switched off (isolation_level None) so that SQLAlchemy's
    # "begin" event below can issue BEGIN IMMEDIATE: writers then queue on the lock instead of failing
    # with "database is locked" when two of them upgrade a read transaction at once.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class _WriteGate:
    """SQLite admits one writer at a time; this makes the threads of one process queue for it in order.

    Without it, a thread that finds the database locked sleeps in SQLite's busy handler (1, 2, 5, 10, 15, 20,
    25... ms) and retries, so under load the lock is often free while every waiter sleeps: throughput falls
    and the slowest requests wait for seconds. With it, the threads of a process wait on a lock that wakes
    the next one the moment the previous transaction ends; only one thread per process ever meets SQLite's
    busy handler (the other worker processes, on the same file).

    Every transaction begins with ``BEGIN IMMEDIATE`` (writers queue on the lock instead of failing with
    "database is locked" when two of them upgrade a read transaction at once). The gate is released right
    after the transaction's own ``COMMIT`` or ``ROLLBACK``, which it issues itself; the driver runs in
    autocommit mode (``isolation_level = None``), so its own commit that follows is a no-op.
    """

    TIMEOUT = 30.0  # seconds, like PRAGMA busy_timeout: then "database is locked", as SQLite would say

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def install(self, engine: Engine) -> None:
        event.listen(engine, "begin", self.begin)
        event.listen(engine, "commit", self.commit)
        event.listen(engine, "rollback", self.rollback)
        event.listen(engine, "checkin", self.checkin)  # a connection never leaves the pool holding the gate

    def begin(self, conn: Any) -> None:
        if not conn.info.get("mp_gate"):
            if not self.lock.acquire(timeout=self.TIMEOUT):
                raise sqlite3.OperationalError("database is locked (waited for the write gate)")
            conn.info["mp_gate"] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self._release(conn)
            raise

    def commit(self, conn: Any) -> None:
        self._end(conn, "COMMIT")

    def rollback(self, conn: Any) -> None:
        self._end(conn, "ROLLBACK")

    def _end(self, conn: Any, verb: str) -> None:
        try:
            if not conn.connection.dbapi_connection.in_transaction:
                return
            conn.exec_driver_sql(verb)
        finally:
            self._release(conn)

    def checkin(self, dbapi_conn: Any, record: Any) -> None:
        if record is not None and record.info.pop("mp_gate", False):
            self.lock.release()

    def _release(self, conn: Any) -> None:
        if conn.info.pop("mp_gate", False):
            self.lock.release()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. Callers own the transaction."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def sqlite_file(engine: Engine) -> Path | None:
    db = engine.url.database
    return Path(db) if engine.url.get_backend_name() == "sqlite" and db and db != ":memory:" else None
