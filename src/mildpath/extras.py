"""The optional parts of an installation (``pyproject.toml`` ``[project.optional-dependencies]``) and the message
for a site that uses one it did not install.

A site installs what it uses: ``mildpath[postgres]`` for a PostgreSQL database, ``mildpath[pdf]`` for the PDF
reports and handouts, ``mildpath[analytics]`` for the population screen, the exports and the outcomes charts,
``mildpath[spark]`` for the Spark engine. The modules of those libraries are imported where they are used, so a
command that needs a missing one fails there with ``ModuleNotFoundError``; :func:`missing_extra` turns that into
one line naming the extra to install.
"""

from __future__ import annotations

#: the top-level module a library is imported as -> the extra that installs it
EXTRA_OF_MODULE: dict[str, str] = {
    "psycopg": "postgres",
    "psycopg_binary": "postgres",
    "weasyprint": "pdf",
    "duckdb": "analytics",
    "pyarrow": "analytics",
    "matplotlib": "analytics",
    "lifelines": "analytics",
    "pandas": "analytics",
    "pyspark": "spark",
}


def missing_extra(exc: BaseException) -> str | None:
    """The one-line message for an import of an optional library that is not installed, or None when ``exc`` is
    anything else (a missing module of mildpath itself or of a required dependency is a broken installation)."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    module = exc.name.split(".")[0]
    extra = EXTRA_OF_MODULE.get(module)
    if extra is None:
        return None
    return f"this needs {module}, which is not installed: install mildpath[{extra}] (pip install 'mildpath[{extra}]')"
