"""Settings: strict, documented, safe by default."""

from __future__ import annotations

import pytest

from mildpath.services.deployment import check_deployment
from mildpath.settings import Settings


def test_production_refuses_a_missing_secret(tmp_path):
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(env="production", secret_key="", data_dir=str(tmp_path))


def test_production_refuses_a_default_secret(tmp_path):
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(env="production", secret_key="changeme", data_dir=str(tmp_path))


def test_production_refuses_debug(tmp_path):
    with pytest.raises(ValueError, match="DEBUG"):
        Settings(env="production", secret_key="x" * 40, debug=True, data_dir=str(tmp_path))


def test_development_generates_and_keeps_a_key(tmp_path):
    first = Settings(secret_key="", data_dir=str(tmp_path))
    second = Settings(secret_key="", data_dir=str(tmp_path))
    assert len(first.secret_key) >= 32 and first.secret_key == second.secret_key
    assert (tmp_path / ".secret_key").stat().st_mode & 0o077 == 0


def test_booleans_are_parsed_strictly(tmp_path):
    with pytest.raises(ValueError):
        Settings(debug="maybe", data_dir=str(tmp_path))  # type: ignore[arg-type]


def test_the_default_database_is_a_sqlite_file_under_the_data_dir(tmp_path):
    s = Settings(data_dir=str(tmp_path), secret_key="k" * 40)
    assert s.database_url == f"sqlite:///{tmp_path}/mildpath.db"


def test_check_reports_a_world_readable_sqlite_file(tmp_path):
    db = tmp_path / "m.db"
    db.write_bytes(b"")
    db.chmod(0o644)
    s = Settings(database_url=f"sqlite:///{db}", secret_key="k" * 40, data_dir=str(tmp_path))
    problems = check_deployment(s, secret_from_env="k" * 40)
    assert any("readable" in p for p in problems)
    db.chmod(0o600)
    s2 = Settings(database_url=f"sqlite:///{db}", secret_key="k" * 40, env="production", data_dir=str(tmp_path))
    assert check_deployment(s2, secret_from_env="k" * 40) == []


def test_check_reports_a_missing_secret_and_debug(tmp_path):
    s = Settings(debug=True, secret_key="", data_dir=str(tmp_path))
    problems = check_deployment(s, secret_from_env="")
    assert any("SECRET_KEY" in p for p in problems) and any("DEBUG" in p for p in problems)
