"""Alembic, driven from code: ``mildpath db upgrade`` and the tests call :func:`upgrade`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from mildpath.settings import Settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    cfg.attributes["settings"] = settings  # for migrations that need the secret key (i20t_totp_encrypted)
    return cfg


def upgrade(settings: Settings, engine: Engine | None = None, revision: str = "heads") -> None:
    """Bring the database to ``revision`` (default: every subject branch's head); idempotent.

    Each subject (screening, questionnaires, procedures, recovery…) keeps its own migration branch off the
    foundation revision, so subjects evolve independently; ``heads`` applies them all.
    """
    cfg = alembic_config(settings)
    if engine is not None:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    else:
        command.upgrade(cfg, revision)


def current_heads(settings: Settings) -> list[str]:
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(alembic_config(settings)).get_heads())
