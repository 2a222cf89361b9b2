"""The service boundary, read from the source: queries live in store/, services call store functions.

A service may hold a ``Session`` (the transaction it is handed), catch ``sqlalchemy.exc`` errors and name the
``Select`` type of a scope the store built; it never builds a statement (``select``, ``update``, ``delete``,
``insert``, ``text``...) nor runs one on the session (``execute``, ``scalar``, ``scalars``, ``query``, ``get``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import mildpath.services

SERVICES = Path(mildpath.services.__file__).parent

#: what a service may import from SQLAlchemy: the session types, the errors, the type of a store-built query
ALLOWED_IMPORTS = {
    "sqlalchemy": {"Select"},
    "sqlalchemy.orm": {"Session", "sessionmaker"},
    "sqlalchemy.exc": None,  # any error class
}
QUERY_METHODS = {"execute", "scalar", "scalars", "query", "get"}

#: modules another change owns (the typed outcomes report and procedure records): their queries move there
NOT_YET: dict[str, str] = {}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names if a.name.startswith("sqlalchemy")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            module = node.module or ""
            allowed = ALLOWED_IMPORTS.get(module, set())
            for alias in node.names:
                if allowed is not None and alias.name not in allowed:
                    found.append(f"line {node.lineno}: from {module} import {alias.name}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in QUERY_METHODS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ("session", "db")
        ):
            found.append(f"line {node.lineno}: {node.func.value.id}.{node.func.attr}(...)")
    return found


def test_no_service_builds_or_runs_a_query_itself():
    offenders = {
        path.name: found
        for path in sorted(SERVICES.glob("*.py"))
        if path.name not in NOT_YET and (found := _violations(path))
    }
    assert offenders == {}, "move these queries into store/ functions: " + repr(offenders)


def test_the_check_sees_a_query_written_in_a_service(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from sqlalchemy import select\n"
        "from sqlalchemy.orm import Session\n"
        "def f(session: Session):\n"
        "    return session.scalars(select(1))\n",
        encoding="utf-8",
    )
    assert _violations(sample) == ["line 1: from sqlalchemy import select", "line 4: session.scalars(...)"]


def test_every_module_left_out_of_the_check_still_exists():
    assert all((SERVICES / name).exists() for name in NOT_YET)
