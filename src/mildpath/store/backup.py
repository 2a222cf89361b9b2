"""Backup and restore: SQLite's online backup API; PostgreSQL through its own tools (pg_dump/pg_restore)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from mildpath.domain.errors import InvalidInput, MildpathError
from mildpath.settings import Settings

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


def backup(settings: Settings, target: Path) -> int:
    """Write a consistent copy of the live database to ``target``; returns its size in bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if settings.is_sqlite:
        source = settings.sqlite_path
        if source is None or not source.exists():
            raise InvalidInput(f"no SQLite database at {source}", field="database_url")
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)  # online: consistent even while the app writes
        dst.close()
        return target.stat().st_size
    _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq_url(settings)])
    return target.stat().st_size


def restore(settings: Settings, source: Path) -> None:
    """Replace the database's contents with the backup in ``source``."""
    if not source.is_file():
        raise InvalidInput(f"{source}: no such backup file", field="file")
    head = source.read_bytes()[:16]
    if settings.is_sqlite:
        if head != SQLITE_MAGIC:
            raise InvalidInput(f"{source}: not a SQLite backup", field="file")
        target = settings.sqlite_path
        if target is None:
            raise InvalidInput("restore needs a file database", field="database_url")
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        dst.close()
        return
    if not head.startswith(PGDUMP_MAGIC):
        raise InvalidInput(f"{source}: not a PostgreSQL custom-format dump", field="file")
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={_libpq_url(settings)}",
            str(source),
        ]
    )


def _libpq_url(settings: Settings) -> str:
    url = make_url(settings.database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _run(cmd: list[str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise MildpathError(f"{cmd[0]} is not installed: install the PostgreSQL client tools to back up PostgreSQL")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise MildpathError(
            f"{cmd[0]} failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}"
        )
