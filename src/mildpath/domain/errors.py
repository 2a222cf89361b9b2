"""The one exception tree of mildpath.

Our exception hierarchy::

    MildpathError                    base of everything mildpath raises on purpose
    ├── InvalidInput                 bad input from a person or a file; carries the field and the value
    │   ├── InvalidAnswer            a questionnaire answer out of range or of the wrong kind (item_id, value)
    │   ├── InvalidRecord            a clinical record that breaks a rule (field, message)
    │   └── FhirInputError           unreadable FHIR input (path, line)
    ├── NotFound                     no such record, or not yours to see (answers 404, never 403)
    ├── PermissionDenied             authenticated but the role may not do this
    ├── Conflict                     the change clashes with the record's current state
    └── RuleViolation                a clinical safety rule stops the action (for example an open checklist item)

``web/problems.py`` is the only place that maps these to HTTP status codes; the CLI maps
``InvalidInput`` to exit code 2.
"""

from __future__ import annotations

from typing import Any


class MildpathError(Exception):
    """Base of every error mildpath raises on purpose."""

    def __init__(self, message: str, **data: Any) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


class InvalidInput(MildpathError):
    """Input that cannot be accepted; ``field`` names what is wrong."""

    def __init__(self, message: str, *, field: str | None = None, value: Any = None, **data: Any) -> None:
        super().__init__(message, field=field, value=value, **data)
        self.field = field
        self.value = value


class InvalidAnswer(InvalidInput):
    """A questionnaire answer that is out of range, missing where required, or not a number."""

    def __init__(self, item_id: str, value: Any, message: str) -> None:
        super().__init__(message, field=item_id, value=value)
        self.item_id = item_id


class InvalidRecord(InvalidInput):
    """A clinical record that breaks a validation rule."""


class FhirInputError(InvalidInput):
    """FHIR input that cannot be read; ``path`` and ``line`` locate it."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        where = path or "input"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}", field=where)
        self.path = path
        self.line = line


class NotFound(MildpathError):
    """No such record, or the caller may not see it."""


class PermissionDenied(MildpathError):
    """The caller is known but their role may not do this."""


class Conflict(MildpathError):
    """The change clashes with the current state of the record."""


class RuleViolation(MildpathError):
    """A clinical safety rule stops this action until resolved or overridden with a reason."""
