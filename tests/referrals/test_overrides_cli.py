"""`mildpath report overrides --from --to --json` (issue 18: the override report as a page and as JSON): the same
report as the page and the API, for the whole installation; bad dates exit 2 with one line."""

from __future__ import annotations

import json

from tests.cli.test_core_commands import run
from tests.referrals import test_clinics_cli

env = test_clinics_cli.env  # a migrated database of its own


def test_the_override_report_prints_its_json(env):
    done = run(env, "report", "overrides", "--from", "2026-01-01", "--to", "2026-12-31", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["start"] == "2026-01-01" and report["end"] == "2026-12-31"
    assert report["criteria"] == [] and report["cds_feedback"] == [] and report["by_clinician"] == {}


def test_bad_dates_exit_2_with_one_line(env):
    done = run(env, "report", "overrides", "--from", "yesterday", "--to", "2026-12-31", "--json")
    assert done.returncode == 2 and "--from/--to" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    later = run(env, "report", "overrides", "--from", "2026-12-31", "--to", "2026-01-01", "--json")
    assert later.returncode == 2 and "before its start" in later.stderr
