"""Imports every table module so ``Base.metadata`` is complete (Alembic, tests, ``create_all``)."""

from __future__ import annotations

import importlib
import pkgutil

import mildpath.store as _store
from mildpath.store import models as models  # noqa: F401  (core tables)
from mildpath.store.base import Base

_NOT_TABLES = {"base", "db", "all_models", "migrate", "migrations", "audit", "models"}


def load_all() -> type[Base]:
    """Import every ``mildpath.store.<subject>`` module that declares tables; return the declarative base."""
    for info in pkgutil.iter_modules(_store.__path__):
        if info.name not in _NOT_TABLES:
            importlib.import_module(f"mildpath.store.{info.name}")
    return Base
