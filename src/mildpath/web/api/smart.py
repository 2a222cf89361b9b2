"""SMART Backend Services over HTTP (issue 19; contracts §11): ``POST /auth/token`` and
``GET /.well-known/smart-configuration``. The checks are services/smart.py's; errors are RFC 6749 §5.2 JSON
(``{"error", "error_description"}``), not problem+json, because OAuth clients read that shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from mildpath.fhir.server import smart_configuration
from mildpath.services import clock, smart
from mildpath.web.api.fhir_server import token_url
from mildpath.web.deps import PublicActor, SessionDep, SettingsDep

router = APIRouter(tags=["smart"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


FormField = Annotated[str, Form(max_length=16_384)]


@router.post(
    "/auth/token",
    responses={
        200: {"description": '``{"access_token", "token_type": "bearer", "expires_in", "scope"}``'},
        400: {"description": "RFC 6749 §5.2 error (invalid_request, unsupported_grant_type, invalid_scope)"},
        401: {"description": "RFC 6749 §5.2 ``invalid_client``: the client assertion was refused"},
    },
)
def token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: PublicActor,
    grant_type: FormField = "",
    client_assertion_type: FormField = "",
    client_assertion: FormField = "",
    scope: FormField = "",
) -> JSONResponse:
    """Client credentials with a signed JWT assertion (SMART Backend Services): an access token for ``/fhir``."""
    fields = {
        "grant_type": grant_type,
        "client_assertion_type": client_assertion_type,
        "client_assertion": client_assertion,
        "scope": scope,
    }
    try:
        grant = smart.issue_token(
            session, fields, token_url=token_url(request, settings.public_url), now=clock.now(), address=actor.address
        )
    except smart.OAuthError as exc:
        return JSONResponse({"error": exc.code, "error_description": exc.message}, exc.status, headers=NO_STORE)
    return JSONResponse(grant.as_json(), headers=NO_STORE)


@router.get("/.well-known/smart-configuration")
def configuration(request: Request, settings: SettingsDep, _actor: PublicActor) -> JSONResponse:
    """What a SMART Backend Services client needs: the token endpoint, grant type, auth method, algorithms, scopes."""
    return JSONResponse(smart_configuration(token_url(request, settings.public_url)))
