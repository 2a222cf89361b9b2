"""The clinical core of mildpath: pure, typed, explained and cited.

Nothing here performs I/O or reads the clock: callers pass ``today``/``now``. This module lists the public
API of the core; everything else under ``mildpath.domain`` is detail that may change.

- Screening: :func:`screen` a :class:`PatientFacts` against a :class:`CriteriaSet` → :class:`ScreeningResult`.
- Questionnaires: :func:`score_odi`, :func:`score_zcq`, :func:`score_nprs`, :func:`score_walking`, :func:`score`,
  :func:`responders`; the follow-up :func:`schedule`.
- Recovery: :class:`DiaryEntry`, :func:`classify` (triage), :func:`plan_recovery`.
- Procedure day: :mod:`mildpath.domain.procedure` (checklist, record, discharge, adverse events).
"""

from mildpath.domain.criteria import CriteriaSet, Criterion
from mildpath.domain.diary import DiaryEntry
from mildpath.domain.errors import (
    Conflict,
    FhirInputError,
    InvalidAnswer,
    InvalidInput,
    InvalidRecord,
    MildpathError,
    NotFound,
    PermissionDenied,
    RuleViolation,
)
from mildpath.domain.facts import PatientFacts
from mildpath.domain.instruments import (
    Score,
    responders,
    score,
    score_nprs,
    score_odi,
    score_walking,
    score_zcq,
)
from mildpath.domain.recovery import PlanOptions, RecoveryPlan, plan_recovery
from mildpath.domain.schedule import schedule
from mildpath.domain.screening import ScreeningResult, Status, screen
from mildpath.domain.sources import Source
from mildpath.domain.triage import TriageLevel, TriageResult, TriageRules, classify

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
