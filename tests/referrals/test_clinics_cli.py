"""Clinic management and the coordinator account (issue 18, contracts §9): `mildpath clinic add`, `user add`."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.cli.test_core_commands import run

PASSWORD = {"MILDPATH_NEW_PASSWORD": "a-long-enough-password"}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    data = tmp_path_factory.mktemp("clinics")
    e = {
        "MILDPATH_DATABASE_URL": f"sqlite:///{data / 'clinics.db'}",
        "MILDPATH_DATA_DIR": str(data),
        "MILDPATH_SECRET_KEY": "cli-secret-key-long-enough-0123456789abcdef",
    }
    assert run(e, "db", "upgrade").returncode == 0
    return e


def _db(env):
    return sqlite3.connect(env["MILDPATH_DATABASE_URL"].removeprefix("sqlite:///"))


def test_clinic_add_prints_id_and_name_and_stores_every_field(env):
    p = run(
        env, "clinic", "add", "North Spine Clinic", "--phone", "+1 555 0100", "--timezone", "America/Chicago",
        "--address", "1 Main St", "--emergency-number", "911", "--json",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert set(out) == {"id", "name"} and out["name"] == "North Spine Clinic"
    row = (
        _db(env)
        .execute("select name, phone, address, emergency_number, timezone from clinics where id = ?", (out["id"],))
        .fetchone()
    )
    assert row == ("North Spine Clinic", "+1 555 0100", "1 Main St", "911", "America/Chicago")
    audit = _db(env).execute("select count(*) from audit_events where action = 'clinic.create'").fetchone()[0]
    assert audit >= 1


def test_clinic_add_rejects_an_unknown_zone_and_a_duplicate_name(env):
    p = run(env, "clinic", "add", "Zone Clinic", "--timezone", "Mars/Olympus", "--json")
    assert p.returncode == 2 and "time zone" in p.stderr and p.stdout == ""
    assert run(env, "clinic", "add", "Twin Clinic", "--json").returncode == 0
    again = run(env, "clinic", "add", "Twin Clinic", "--json")
    assert again.returncode == 1 and "exists" in again.stderr


def test_coordinator_account_belongs_to_a_clinic(env):
    second = json.loads(run(env, "clinic", "add", "South Clinic", "--timezone", "America/New_York", "--json").stdout)
    p = run({**env, **PASSWORD}, "user", "add", "coord@example.org", "--role", "coordinator", "--clinic",
            str(second["id"]))  # fmt: skip
    assert p.returncode == 0, p.stderr
    row = _db(env).execute("select role, clinic_id from users where email = 'coord@example.org'").fetchone()
    assert row == ("coordinator", second["id"])
    bad = run({**env, **PASSWORD}, "user", "add", "lost@example.org", "--role", "coordinator", "--clinic", "999")
    assert bad.returncode == 2 and "clinic" in bad.stderr
