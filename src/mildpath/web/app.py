"""The FastAPI app factory.

Subject routers are discovered: every module in ``mildpath.web.pages`` and ``mildpath.web.api`` that defines
``router`` is included, and may add navigation links (``NAV``: ``{"public"|"staff"|"patient": [links]}``)
and patient-chart tabs (``PATIENT_TABS``: links with ``{id}`` for the patient id).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from mildpath import __version__
from mildpath.content.procedure import use_site_content
from mildpath.settings import Settings
from mildpath.store.db import make_engine, make_session_factory
from mildpath.web import openapi_limits, problems
from mildpath.web.deps import PUBLIC, SessionDep
from mildpath.web.security import CdsHooksCorsMiddleware, OverloadMiddleware, SecurityMiddleware
from mildpath.web.templating import make_templates

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger("mildpath.web")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title="mildpath API",
        version=__version__,
        description="Care pathway of the mild procedure for lumbar spinal stenosis. Errors are RFC 9457 "
        "problem+json; authenticate with `Authorization: Bearer <token>` (`mildpath token create EMAIL`).\n\n"
        "Limits on every request body: at most `MILDPATH_MAX_BODY_MB` bytes (413); integers within 32 bits and "
        "numbers finite and within 1e12; no coercion across JSON kinds (dates are ISO strings, booleans JSON "
        "booleans); text without NUL, control characters, unpaired surrogates or bidi overrides; free-form JSON "
        "(answers, FHIR resources and Bundles) nested at most 32 levels, arrays (Bundle entries) of at most "
        "20,000 items, strings of at most 100,000 characters; otherwise 422 naming the field. A POST with "
        "`Idempotency-Key` replays its first answer; the same key with another method, path or body is 422, "
        "and 409 with `Retry-After` while the first is still being processed.",
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        redirect_slashes=False,
        debug=settings.debug,
    )
    use_site_content(settings.content_dir)  # a site's own anticoagulant table replaces the shipped one
    engine = make_engine(settings)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.templates = make_templates()
    app.state.nav = {"public": [], "staff": [], "patient": []}
    app.state.patient_tabs = []
    app.state.list_columns = []

    problems.install(app)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get(
        "/healthz",
        tags=["ops"],
        dependencies=[_public_dep()],
        responses={503: {"description": "The database does not answer"}},
    )
    def healthz(session: SessionDep) -> JSONResponse:
        """200 when the app is up and the database answers (503 otherwise).

        It asks through the request's own session: a second session in one request would wait on SQLite for
        the write lock the first one holds (see web/deps.py Policy)."""
        try:
            session.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok", "version": __version__})

    for package in ("mildpath.web.pages", "mildpath.web.api"):
        _include_package(app, package)

    _document_problems(app)
    app.add_middleware(
        SecurityMiddleware, max_body=settings.max_body_bytes, trusted_proxies=settings.trusted_proxy_list
    )
    app.add_middleware(CdsHooksCorsMiddleware, origins=settings.cors_origin_list)
    app.add_middleware(OverloadMiddleware, limit=settings.max_in_flight)  # outermost: refuses before any work
    return app


def _document_problems(app: FastAPI) -> None:
    """The OpenAPI schema, built once, with the problem+json error answers declared (web/problems.py) and the
    input limits and security schemes stated per operation (web/openapi_limits.py)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = problems.document_problems(build())
            app.openapi_schema = openapi_limits.document_limits(schema, openapi_limits.public_operations(app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _public_dep() -> Any:
    from fastapi import Depends

    return Depends(PUBLIC)


def _include_package(app: FastAPI, package_name: str) -> None:
    package = importlib.import_module(package_name)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package_name}.{info.name}")
        router = getattr(module, "router", None)
        if router is None:
            continue
        app.include_router(router)
        for area, links in getattr(module, "NAV", {}).items():
            app.state.nav[area].extend(links)
        app.state.patient_tabs.extend(getattr(module, "PATIENT_TABS", []))
        app.state.list_columns.extend(getattr(module, "LIST_COLUMNS", []))
