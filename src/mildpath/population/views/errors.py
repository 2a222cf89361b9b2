"""Errors of the view runner, all bad input (the CLI answers exit 2 with one line on stderr).

Our exception hierarchy (under :class:`mildpath.domain.errors.InvalidInput`)::

    ViewError                 anything wrong with a view or what it runs on
    ├── InvalidView           the ViewDefinition is refused before any data is read (field names the place)
    ├── ViewDataError         the view is valid but the spec says it must fail on this data, e.g. a path
    │                         returning several values in a column that is not ``collection: true``
    └── SourceError           the input cannot be read (missing file, no NDJSON in a folder, bad gzip)
"""

from __future__ import annotations

from mildpath.domain.errors import InvalidInput


class ViewError(InvalidInput):
    """Base of the view runner's errors."""


class InvalidView(ViewError):
    """The ViewDefinition breaks the SQL on FHIR v2 model or uses FHIRPath this runner does not support."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        where = f"{field}: " if field else ""
        super().__init__(f"invalid view: {where}{message}", field=field)


class ViewDataError(ViewError):
    """Evaluating the view on this data is an error by the specification."""


class SourceError(ViewError):
    """The source cannot be read."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message, field=path)
        self.path = path
