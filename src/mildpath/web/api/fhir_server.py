"""The FHIR R4 REST API (issue 19; contracts §11): ``GET /fhir/metadata``, read and search. Thin handlers: the
search is parsed in ``fhir/server.py``, access and audit are ``services/fhir_server.py``'s. Errors are
OperationOutcome (web/problems.py answers every ``/fhir/`` error that way)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import Response

from mildpath import __version__
from mildpath.domain.errors import NotFound
from mildpath.fhir import server as fhir
from mildpath.services import clock, enrolments, fhir_server
from mildpath.services.access import Actor
from mildpath.web.api.enrolments import EXAMPLE
from mildpath.web.deps import PUBLIC, Enroller, Policy, PublicActor, SessionDep, SettingsDep
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


@router.post("/ServiceRequest", status_code=201,
             responses={200: {"description": "Enrolled by this identifier before: the stored resource, nothing new"},
                        201: {"description": "Created: the stored resource; `Location` is its address"}})
def create_service_request(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: Enroller,
    resource: Annotated[dict[str, Any], Body(examples=[EXAMPLE])],
    sms_consent: Annotated[bool, Query(description="Record the patient's consent to texts (on their word)")] = False,
) -> FhirJSONResponse:
    """FHIR create (contracts §10): the EHR's ServiceRequest for CPT 0275T enrols the patient (as
    ``POST /api/v1/enrolments``). 201 with ``Location`` and the stored resource, whose ``subject`` is the mildpath
    Patient; the same identifier again answers 200 with the stored resource and changes nothing."""
    out = enrolments.create_service_request(
        session, actor, resource, today=clock.today(), now=clock.now(), secret_key=settings.secret_key,
        public_url=settings.links_base, record_sms_consent=sms_consent)
    location = f"{base_url(request, settings.public_url)}/ServiceRequest/{out.resource['id']}"
    return FhirJSONResponse(out.resource, status_code=201 if out.created else 200,
                            headers={"Location": location, "ETag": fhir.etag(out.resource)})


def _release_date() -> str:
    """The statement's date: today (the statement describes the running server)."""
    from mildpath.services import clock

    return clock.today().isoformat()


@router.get("/ServiceRequest")
def search_service_requests(
    request: Request, session: SessionDep, settings: SettingsDep, actor: FhirReader
) -> FhirJSONResponse:
    """Search ServiceRequests (the EHR's that enrolled patients): as every type's search, on the path that also
    takes the create interaction."""
    return search("ServiceRequest", request, session, settings, actor)


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
