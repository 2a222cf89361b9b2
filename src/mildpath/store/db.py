"""Engines and sessions. SQLite (the embedded default) runs in WAL mode with foreign keys on."""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # not POSIX: SQLite's busy handler alone arbitrates between processes
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from mildpath.domain.errors import InvalidInput
from mildpath.settings import Settings

# Text no database here can store: NUL (PostgreSQL refuses it in text and, as the escape ``\u0000``, in JSONB)
# and unpaired surrogates (not encodable as UTF-8). Refused as bad input before the statement runs.
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]|\\u0000")

# Execution option of a transaction that starts as a reader (SQLite): ``session.connection(execution_options=
# {READ_FIRST: True})``. It takes SQLite's write lock only if and when it writes (web/deps.py: GET requests).
READ_FIRST = "mildpath_read_first"
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)


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
        _WriteGate(path).install(engine)
    else:
        # Sized per worker process (MILDPATH_DB_POOL_SIZE, _MAX_OVERFLOW, _POOL_TIMEOUT): its threadpool runs
        # at most ~40 requests at once, and PostgreSQL's default max_connections (100) is shared by every
        # worker (and by pg_dump, migrations, psql): 2 workers x (16 + 4) = 40. A request that finds no free
        # connection within pool_timeout answers 503 with Retry-After (web/problems.py), and no statement runs
        # longer than statement_timeout: under overload the server answers quickly instead of queueing for a
        # minute (and the in-flight limit, web/security.py OverloadMiddleware, refuses work beyond it at once).
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", settings.db_pool_size)
        kwargs.setdefault("max_overflow", settings.db_max_overflow)
        kwargs.setdefault("pool_timeout", settings.db_pool_timeout)
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("connect_timeout", 5)
        kwargs["connect_args"] = connect_args
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _postgres_session)
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


def _postgres_session(dbapi_conn: Any, _record: Any) -> None:
    # Set per connection (not in the URL's options, which a deployment may use for its search_path).
    with dbapi_conn.cursor() as cur:
        cur.execute("SET statement_timeout = 30000")
    dbapi_conn.commit()


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
    # A read-first transaction upgrading waits in a worker thread, not on the event loop: briefly, so that a
    # burst of them cannot hold every thread while the writer they wait for needs one to commit (then 503).
    UPGRADE_TIMEOUT = 2.0

    def __init__(self, path: Path | None = None) -> None:
        self.lock = threading.Lock()
        # Between worker processes, an advisory lock on a file beside the database: a process waiting for it
        # is woken by the kernel the moment the other one commits, where SQLite's busy handler would sleep
        # (up to 100 ms a round) while the lock sits free. Taken only while holding `lock`, so one thread per
        # process ever waits on it. Released by the kernel if a process dies. None for an in-memory database.
        self.lock_file = None if path is None else path.with_name(path.name + "-writer.lock")
        self._fd: int | None = None
        self._fd_pid = 0

    def _acquire(self, timeout: float) -> bool:
        if not self.lock.acquire(timeout=timeout):
            return False
        if self.lock_file is not None and fcntl is not None:
            try:
                if self._fd is None or self._fd_pid != os.getpid():
                    self._fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
                    self._fd_pid = os.getpid()
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self.lock.release()
                raise
        return True

    def _unlock(self) -> None:
        try:
            if self._fd is not None and self._fd_pid == os.getpid() and fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self.lock.release()

    def install(self, engine: Engine) -> None:
        event.listen(engine, "begin", self.begin)
        event.listen(engine, "commit", self.commit)
        event.listen(engine, "rollback", self.rollback)
        event.listen(engine, "checkin", self.checkin)  # a connection never leaves the pool holding the gate
        event.listen(engine, "before_cursor_execute", self.upgrade)

    def upgrade(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        """The first write of a read-first transaction: restart it as a writer before the statement runs.

        In WAL mode a reader cannot simply start writing: when another connection committed since its snapshot,
        SQLite refuses at once (SQLITE_BUSY_SNAPSHOT, no busy wait). Nothing has been written yet, so the read
        transaction is ended and a writing one begun in its place (the gate, then BEGIN IMMEDIATE); the write
        then sees the latest data. What was read before stays as read: a read-first transaction's writes are
        ones that do not depend on an exact snapshot (the audit row of a page view, a session's last-seen time).
        """
        if not conn.info.get("mp_read_first") or not _WRITE.match(statement):
            return
        del conn.info["mp_read_first"]
        dbapi = conn.connection.dbapi_connection
        if dbapi.in_transaction:
            dbapi.execute("ROLLBACK")
        if not self._acquire(self.UPGRADE_TIMEOUT):
            raise sqlite3.OperationalError("database is locked (waited for the write gate)")
        conn.info["mp_gate"] = True
        dbapi.execute("BEGIN IMMEDIATE")

    def begin(self, conn: Any) -> None:
        if conn.get_execution_options().get(READ_FIRST):
            # A read-first transaction (a GET): a plain BEGIN takes no lock, so it never queues behind the
            # writers; WAL lets it read beside them. Its first write statement upgrades it (see `upgrade`).
            conn.exec_driver_sql("BEGIN")
            conn.info["mp_read_first"] = True
            return
        if not conn.info.get("mp_gate"):
            if not self._acquire(self.TIMEOUT):
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
        conn.info.pop("mp_read_first", None)
        try:
            if not conn.connection.dbapi_connection.in_transaction:
                return
            conn.exec_driver_sql(verb)
        finally:
            self._release(conn)

    def checkin(self, dbapi_conn: Any, record: Any) -> None:
        if record is not None and record.info.pop("mp_gate", False):
            self._unlock()

    def _release(self, conn: Any) -> None:
        if conn.info.pop("mp_gate", False):
            self._unlock()


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
