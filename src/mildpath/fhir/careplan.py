"""A recovery plan as a FHIR R4 ``CarePlan`` (plain dict; tests validate it with ``fhir.resources.R4B``).

Only elements that R4 and R4B share are written (contracts §5): ``status``, ``intent``, ``subject``, ``title``,
``description``, ``period``, ``created``, ``supportingInfo``, ``note`` and ``activity.detail`` with ``kind``,
``code``, ``status``, ``description`` and ``scheduledPeriod``. ``activity.detail`` is R4/R4B only (R5 removed
it), which is why the R5 default models of ``fhir.resources`` must not be used to validate this.

Each milestone is one activity. Follow-up visits are ``kind: Appointment`` and physical therapy
``kind: ServiceRequest`` (the R4 CarePlanActivityKind codes); expectations and restrictions have no kind,
which R4 allows. ``scheduledPeriod`` dates are inclusive calendar dates: a date-only ``end`` covers that whole day.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from mildpath.domain.errors import InvalidInput
from mildpath.domain.recovery import DatedMilestone, MilestoneKind, RecoveryPlan
from mildpath.fhir.meta import stamp

# A local code system for the milestone ids of content/milestones.yaml (no standard code exists for them).
MILESTONE_SYSTEM = "urn:mildpath:recovery-milestone"
CAREPLAN_TITLE = "Recovery plan after the mild procedure"
STATUSES = ("draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown")

_KIND = {MilestoneKind.FOLLOW_UP: "Appointment", MilestoneKind.THERAPY: "ServiceRequest"}
_DETAIL_STATUS = {MilestoneKind.FOLLOW_UP: "scheduled", MilestoneKind.THERAPY: "scheduled"}


def to_careplan(
    plan: RecoveryPlan,
    *,
    patient_ref: str,
    careplan_id: str | None = None,
    procedure_ref: str | None = None,
    created: date | None = None,
    status: str = "active",
    last_updated: datetime | None = None,
) -> dict[str, Any]:
    """The plan as an R4 ``CarePlan`` resource dict.

    ``patient_ref`` is the subject (``"Patient/123"`` or ``"urn:uuid:..."``); ``procedure_ref``, when given, is
    the mild ``Procedure`` the plan follows (``supportingInfo``); ``created`` is the day the plan was made.
    """
    if not patient_ref or not isinstance(patient_ref, str):
        raise InvalidInput("patient_ref: a CarePlan needs a subject reference", field="patient_ref")
    if status not in STATUSES:
        raise InvalidInput(f"status: {status!r} is not a CarePlan status", field="status", value=status)
    resource: dict[str, Any] = {"resourceType": "CarePlan"}
    if careplan_id:
        resource["id"] = careplan_id
    resource.update(
        {
            "status": status,
            "intent": "plan",
            "title": CAREPLAN_TITLE,
            "description": (
                "Dated milestones after the mild procedure on "
                f"{plan.procedure_date.isoformat()}: what to expect, what to do and avoid, and the follow-up "
                "visits and questionnaires."
            ),
            "subject": {"reference": patient_ref},
            "period": {"start": plan.procedure_date.isoformat(), "end": plan.end_date.isoformat()},
        }
    )
    if created is not None:
        resource["created"] = created.isoformat()
    if procedure_ref:
        resource["supportingInfo"] = [{"reference": procedure_ref}]
    resource["activity"] = [{"detail": _detail(m)} for m in plan.milestones]
    if plan.catalog_version:
        resource["note"] = [{"text": f"Milestones from mildpath recovery content version {plan.catalog_version}."}]
    return stamp(resource, last_updated)


def _detail(milestone: DatedMilestone) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    if milestone.kind in _KIND:
        detail["kind"] = _KIND[milestone.kind]
    detail["code"] = {
        "coding": [{"system": MILESTONE_SYSTEM, "code": milestone.id, "display": milestone.title}],
        "text": milestone.title,
    }
    detail["status"] = _DETAIL_STATUS.get(milestone.kind, "not-started")
    period = {"start": milestone.start.isoformat(), "end": milestone.last_day.isoformat()}
    detail["scheduledPeriod"] = period
    if milestone.text:
        detail["description"] = milestone.text
    return detail
