"""The clinical core of mildpath: pure, typed, explained and cited.

Nothing here performs I/O or reads the clock: callers pass ``today``/``now``.
"""

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
from mildpath.domain.sources import Source

__all__ = [
    "Conflict",
    "FhirInputError",
    "InvalidAnswer",
    "InvalidInput",
    "InvalidRecord",
    "MildpathError",
    "NotFound",
    "PermissionDenied",
    "RuleViolation",
    "Source",
]
