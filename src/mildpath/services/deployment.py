"""`mildpath check`: unsafe deployment settings, in plain words."""

from __future__ import annotations

import stat

from mildpath.settings import MIN_SECRET_LENGTH, WEAK_SECRETS, Settings


def check_deployment(settings: Settings, *, secret_from_env: str | None = None) -> list[str]:
    """Every unsafe setting found; empty when none."""
    import os

    problems: list[str] = []
    secret = os.environ.get("MILDPATH_SECRET_KEY", "") if secret_from_env is None else secret_from_env
    if secret.strip().lower() in WEAK_SECRETS or len(secret) < MIN_SECRET_LENGTH:
        problems.append(f"MILDPATH_SECRET_KEY is missing, a default, or shorter than {MIN_SECRET_LENGTH} characters")
    if settings.debug:
        problems.append("MILDPATH_DEBUG is on: error pages may show internals")
    if settings.env != "production":
        problems.append("MILDPATH_ENV is not 'production'")
    path = settings.sqlite_path
    if path is not None and path.exists():
        mode = path.stat().st_mode
        if mode & (stat.S_IROTH | stat.S_IWOTH):
            problems.append(f"the SQLite file {path} is readable or writable by every user (chmod 600 it)")
        if path.parent.exists() and path.parent.stat().st_mode & stat.S_IWOTH:
            problems.append(f"the folder {path.parent} is writable by every user")
    return problems
