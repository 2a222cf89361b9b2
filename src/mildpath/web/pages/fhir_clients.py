"""Administration of SMART backend and CDS Hooks clients (issue 19): the page ``/admin/fhir-clients`` lists the
registered clients, registers one (the same checks as ``mildpath fhir-client add``) and disables one."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mildpath.domain.errors import InvalidInput
from mildpath.services import smart
from mildpath.web.deps import Admin, AdminForm, SessionDep
from mildpath.web.forms import check_texts, form_id
from mildpath.web.pages._common import redirect, render

router = APIRouter(include_in_schema=False)
PAGE = "admin/fhir_clients.html"


def _page(request: Request, session: SessionDep, actor: Admin, status_code: int = 200, **extra: object) -> Response:
    context = {"clients": smart.list_clients(session, actor), "error": None, "added": None, **extra}
    return render(request, PAGE, context, status_code=status_code)


@router.get("/admin/fhir-clients")
def clients(request: Request, actor: Admin, session: SessionDep) -> Response:
    return _page(request, session, actor)


@router.post("/admin/fhir-clients")
async def add_client(request: Request, actor: AdminForm, session: SessionDep) -> Response:
    form = await request.form()

    def text(name: str) -> str:
        return str(form.get(name, "")).strip()

    typed = {k: text(k) for k in ("name", "jwks_url", "jwks", "scopes", "issuer", "clinic_id")}  # shown again
    try:
        jwks = json.loads(text("jwks")) if text("jwks") else None
    except json.JSONDecodeError as exc:
        return _page(request, session, actor, 422, error=f"The key set is not JSON ({exc.msg}, line {exc.lineno}).",
                     values=typed)
    clinic = text("clinic_id")
    try:
        check_texts(typed, {"name": 200, "scopes": 2000, "jwks_url": 2048, "issuer": 2048, "clinic_id": 12})
        view = smart.register_client(
            session,
            actor,
            text("name"),
            scopes=text("scopes").split(),
            jwks=jwks,
            jwks_url=text("jwks_url") or None,
            issuer=text("issuer") or None,
            clinic_id=form_id(clinic, "clinic_id"),  # never a mistyped id read as "every clinic"
        )
    except InvalidInput as exc:
        return _page(request, session, actor, 422, error=exc.message, values=typed)
    return _page(request, session, actor, added=view.client_id)


@router.post("/admin/fhir-clients/{client_id}/disable")
def disable_client(request: Request, client_id: str, actor: AdminForm, session: SessionDep) -> Response:
    smart.disable_client(session, actor, client_id[:64])
    return redirect("/admin/fhir-clients")
