"""CDS Hooks 2.0 over HTTP (https://cds-hooks.hl7.org/2.0/; contracts §11): discovery, the ``mild-candidacy``
``patient-view`` service and its feedback endpoint. The work is services/cds_hooks.py's.

- ``GET /cds-services``: discovery. ``POST /cds-services/mild-candidacy``: cards ("possible mild candidate: refer
  for specialist evaluation", "more information needed", a critical red-flag card; none when not a candidate).
  Missing prefetch that cannot be fetched from the EHR: **412**, naming the keys in ``missing``. ``hook`` other
  than ``patient-view`` or no ``context.patientId``: 422.
- ``POST /cds-services/mild-candidacy/feedback``: ``{"feedback": [{card, outcome: accepted|overridden,
  acceptedSuggestions, overrideReason {reason: Coding, userComment}, outcomeTimestamp}]}``; 200 when stored,
  422 naming the field otherwise (an unknown card too).

Authentication (https://cds-hooks.hl7.org/2.0/#trusting-cds-clients): every call carries a JWT the EHR signed as
``Authorization: Bearer``; its ``iss`` selects a client registered with ``mildpath fhir-client add ... --issuer``,
whose key set verifies it; ``aud`` must be the URL of the endpoint called (``MILDPATH_PUBLIC_URL`` + the path,
else the URL the request came to), ``exp`` at most 5 minutes ahead, ``jti`` unused. Unsigned, expired, replayed or
wrong-audience JWTs: 401. A site may also admit mildpath's own API tokens of clinician and admin accounts (and
signed-in sessions, for trying the service from a browser) with ``MILDPATH_CDS_API_TOKENS=true``. CORS for
browser-based clients: ``MILDPATH_CORS_ORIGINS`` (web/security.py).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, ConfigDict, Field, model_validator

from mildpath.domain.inputs import EdgeInput
from mildpath.fhir.cds_hooks import SERVICE_ID, MissingPrefetch, discovery
from mildpath.services import auth, clock, smart
from mildpath.services import cds_hooks as svc
from mildpath.services.access import Actor
from mildpath.web.api.fhir_server import public_root
from mildpath.web.deps import Policy, SessionDep, SettingsDep, begin
from mildpath.web.problems import LoginRequired, problem

router = APIRouter(tags=["cds-hooks"])
STAFF_ROLES = frozenset({"clinician", "admin"})


class CdsHooksRequest(EdgeInput):
    """A CDS Hooks 2.0 service request (https://cds-hooks.hl7.org/2.0/#http-request_1)."""

    model_config = ConfigDict(extra="allow")

    hook: str = Field(max_length=64)
    hookInstance: str = Field(max_length=128)  # noqa: N815 (the spec's name)
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None
    fhirServer: str | None = Field(default=None, max_length=2048)  # noqa: N815
    fhirAuthorization: dict[str, Any] | None = None  # noqa: N815


class Coding(EdgeInput):
    system: str | None = Field(default=None, max_length=2048)
    code: str = Field(max_length=200)
    display: str | None = Field(default=None, max_length=500)


class OverrideReason(EdgeInput):
    reason: Coding | None = None
    userComment: str | None = Field(default=None, max_length=2000)  # noqa: N815


class Suggestion(EdgeInput):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(max_length=128)


class FeedbackEntry(EdgeInput):
    """One card's outcome (https://cds-hooks.hl7.org/2.0/#feedback)."""

    card: str = Field(min_length=1, max_length=64)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[Suggestion] = Field(default_factory=list, max_length=100)  # noqa: N815
    overrideReason: OverrideReason | None = None  # noqa: N815
    outcomeTimestamp: AwareDatetime  # noqa: N815

    @model_validator(mode="after")
    def _outcome_fields(self) -> FeedbackEntry:
        if self.overrideReason is not None and self.outcome != "overridden":
            raise ValueError("overrideReason goes with the outcome overridden only")
        if self.acceptedSuggestions and self.outcome != "accepted":
            raise ValueError("acceptedSuggestions go with the outcome accepted only")
        return self


class FeedbackRequest(EdgeInput):
    feedback: list[FeedbackEntry] = Field(min_length=1, max_length=100)


class _CdsClientPolicy(Policy):
    """A registered client's signed JWT (see the module doc); with ``MILDPATH_CDS_API_TOKENS``, also staff API
    tokens and sessions. Anything presented and refused is 401."""

    def __call__(self, request: Request, session: SessionDep, settings: SettingsDep) -> Actor:
        begin(request, session)
        policy: Policy = self
        if getattr(request.state, "actor", None) is None:
            scheme, _, value = request.headers.get("authorization", "").partition(" ")
            value = value.strip()
            address = getattr(request.state, "client_address", "") or ""
            if scheme.lower() == "bearer" and value.count(".") == 2:
                audience = public_root(request, settings.public_url) + request.url.path
                try:
                    request.state.actor = smart.cds_actor(session, value, audience=audience, now=clock.now(),
                                                          address=address)
                except smart.InvalidJwt:
                    raise LoginRequired() from None
            elif scheme.lower() == "bearer" and value:
                user = auth.user_for_token(session, value) if settings.cds_api_tokens else None
                if user is None:
                    raise LoginRequired()
                request.state.actor = Actor.for_user(user, address)
        if settings.cds_api_tokens:
            policy = dataclasses.replace(self, roles=self.roles | STAFF_ROLES)
        return Policy.__call__(policy, request, session, settings)


CDS_CLIENT = _CdsClientPolicy("cds_client", frozenset({"backend"}))
CdsClient = Annotated[Actor, Depends(CDS_CLIENT)]


@router.get("/cds-services")
def cds_discovery(actor: CdsClient) -> JSONResponse:
    """CDS Hooks discovery: the ``mild-candidacy`` service for the ``patient-view`` hook, with its prefetch."""
    return JSONResponse(discovery())


@router.post(
    f"/cds-services/{SERVICE_ID}",
    responses={
        200: {"description": 'CDS Hooks cards: ``{"cards": [...]}``'},
        412: {
            "description": "Prefetch keys missing (named in ``missing``)",
            "content": {"application/problem+json": {"schema": {"type": "object"}}},
        },
    },
)
def cds_mild_candidacy(
    request: Request, body: CdsHooksRequest, actor: CdsClient, session: SessionDep, settings: SettingsDep
) -> Response:
    """``patient-view``: cards from the prefetched chart (or from the EHR's FHIR server when allowed)."""
    try:
        answer = svc.patient_view(
            session, actor, body.model_dump(), today=clock.today(), content_dir=settings.content_dir,
            fhir_origins=settings.cds_fhir_origin_list,
        )
    except MissingPrefetch as exc:
        return problem(412, "Precondition Failed", exc.message, request, missing=exc.keys)
    return JSONResponse(answer)


@router.post(f"/cds-services/{SERVICE_ID}/feedback", responses={200: {"description": "Feedback stored"}})
def cds_feedback(body: FeedbackRequest, actor: CdsClient, session: SessionDep) -> JSONResponse:
    """Feedback on cards (accepted or overridden, with the reason), stored per card and criterion."""
    items = [
        svc.FeedbackItem(
            card=f.card,
            outcome=f.outcome,
            outcome_timestamp=f.outcomeTimestamp,
            accepted_suggestions=tuple(s.model_dump() for s in f.acceptedSuggestions),
            override_reason=f.overrideReason.model_dump(exclude_none=True) if f.overrideReason else None,
        )
        for f in body.feedback
    ]
    stored = svc.record_feedback(session, actor, SERVICE_ID, items)
    return JSONResponse({"cards": stored.cards, "stored": stored.rows})
