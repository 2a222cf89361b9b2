"""The README documents every setting, and the package's promises about its own shape hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mildpath.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in Settings.model_fields if f"`MILDPATH_{name.upper()}`" not in readme]
    assert not missing, f"README lacks these settings: {missing}"


def test_every_setting_has_a_description():
    assert all(field.description for field in Settings.model_fields.values())


def test_the_readme_gives_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme


def test_importing_the_domain_imports_no_framework_engine_or_io_library():
    code = (
        "import sys, mildpath.domain, pkgutil, importlib\n"
        "import mildpath.domain as d\n"
        "for m in pkgutil.walk_packages(d.__path__, 'mildpath.domain.'): importlib.import_module(m.name)\n"
        "heavy = {'sqlalchemy','fastapi','starlette','duckdb','pyspark','yaml','jinja2','typer','httpx',"
        "'fhir','matplotlib','mildpath.settings','mildpath.store','mildpath.content'}\n"
        "print(sorted(heavy & {m.split('.')[0] if not m.startswith('mildpath') else '.'.join(m.split('.')[:2]) "
        "for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_importing_mildpath_is_light():
    out = subprocess.run(
        [sys.executable, "-c", "import sys, mildpath; print('sqlalchemy' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == "False"
