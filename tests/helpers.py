"""Helpers tests import: logging in through the real form, reading CSRF tokens, counting rows."""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
from collections.abc import Coroutine
from typing import Any, TypeVar

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')

_T = TypeVar("_T")


def run_coroutine(coro: Coroutine[Any, Any, _T], timeout: float = 300) -> _T:
    """Run a coroutine on an event loop of its own, in a thread: a test earlier in the run (the browser's sync
    API) may leave an event loop set on the main thread, where asyncio.run() refuses to start. Tests never call
    asyncio.run() themselves (tests/security/test_middlewares.py checks it)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout=timeout)


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def login(client: TestClient, persona) -> TestClient:
    """Log ``persona`` in through the real login form; the client keeps the session cookie."""
    page = client.get("/login")
    resp = client.post(
        "/login",
        data={"email": persona.email, "password": persona.password, "csrf_token": csrf_from(page.text), "next": "/"},
    )
    assert resp.status_code == 303, resp.text[:500]
    if resp.headers["location"].startswith("/login/mfa"):  # the second factor: the persona's app's code
        import time

        import pyotp

        totp = pyotp.TOTP(persona.totp_secret)
        for at in (time.time(), time.time() + totp.interval):  # the next step's code if this one was used
            code = client.get(resp.headers["location"])
            done = client.post("/login/mfa", data={"code": totp.at(at), "csrf_token": csrf_from(code.text),
                                                   "next": "/"})
            if done.status_code == 303:
                break
        assert done.status_code == 303, done.text[:500]
    return client


def page_csrf(client: TestClient, url: str) -> str:
    """The CSRF token a signed-in page carries (for posting its forms)."""
    return csrf_from(client.get(url).text)


def count(db: Session, model: type, **where: object) -> int:
    stmt = select(func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return int(db.scalar(stmt) or 0)


def api_routes(app):  # type: ignore[no-untyped-def]
    """Every APIRoute of the app, also inside included routers: FastAPI >= 0.165 keeps an included router as one
    wrapper entry of ``app.routes`` (``original_router``), so a plain loop over ``app.routes`` sees almost none."""
    from fastapi.routing import APIRoute

    def walk(routes):  # type: ignore[no-untyped-def]
        for route in routes:
            if isinstance(route, APIRoute):
                yield route
            elif hasattr(route, "original_router"):
                yield from walk(route.original_router.routes)

    return list(walk(app.routes))


def table_names_after_down_and_up(tmp_path, target: str) -> tuple[set[str], set[str]]:  # type: ignore[no-untyped-def]
    """Migrate a fresh SQLite file to the heads, down to ``target``, and up again: the table names after the
    downgrade and after the second upgrade."""
    from alembic import command
    from sqlalchemy import inspect

    from mildpath.settings import Settings
    from mildpath.store.db import make_engine
    from mildpath.store.migrate import alembic_config, upgrade

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}", secret_key="x" * 48, data_dir=str(tmp_path))
    engine = make_engine(settings)
    upgrade(settings, engine)
    with engine.begin() as conn:
        cfg = alembic_config(settings)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, target)
    down = set(inspect(engine).get_table_names())
    upgrade(settings, engine)
    up = set(inspect(engine).get_table_names())
    engine.dispose()
    return down, up
