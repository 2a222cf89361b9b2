"""The clinical core of mildpath: pure, typed, explained and cited.

Nothing here performs I/O or reads the clock: callers pass ``today``/``now``. This module lists the public
API of the core; everything else under ``mildpath.domain`` is detail that may change.

- Screening: :func:`screen` a :class:`PatientFacts` against a :class:`CriteriaSet` → :class:`ScreeningResult`.
- Questionnaires: :func:`score_odi`, :func:`score_zcq`, :func:`score_nprs`, :func:`score_walking`, :func:`score`,
  :func:`responders`; the follow-up :func:`schedule`.
- Recovery: :class:`DiaryEntry`, :func:`classify` (triage), :func:`plan_recovery`.
- Procedure day: :mod:`mildpath.domain.procedure` (checklist, record, discharge, adverse events).
"""

from __future__ import annotations

import importlib
from typing import Any

# Eager: its name is also its module's, and the function must win over the submodule (stdlib only, cheap).
from mildpath.domain.schedule import schedule

# Public name -> the module that defines it. Imported on first use (PEP 562), so that importing one part of the
# core (``mildpath.domain.errors`` for a command-line error) does not load all of it (issue 17: CLI start-up).
_WHERE: dict[str, str] = {
    "CriteriaSet": "mildpath.domain.criteria",
    "Criterion": "mildpath.domain.criteria",
    "DiaryEntry": "mildpath.domain.diary",
    "Conflict": "mildpath.domain.errors",
    "FhirInputError": "mildpath.domain.errors",
    "InvalidAnswer": "mildpath.domain.errors",
    "InvalidInput": "mildpath.domain.errors",
    "InvalidRecord": "mildpath.domain.errors",
    "MildpathError": "mildpath.domain.errors",
    "NotFound": "mildpath.domain.errors",
    "PermissionDenied": "mildpath.domain.errors",
    "RuleViolation": "mildpath.domain.errors",
    "PatientFacts": "mildpath.domain.facts",
    "Score": "mildpath.domain.instruments",
    "responders": "mildpath.domain.instruments",
    "score": "mildpath.domain.instruments",
    "score_nprs": "mildpath.domain.instruments",
    "score_odi": "mildpath.domain.instruments",
    "score_walking": "mildpath.domain.instruments",
    "score_zcq": "mildpath.domain.instruments",
    "PlanOptions": "mildpath.domain.recovery",
    "RecoveryPlan": "mildpath.domain.recovery",
    "plan_recovery": "mildpath.domain.recovery",
    "ScreeningResult": "mildpath.domain.screening",
    "Status": "mildpath.domain.screening",
    "screen": "mildpath.domain.screening",
    "Source": "mildpath.domain.sources",
    "TriageLevel": "mildpath.domain.triage",
    "TriageResult": "mildpath.domain.triage",
    "TriageRules": "mildpath.domain.triage",
    "classify": "mildpath.domain.triage",
}

__all__ = [
    "Conflict",
    "CriteriaSet",
    "Criterion",
    "DiaryEntry",
    "FhirInputError",
    "InvalidAnswer",
    "InvalidInput",
    "InvalidRecord",
    "MildpathError",
    "NotFound",
    "PatientFacts",
    "PermissionDenied",
    "PlanOptions",
    "RecoveryPlan",
    "RuleViolation",
    "Score",
    "ScreeningResult",
    "Source",
    "Status",
    "TriageLevel",
    "TriageResult",
    "TriageRules",
    "classify",
    "plan_recovery",
    "responders",
    "schedule",
    "score",
    "score_nprs",
    "score_odi",
    "score_walking",
    "score_zcq",
    "screen",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
