"""The package's dependencies match what src/ imports: a runtime dependency for every library imported at
module level, an extra (pyproject ``[project.optional-dependencies]``, named in ``mildpath/extras.py``) for the
optional ones, which are only ever imported inside the function that needs them."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement

from mildpath.extras import EXTRA_OF_MODULE

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "mildpath"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _name(requirement: str) -> str:
    return Requirement(requirement).name.lower().replace("_", "-").replace(".", "-")


RUNTIME = {_name(r) for r in PROJECT["dependencies"]}
#: imported without being declared, and why that is right
UNDECLARED_BY_DESIGN = {"click": "cli/__init__.py falls back to it only on a Typer older than 0.20, which needs it"}
EXTRAS = {extra: {_name(r) for r in reqs} for extra, reqs in PROJECT["optional-dependencies"].items()}


def _imports(tree: ast.Module) -> list[tuple[str, bool]]:
    """(top-level module, imported at module level?) for every import of the file."""
    def type_checking(stmt: ast.stmt) -> bool:
        return isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test)

    top_level = {id(n) for n in tree.body} | {
        id(n)
        for stmt in tree.body
        if isinstance(stmt, ast.If | ast.Try) and not type_checking(stmt)
        for n in ast.walk(stmt)
    }
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name.split(".")[0], id(node) in top_level) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.module.split(".")[0], id(node) in top_level))
    return out


def _third_party() -> dict[str, list[tuple[str, bool]]]:
    found: dict[str, list[tuple[str, bool]]] = {}
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for module, at_top in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if module in sys.stdlib_module_names or module in ("mildpath", "__future__"):
                continue
            found.setdefault(module, []).append((str(path.relative_to(SRC)), at_top))
    return found


def test_every_library_src_imports_is_a_dependency_or_an_extra():
    distributions = packages_distributions()
    declared = RUNTIME | set().union(*EXTRAS.values())
    undeclared = {}
    for module in set(_third_party()) - set(UNDECLARED_BY_DESIGN):
        names = {d.lower().replace("_", "-").replace(".", "-") for d in distributions.get(module, [module])}
        if not names & declared:
            undeclared[module] = sorted(names)
    assert undeclared == {}


def test_the_libraries_of_an_extra_are_imported_only_where_they_are_used():
    at_module_level = {
        module: sorted(path for path, at_top in sites if at_top)
        for module, sites in _third_party().items()
        if module in EXTRA_OF_MODULE
    }
    assert {m: p for m, p in at_module_level.items() if p} == {}


def test_every_extra_the_messages_name_exists_and_holds_that_library():
    distributions = packages_distributions()
    for module, extra in EXTRA_OF_MODULE.items():
        assert extra in EXTRAS, extra
        names = {d.lower().replace("_", "-") for d in distributions.get(module, [module.replace("_", "-")])}
        assert names & EXTRAS[extra] or module == "psycopg_binary", (module, extra)


def test_no_optional_library_is_also_a_runtime_dependency():
    assert RUNTIME & set().union(*EXTRAS.values()) == set()
