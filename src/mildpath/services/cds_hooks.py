"""CDS Hooks 2.0 services (issue 3, secured in issue 19): the ``patient-view`` answer, fetching missing prefetch
from the EHR's FHIR server, and card feedback. Callers are registered clients that signed a JWT (role
``backend``, services/smart.py) or, where the site turned ``MILDPATH_CDS_API_TOKENS`` on, clinicians and admins.

Prefetch (https://cds-hooks.hl7.org/2.0/#prefetch-template): when keys are missing and the request carries
``fhirServer`` and ``fhirAuthorization``, the service fetches them from that server with the given access token,
but only when the server's origin is on ``MILDPATH_CDS_FHIR_ALLOWED_ORIGINS`` (no request to any other host),
with a timeout and a size limit; the first page of each search is read. Otherwise, or when a fetch fails, the
answer is 412 as the spec says (:class:`~mildpath.fhir.cds_hooks.MissingPrefetch`).

Cards are remembered by their ``uuid`` (service, status, criteria set, the criteria the card rests on) so that
feedback (https://cds-hooks.hl7.org/2.0/#feedback) is stored per card and criterion. An accepted card calls
:func:`on_card_accepted`: the one place a referral will be created from it (the referrals work, issue 18).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from mildpath.domain.errors import InvalidInput, PermissionDenied
from mildpath.fhir.cds_hooks import (
    SERVICE_ID,
    MissingPrefetch,
    criteria_of,
    patient_view_result,
    prefetch_queries,
)
from mildpath.services import clock, referrals
from mildpath.services.access import Actor, record
from mildpath.services.screening import criteria_set_for
from mildpath.services.smart import FetchFailed, fetch_json
from mildpath.store import smart as store

CALLERS = ("backend", "clinician", "admin", "system")
PREFETCH_LIMIT = 4 * 1024 * 1024  # bytes per fetched prefetch answer


def _require_caller(actor: Actor) -> None:
    if actor.role not in CALLERS:
        raise PermissionDenied("CDS Hooks services are for registered clients and staff")


def origin(url: str) -> str:
    """``scheme://host[:port]``, lower-cased (how an allow-list entry is compared)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _fetch_missing(request: Mapping[str, Any], keys: list[str], allowed: Sequence[str]) -> dict[str, Any] | None:
    """The missing prefetch fetched from the request's ``fhirServer``, or ``None`` when it may not or cannot be."""
    server = request.get("fhirServer")
    auth = request.get("fhirAuthorization")
    if not isinstance(server, str) or not isinstance(auth, Mapping) or not isinstance(auth.get("access_token"), str):
        return None
    if origin(server) not in {o.lower() for o in allowed}:
        return None
    headers = {"Authorization": f"Bearer {auth['access_token']}", "Accept": "application/fhir+json"}
    fetched: dict[str, Any] = {}
    for key, query in prefetch_queries(request, keys).items():
        try:
            fetched[key] = fetch_json(f"{server.rstrip('/')}/{query}", headers=headers, limit=PREFETCH_LIMIT)
        except FetchFailed:
            return None
    return fetched


def patient_view(
    session: Session,
    actor: Actor,
    request: Mapping[str, Any],
    *,
    today: date,
    content_dir: str = "",
    fhir_origins: Sequence[str] = (),
) -> dict[str, Any]:
    """Answer a ``patient-view`` call (nothing of the patient is stored; the call is audited, the cards remembered).

    Raises :class:`MissingPrefetch` when prefetch keys are missing and could not be fetched (the web layer
    answers 412) and :class:`InvalidInput` for a malformed request. The EHR's patient id is not ours, so the
    audit row names no patient; it names the hook instance.
    """
    _require_caller(actor)
    rules = criteria_set_for(content_dir)
    try:
        answer, result = patient_view_result(request, rules, today)
    except MissingPrefetch as exc:
        fetched = _fetch_missing(request, exc.keys, fhir_origins)
        if fetched is None:
            raise
        prefetch = {**dict(request.get("prefetch") or {}), **fetched}
        answer, result = patient_view_result({**request, "prefetch": prefetch}, rules, today)
    criteria = criteria_of(result)
    for card in answer["cards"]:
        if store.card(session, uuid=card["uuid"]) is None:
            store.add(session, store.CdsCard(uuid=card["uuid"], service_id=SERVICE_ID, status=result.status.value,
                                             criteria_set=result.criteria_set, criteria=criteria,
                                             patient_ref=_patient_ref(request), clinic_id=actor.clinic_id))
    record(
        session,
        actor,
        "screening.cds_hooks",
        "CdsHooksRequest",
        str(request.get("hookInstance") or "")[:64],
        None,
        {"hook": str(request.get("hook"))},
    )
    return answer


@dataclass(frozen=True)
class FeedbackItem:
    """One ``feedback`` entry of a CDS Hooks 2.0 feedback call (validated by the web layer's model)."""

    card: str
    outcome: str  # accepted | overridden
    outcome_timestamp: datetime
    accepted_suggestions: tuple[dict[str, Any], ...] = ()
    override_reason: dict[str, Any] | None = None


@dataclass(frozen=True)
class FeedbackStored:
    cards: int
    rows: int


def record_feedback(session: Session, actor: Actor, service_id: str, items: Sequence[FeedbackItem]) -> FeedbackStored:
    """Store the feedback, one row per card and criterion; an unknown card is :class:`InvalidInput` naming it."""
    _require_caller(actor)
    rows = 0
    for index, item in enumerate(items):
        card = store.card(session, uuid=item.card)
        if card is None or card.service_id != service_id:
            raise InvalidInput(f"no card {item.card} of the {service_id} service", field=f"feedback[{index}].card")
        for criterion in card.criteria or [""]:
            store.add(
                session,
                store.CdsFeedback(
                    card_pk=card.id,
                    criterion=criterion,
                    outcome=item.outcome,
                    accepted_suggestions=list(item.accepted_suggestions),
                    override_reason=item.override_reason,
                    outcome_timestamp=item.outcome_timestamp,
                    actor_user_id=actor.user_id,
                    client_pk=_client_pk(session, actor),
                ),
            )
            rows += 1
        if item.outcome == "accepted":
            on_card_accepted(session, actor, card, item)
        record(session, actor, "cds_hooks.feedback", "CdsCard", card.uuid, None,
               {"outcome": item.outcome, "status": card.status})
    return FeedbackStored(len(items), rows)


def _patient_ref(request: Mapping[str, Any]) -> str:
    """``Patient/<id>`` of the hook's context (the EHR's id; not a mildpath patient), or empty."""
    pid = str((request.get("context") or {}).get("patientId") or "").strip()
    return f"Patient/{pid}"[:128] if pid else ""


def on_card_accepted(session: Session, actor: Actor, card: store.CdsCard, feedback: FeedbackItem) -> None:
    """An EHR user accepted a card: the referral it suggests is opened (or the card becomes one more source of the
    person's open referral) in the clinic that asked, for the EHR's patient named by the hook's context. A card
    about nobody, or asked by a caller bound to no clinic, has no worklist to land on: only its feedback is kept."""
    if not card.patient_ref or card.clinic_id is None:
        return
    referrals.add_source(
        session, Actor.system("cds-hooks"), kind="cds_card", key=f"cds-card:{card.uuid}",
        dated=feedback.outcome_timestamp.date(), now=clock.now(), clinic_id=card.clinic_id,
        subject_ref=card.patient_ref, result=card.status, criteria_set=card.criteria_set,
        referrer_name=f"CDS Hooks card accepted ({actor.email or 'EHR'})",
    )


def _client_pk(session: Session, actor: Actor) -> int | None:
    if actor.role != "backend":
        return None
    row = store.client(session, client_id=actor.email)
    return row.id if row is not None else None
