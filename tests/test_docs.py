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


def _examples(text: str) -> list[str]:
    """The lines of every ```bash block that follows an ``<!-- examples -->`` marker."""
    lines: list[str] = []
    for block in text.split("<!-- examples -->")[1:]:
        body = block.split("```bash", 1)[1].split("```", 1)[0]
        lines += [ln.strip() for ln in body.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    return lines


def test_every_command_example_in_the_readme_and_docs_runs_as_written():
    import os
    import shlex

    docs = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
    examples = [line for doc in docs for line in _examples(doc.read_text(encoding="utf-8"))]
    assert len(examples) >= 8
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for line in examples:
        done = subprocess.run(shlex.split(line), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{line}\n{done.stderr[-2000:]}"


def test_the_docs_do_not_point_outside_the_repository():
    docs = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
    outside = [str(d.relative_to(ROOT)) for d in docs if "../shared" in d.read_text(encoding="utf-8")]
    assert not outside
