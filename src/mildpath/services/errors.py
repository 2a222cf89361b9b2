"""Service errors are the domain's error tree (see :mod:`mildpath.domain.errors`); re-exported for callers."""

from mildpath.domain.errors import (
    Conflict,
    InvalidInput,
    MildpathError,
    NotFound,
    PermissionDenied,
    RuleViolation,
)

__all__ = ["Conflict", "InvalidInput", "MildpathError", "NotFound", "PermissionDenied", "RuleViolation"]
