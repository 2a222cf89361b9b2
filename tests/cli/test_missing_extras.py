"""A site that did not install an optional part (an extra of pyproject.toml) is told which one to install.

The library is made missing for real: a ``sitecustomize`` on the child interpreter's path blocks its import,
as if it were not installed; the command runs unchanged in a fresh process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BLOCKER = '''
import importlib.abc
import os
import sys

BLOCKED = set(os.environ["BLOCK_MODULES"].split(","))


class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


sys.meta_path.insert(0, _NotInstalled())
'''


def run_without(tmp_path: Path, blocked: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "mildpath", *args],
        env={**os.environ, **env, "PYTHONPATH": path, "BLOCK_MODULES": blocked},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


@pytest.fixture
def site_env(tmp_path: Path) -> dict[str, str]:
    return {
        "MILDPATH_DATABASE_URL": f"sqlite:///{tmp_path / 'site.db'}",
        "MILDPATH_DATA_DIR": str(tmp_path),
        "MILDPATH_SECRET_KEY": "cli-secret-key-long-enough-0123456789abcdef",
    }


def test_the_outcomes_pdf_without_weasyprint_says_to_install_the_pdf_extra(tmp_path, site_env):
    assert run_without(tmp_path, "weasyprint", site_env, "db", "upgrade").returncode == 0
    proc = run_without(tmp_path, "weasyprint", site_env, "report", "outcomes", "--out", str(tmp_path / "r.pdf"))
    assert proc.returncode == 1
    assert "install mildpath[pdf]" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r.pdf").exists()


def test_the_same_report_as_json_needs_no_pdf_extra(tmp_path, site_env):
    assert run_without(tmp_path, "weasyprint", site_env, "db", "upgrade").returncode == 0
    proc = run_without(tmp_path, "weasyprint", site_env, "report", "outcomes", "--json")
    assert proc.returncode == 0, proc.stderr


def test_a_postgresql_database_without_psycopg_says_to_install_the_postgres_extra(tmp_path, site_env):
    env = {**site_env, "MILDPATH_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    proc = run_without(tmp_path, "psycopg", env, "db", "upgrade")
    assert proc.returncode == 1
    assert "install mildpath[postgres]" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_missing_module_that_is_no_extra_still_fails_loudly(tmp_path, site_env):
    proc = run_without(tmp_path, "argon2", site_env, "user", "add", "x@example.org", "--role", "admin")
    assert proc.returncode != 0
    assert "install mildpath[" not in proc.stderr
    assert "argon2" in proc.stderr
