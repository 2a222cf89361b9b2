"""The FHIR R4 REST API (issue 19; contracts §11): ``GET /fhir/metadata``, read and search. Thin handlers: the
search is parsed in ``fhir/server.py``, access and audit are ``services/fhir_server.py``'s. Errors are
OperationOutcome (web/problems.py answers every ``/fhir/`` error that way)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from mildpath import __version__
from mildpath.domain.errors import NotFound
from mildpath.fhir import server as fhir
from mildpath.services import fhir_server
from mildpath.services.access import Actor
from mildpath.web.deps import PUBLIC, Policy, PublicActor, SessionDep, SettingsDep
from mildpath.web.problems import FHIR_JSON, FhirJSONResponse

FHIR_READ = Policy("fhir_read", frozenset({"patient", "clinician", "admin", "backend"}), own="clinic")
FhirReader = Annotated[Actor, Depends(FHIR_READ)]
ResourceType = Annotated[str, Path(pattern=r"^[A-Z][A-Za-z]{1,63}$", description="FHIR resource type")]
ResourceId = Annotated[str, Path(pattern=r"^[A-Za-z0-9\-\.]{1,64}$", description="FHIR logical id")]

router = APIRouter(prefix="/fhir", tags=["fhir"], default_response_class=FhirJSONResponse)


def public_root(request: Request, public_url: str) -> str:
    """``MILDPATH_PUBLIC_URL`` when set, else the URL the request came to (no trailing slash)."""
    return public_url.rstrip("/") if public_url else str(request.base_url).rstrip("/")


def base_url(request: Request, public_url: str) -> str:
    """The server's FHIR base: ``MILDPATH_PUBLIC_URL`` + ``/fhir`` when set, else the URL the request came to."""
    return f"{public_root(request, public_url)}/fhir"


def token_url(request: Request, public_url: str) -> str:
    """The SMART token endpoint, the ``aud`` a client assertion must carry (web/api/smart.py)."""
    return f"{public_root(request, public_url)}/auth/token"


def _strict(request: Request) -> bool:
    prefer = request.headers.get("prefer", "")
    return any(part.strip().replace(" ", "") == "handling=strict" for part in prefer.split(";") + prefer.split(","))


def _known(rtype: str) -> None:
    if rtype not in fhir.SEARCH:
        raise NotFound(f"mildpath does not serve {rtype}", record_type=rtype)


@router.get("/metadata", dependencies=[Depends(PUBLIC)])
def metadata(request: Request, settings: SettingsDep, _actor: PublicActor) -> FhirJSONResponse:
    """The CapabilityStatement: exactly the types, interactions and search parameters this server answers."""
    statement = fhir.capability_statement(
        base_url(request, settings.public_url), _release_date(), __version__, token_url(request, settings.public_url)
    )
    return FhirJSONResponse(statement)


def _release_date() -> str:
    """The statement's date: today (the statement describes the running server)."""
    from mildpath.services import clock

    return clock.today().isoformat()


@router.get("/{rtype}")
def search(
    rtype: ResourceType, request: Request, session: SessionDep, settings: SettingsDep, actor: FhirReader
) -> FhirJSONResponse:
    """Search: a ``searchset`` Bundle with paging links; ``_summary=count`` for the total alone."""
    _known(rtype)
    query = fhir.parse_search(rtype, list(request.query_params.multi_items()), strict=_strict(request))
    result = fhir_server.search(session, actor, query)
    return FhirJSONResponse(fhir.searchset(result.matches, query, base_url(request, settings.public_url)))


@router.get("/{rtype}/{rid}")
def read(rtype: ResourceType, rid: ResourceId, request: Request, session: SessionDep, actor: FhirReader) -> Response:
    """Read one resource, with a weak ``ETag``; ``If-None-Match`` with the same tag answers 304."""
    _known(rtype)
    found = fhir_server.read(session, actor, rtype, rid)
    if request.headers.get("if-none-match") == found.etag:
        return Response(status_code=304, headers={"ETag": found.etag})
    return FhirJSONResponse(found.resource, headers={"ETag": found.etag}, media_type=FHIR_JSON)
