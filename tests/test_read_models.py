"""What crosses the service boundary: every public function of ``mildpath.services`` returns typed values (read
models, frozen dataclasses, domain values), never an ORM row, ``Any`` or ``dict[str, Any]``.

The exceptions are named below, each with its reason; an exception that no longer applies fails too, so the
list only shrinks.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing

from sqlalchemy.orm import DeclarativeBase

import mildpath.services

#: whole modules another change is reshaping (their typed report / records land there)
MODULES_NOT_YET: dict[str, str] = {}

FHIR = "a FHIR R4 (or CDS Hooks, SMART) JSON document: its shape is the specification's, checked by fhir.resources"
STORED_JSON = "the JSON stored in a record's column (and read back by the registry), not a view"

#: single functions that return a document or a row on purpose (or not yet typed), and why
FUNCTIONS_ALLOWED = {
    "caregivers.fhir_resources_for_patient": FHIR,
    "caregivers.related_person": FHIR,
    "cds_hooks.patient_view": FHIR,
    "ced_export.ced_tables": "the CED registry's tables, rows as the registry's data dictionary names them",
    "ced_export.ced_fhir": FHIR,
    "enrolments.fhir_resources_for_patient": FHIR,
    "fhir_server.groups": FHIR,
    "fhir_server.practitioners": FHIR,
    "patient_rights.fhir_resources_for_patient": FHIR,
    "patient_rights.fhir_providers": FHIR,
    "patient_rights.export_patient": FHIR,
    "proms.score_json": STORED_JSON,
    "proms.export_fhir_response": FHIR,
    "proms.export_observations": FHIR,
    "proms.bulk_fhir": FHIR,
    "recovery.export_careplan": FHIR,
    "referral_import.read_screen": "rows of a site's population screen file, as written (CSV/Parquet columns)",
    "referral_import.export_patients": FHIR,
    "referral_import.export_charts": FHIR,
    "scheduling.fhir_resources_for_patient": FHIR,
    "screening.result_json": STORED_JSON,
    "screening.screening_fhir": FHIR,
    "screening.fhir_resources_for_patient": FHIR,
    "smart.fetch_json": "a JSON document fetched from an EHR (its JWKS), validated by the caller",
    "access.get_patient_for": "the access-checked patient row services build their views from (not for web/cli)",
    "notify.queue": "the queued outbox row, for the caller to flush with its unit of work",
    "outcomes_export.bulk_fhir_resources": FHIR,
    "procedure_exports.procedure_fhir": FHIR,
    "procedure_exports.adverse_events_fhir": FHIR,
    "procedure_exports.adverse_event_fhir": FHIR,
    "procedure_exports.iter_fhir_resources": FHIR,
    "procedures.procedure_for": "the access-checked procedure and patient rows procedures and procedure_exports "
    "write to and build their views from (not for web/cli)",
    "procedures.procedure_by_id_for": "the access-checked procedure and patient rows procedures and "
    "procedure_exports write to and build their views from (not for web/cli)",
}


def _public_functions() -> dict[str, typing.Callable[..., object]]:
    out = {}
    for info in sorted(pkgutil.iter_modules(mildpath.services.__path__), key=lambda m: m.name):
        if info.name in MODULES_NOT_YET:
            continue
        module = importlib.import_module(f"mildpath.services.{info.name}")
        for name, func in vars(module).items():
            if not name.startswith("_") and inspect.isfunction(func) and func.__module__ == module.__name__:
                out[f"{info.name}.{name}"] = func
    return out


def _untyped_parts(annotation: object) -> list[str]:
    """The parts of a return annotation that are not typed: ``Any`` (so ``dict[str, Any]``) and ORM classes."""
    found = []
    stack = [annotation]
    while stack:
        part = stack.pop()
        if part is typing.Any:
            found.append("Any")
        elif inspect.isclass(part) and issubclass(part, DeclarativeBase):
            found.append(part.__name__)
        stack.extend(typing.get_args(part))
    return found


def _offenders() -> dict[str, list[str]]:
    out = {}
    for name, func in _public_functions().items():
        hints = typing.get_type_hints(func)
        assert "return" in hints, f"{name} has no return annotation"
        if parts := _untyped_parts(hints["return"]):
            out[name] = parts
    return out


def test_no_service_returns_an_orm_row_or_an_untyped_dict_outside_the_named_exceptions():
    unexpected = {name: parts for name, parts in _offenders().items() if name not in FUNCTIONS_ALLOWED}
    assert unexpected == {}, "return a read model (services/read_models.py ReadModel) instead: " + repr(unexpected)


def test_every_named_exception_still_applies():
    offenders = _offenders()
    stale = sorted(name for name in FUNCTIONS_ALLOWED if name not in offenders)
    assert stale == [], f"typed now (or gone): remove from FUNCTIONS_ALLOWED: {stale}"


def test_a_token_view_cannot_be_changed():
    from pydantic import ValidationError

    from mildpath.services.auth import TokenView

    token = TokenView(id=1, name="cli", created_at="2026-12-07T10:00:00", last_used_at=None)
    try:
        token.name = "other"  # type: ignore[misc]
    except ValidationError:
        pass
    else:
        raise AssertionError("a read model must be frozen")


def test_the_check_sees_an_orm_row_and_a_dict_of_any():
    from mildpath.store.models import Patient

    assert _untyped_parts(dict[str, typing.Any]) == ["Any"]
    assert _untyped_parts(list[Patient] | None) == ["Patient"]
    assert _untyped_parts(tuple[int, str]) == []


def test_an_account_is_handed_out_without_its_password_hash():
    from mildpath.services.auth import UserView

    assert "password_hash" not in UserView.model_fields
    assert UserView.model_config.get("frozen") is True
