"""`mildpath clinic set ID ...` (issue 18): an admin's changes to a clinic from the command line; options left
out keep their value; bad input exits 2 with one line naming the option."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_core_commands import run
from tests.referrals import test_clinics_cli

env = test_clinics_cli.env  # the same migrated database fixture (a module of its own)


def test_clinic_set_changes_the_named_fields_and_keeps_the_rest(env):
    made = run(env, "clinic", "add", "Lakeside Spine", "--phone", "+1 555 0101", "--json")
    clinic_id = json.loads(made.stdout)["id"]
    done = run(env, "clinic", "set", str(clinic_id), "--emergency-number", "911", "--timezone", "America/Denver",
               "--on-call-name", "Dr Night", "--on-call-email", "night@lakeside.example",
               "--on-call-phone", "+1 555 0199", "--escalate-emergency-minutes", "15", "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["phone"] == "+1 555 0101" and shown["emergency_number"] == "911"
    assert shown["timezone"] == "America/Denver"
    assert shown["oncall"] == {"name": "Dr Night", "email": "night@lakeside.example", "phone": "+1 555 0199"}
    assert shown["escalate_minutes"] == {"emergency": 15, "same_day": 240}


@pytest.mark.parametrize(("args", "named"), [
    (["--timezone", "Mars/Olympus"], "time zone"),
    (["--escalate-same-day-minutes", "0"], "--escalate-same-day-minutes"),
    (["--on-call-email", "not-an-address"], "oncall_email"),
])
def test_clinic_set_refuses_bad_input_with_exit_2(env, args, named):
    clinic_id = json.loads(run(env, "clinic", "add", f"Clinic {named}", "--json").stdout)["id"]
    done = run(env, "clinic", "set", str(clinic_id), *args)
    assert done.returncode == 2 and named in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_clinic_set_on_an_unknown_clinic_exits_2(env):
    done = run(env, "clinic", "set", "9999", "--phone", "1")
    assert done.returncode == 2 and "9999" in done.stderr
