"""The core commands: db upgrade, demo, user add, token create, db backup/restore, check."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mildpath", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
        input=stdin,
        timeout=300,
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    data = tmp_path_factory.mktemp("cli")
    e = {
        "MILDPATH_DATABASE_URL": f"sqlite:///{data / 'cli.db'}",
        "MILDPATH_DATA_DIR": str(data),
        "MILDPATH_SECRET_KEY": "cli-secret-key-long-enough-0123456789abcdef",
    }
    assert run(e, "db", "upgrade").returncode == 0
    assert run(e, "demo").returncode == 0
    return e


def test_demo_twice_duplicates_nothing(env):
    db = env["MILDPATH_DATABASE_URL"].removeprefix("sqlite:///")
    before = sqlite3.connect(db).execute("select count(*) from patients").fetchone()[0]
    assert run(env, "demo").returncode == 0
    after = sqlite3.connect(db).execute("select count(*) from patients").fetchone()[0]
    assert before == after >= 30


def test_user_add_then_token_create_prints_the_token_alone(env):
    p = run(
        {**env, "MILDPATH_NEW_PASSWORD": "a-long-enough-password"},
        "user",
        "add",
        "new.doc@example.org",
        "--role",
        "clinician",
    )
    assert p.returncode == 0, p.stderr
    t = run(env, "token", "create", "new.doc@example.org")
    assert t.returncode == 0
    assert t.stdout.strip().startswith("mp_") and len(t.stdout.strip().splitlines()) == 1


def test_user_add_refuses_a_short_password_with_exit_2(env):
    p = run({**env, "MILDPATH_NEW_PASSWORD": "short"}, "user", "add", "x@example.org", "--role", "clinician")
    assert p.returncode == 2 and "12 characters" in p.stderr and "Traceback" not in p.stderr


def test_token_for_an_unknown_account_exits_2(env):
    p = run(env, "token", "create", "nobody@example.org")
    assert p.returncode == 2 and p.stdout == ""


def test_sqlite_backup_and_restore_round_trip(env, tmp_path):
    db = env["MILDPATH_DATABASE_URL"].removeprefix("sqlite:///")
    backup = tmp_path / "b.sqlite"
    assert run(env, "db", "backup", str(backup)).returncode == 0
    con = sqlite3.connect(db)
    con.execute("delete from outbox")
    con.execute("update patients set given_name = 'Changed' where mrn = 'DEMO-0001'")
    con.commit()
    con.close()
    assert run(env, "db", "restore", str(backup)).returncode == 0
    name = sqlite3.connect(db).execute("select given_name from patients where mrn='DEMO-0001'").fetchone()[0]
    assert name == "Pat"


def test_restore_refuses_a_file_that_is_not_a_backup(env, tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a database")
    p = run(env, "db", "restore", str(junk))
    assert p.returncode == 2 and "not a SQLite backup" in p.stderr


@pytest.mark.postgres
def test_postgres_backup_and_restore_round_trip(tmp_path):
    url = os.environ.get("MILDPATH_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("set MILDPATH_TEST_POSTGRES_URL to test PostgreSQL backups")
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    base = url.rsplit("/", 1)[0]
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text("DROP DATABASE IF EXISTS mildpath_backup_test"))
        c.execute(text("CREATE DATABASE mildpath_backup_test"))
    env = {
        "MILDPATH_DATABASE_URL": base + "/mildpath_backup_test",
        "MILDPATH_DATA_DIR": str(tmp_path),
        "MILDPATH_SECRET_KEY": "cli-secret-key-long-enough-0123456789abcdef",
    }
    assert run(env, "demo").returncode == 0
    dump = tmp_path / "pg.dump"
    assert run(env, "db", "backup", str(dump)).returncode == 0
    eng = create_engine(env["MILDPATH_DATABASE_URL"])
    with eng.begin() as c:
        c.execute(text("update patients set given_name = 'Changed' where mrn = 'DEMO-0001'"))
    p = run(env, "db", "restore", str(dump))
    assert p.returncode == 0, p.stderr
    with eng.connect() as c:
        assert c.execute(text("select given_name from patients where mrn = 'DEMO-0001'")).scalar() == "Pat"
    eng.dispose()
    with admin.connect() as c:
        c.execute(text("DROP DATABASE IF EXISTS mildpath_backup_test WITH (FORCE)"))
    admin.dispose()


def test_check_flags_a_development_deployment(env):
    p = run({**env, "MILDPATH_SECRET_KEY": ""}, "check")
    assert p.returncode == 1 and "SECRET_KEY" in p.stderr
