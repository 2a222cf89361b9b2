"""FHIR Bulk Data 2.0 ``$export`` (issue 19; contracts §11): kick-off at system, ``Patient`` and ``Group`` level,
status polling, NDJSON downloads and ``DELETE`` to cancel. Thin handlers: the parameters are parsed in
``fhir/bulk.py``, access, audit and the jobs are ``services/bulk_export.py``'s. Errors are OperationOutcome.

This module's routes come before ``fhir_server``'s (``/fhir/{rtype}/{rid}`` would otherwise take
``/fhir/Patient/$export``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from mildpath.fhir import bulk
from mildpath.fhir.server import BadSearch
from mildpath.services import bulk_export, clock
from mildpath.services.access import Actor
from mildpath.web.api.fhir_server import base_url
from mildpath.web.deps import Policy, SessionDep, SettingsDep
from mildpath.web.problems import FhirJSONResponse, fhir_outcome

FHIR_EXPORT_SYSTEM = Policy("fhir_export_system", frozenset({"admin", "backend"}))
FHIR_EXPORT = Policy("fhir_export", frozenset(bulk_export.EXPORTERS), own="clinic")
SystemExporter = Annotated[Actor, Depends(FHIR_EXPORT_SYSTEM)]
Exporter = Annotated[Actor, Depends(FHIR_EXPORT)]
JobId = Annotated[str, Path(pattern=r"^[a-f0-9]{32}$", description="The export job (from Content-Location)")]
FileName = Annotated[str, Path(pattern=r"^[A-Z][A-Za-z]{1,63}\.ndjson$", description="One output file")]
GroupId = Annotated[str, Path(pattern=r"^[A-Za-z0-9\-\.]{1,64}$", description="A Group: one per clinic")]
ACCEPTED = ("application/fhir+json", "application/json", "*/*")

KICKOFF_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "Accepted: poll the status URL given in Content-Location"}
}
STATUS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The manifest (Bulk Data 2.0 complete status)", "content": {"application/json": {}}},
    202: {"description": "Still running: X-Progress, Retry-After"},
}
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "NDJSON, one resource type", "content": {bulk.NDJSON: {}}}
}

router = APIRouter(prefix="/fhir", tags=["fhir"], default_response_class=FhirJSONResponse)


def _kickoff(
    request: Request, session: SessionDep, settings: SettingsDep, actor: Actor, level: str, group_id: str | None
) -> Response:
    prefer = request.headers.get("prefer", "")
    if not bulk.prefers(prefer, "respond-async"):
        raise BadSearch("an $export needs the header Prefer: respond-async", field="Prefer")
    accept = request.headers.get("accept", "application/fhir+json")
    if not any(kind.split(";")[0].strip() in ACCEPTED for kind in accept.split(",")):
        raise BadSearch("an $export answers application/fhir+json", field="Accept")
    lenient = bulk.prefers(prefer, "handling=lenient")
    kickoff = bulk.parse_kickoff(list(request.query_params.multi_items()), lenient=lenient)
    base = base_url(request, settings.public_url)
    asked = base + request.url.path.removeprefix("/fhir") + (f"?{request.url.query}" if request.url.query else "")
    job = bulk_export.kick_off(session, actor, level=level, group_id=group_id, kickoff=kickoff, request_url=asked,
                               now=clock.now())
    return Response(status_code=202, headers={"Content-Location": f"{base}/$export-status/{job.id}"})


#: Bulk Data 2.0 kick-off: ``Prefer: respond-async`` is required (400 OperationOutcome without it).
KICKOFF_HEADERS = {"parameters": [{
    "name": "Prefer", "in": "header", "required": True, "schema": {"type": "string", "enum": ["respond-async"]},
    "description": "Bulk Data kick-off: the server answers asynchronously (400 without it)",
}]}


@router.get(
    "/$export", status_code=202, response_class=Response, responses=KICKOFF_RESPONSES,
    openapi_extra=KICKOFF_HEADERS,
)
def export_system(request: Request, session: SessionDep, settings: SettingsDep, actor: SystemExporter) -> Response:
    """Kick off an export of the whole system (admins): 202 and the status URL in ``Content-Location``."""
    return _kickoff(request, session, settings, actor, "system", None)


@router.get(
    "/Patient/$export", status_code=202, response_class=Response, responses=KICKOFF_RESPONSES,
    openapi_extra=KICKOFF_HEADERS,
)
def export_patients(request: Request, session: SessionDep, settings: SettingsDep, actor: Exporter) -> Response:
    """Kick off an export of every patient the caller may export (an admin all, staff their clinic's)."""
    return _kickoff(request, session, settings, actor, "patient", None)


@router.get(
    "/Group/{group_id}/$export", status_code=202, response_class=Response, responses=KICKOFF_RESPONSES,
    openapi_extra=KICKOFF_HEADERS,
)
def export_group(
    group_id: GroupId, request: Request, session: SessionDep, settings: SettingsDep, actor: Exporter
) -> Response:
    """Kick off an export of one clinic's Group (its id is the clinic's)."""
    return _kickoff(request, session, settings, actor, "group", group_id)


@router.get("/$export-status/{job_id}", response_class=JSONResponse, responses=STATUS_RESPONSES)
def export_status(
    job_id: JobId, request: Request, session: SessionDep, settings: SettingsDep, actor: Exporter
) -> Response:
    """202 with ``X-Progress`` while the job runs, then 200 with the manifest (or 500 with why it failed)."""
    job = bulk_export.status(session, actor, job_id, now=clock.now())
    if job.status in ("queued", "running"):
        retry = str(bulk_export.RETRY_AFTER_SECONDS)
        return Response(status_code=202, headers={"X-Progress": job.status, "Retry-After": retry})
    if job.status == "failed":
        return fhir_outcome(500, "Export failed", f"{job.error or 'The export failed'}; kick off a new one.")
    base = f"{base_url(request, settings.public_url)}/$export-output/{job.id}"
    assert job.transaction_time is not None
    body = bulk.manifest(transaction_time=job.transaction_time, request=job.request_url,
                         files=[(f.type, f"{base}/{f.file}", f.count) for f in job.files])
    expires = job.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT") if job.expires_at else ""
    return JSONResponse(body, headers={"Expires": expires} if expires else {})


@router.delete("/$export-status/{job_id}", status_code=202, response_class=Response)
def export_cancel(job_id: JobId, session: SessionDep, settings: SettingsDep, actor: Exporter) -> Response:
    """Cancel the job (or say its files may go): 202; its files are deleted."""
    bulk_export.cancel(session, actor, job_id, data_dir=settings.data_dir, now=clock.now())
    return Response(status_code=202)


@router.get("/$export-output/{job_id}/{file_name}", response_class=FileResponse, responses=FILE_RESPONSES)
def export_file(
    job_id: JobId, file_name: FileName, session: SessionDep, settings: SettingsDep, actor: Exporter
) -> FileResponse:
    """One complete NDJSON file of a completed job (the requester's token is required, as the manifest says)."""
    path = bulk_export.output_file(session, actor, job_id, file_name, data_dir=settings.data_dir, now=clock.now())
    return FileResponse(path, media_type=bulk.NDJSON)
