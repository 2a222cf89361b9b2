"""The rules every input model shares, declared once (issue 21: strict types, bounded numbers, storable text).

:class:`EdgeInput` is the base of every model that takes input from outside (API bodies, forms, files). Before
pydantic converts anything, it checks the raw values against each field's declared type:

- **No coercion** across JSON kinds: a date or time must be an ISO string (never a number: ``0`` is not
  1970-01-01), a boolean a JSON boolean (never ``"yes"`` or ``1``), an integer a JSON integer (never a string,
  a boolean or ``1.0``), a number a JSON number. Python values of the right type (``date``, ``int``) pass, so
  services and forms that convert first keep working.
- **Bounded numbers**: every integer fits a 32-bit signed column on every database (SQLite and PostgreSQL
  ``INTEGER``), every number is finite and within ``±1e12``; a field's own ``ge``/``le`` (its clinical
  range) narrows that further.
- **Storable, honest text**: no NUL, no unpaired surrogates (not UTF-8), no C0/C1 control characters other than
  tab and newline, and no bidirectional *overrides or embeddings* (U+202A-U+202E), which can make a name or a
  note display as something else. Isolates (U+2066-U+2069) are kept: they are how bidi text is written safely.

Free-form JSON (``dict[str, Any]`` fields: answers, FHIR resources) is walked too, for text and numbers, and
for size beyond bytes: at most ``MAX_DEPTH`` levels of nesting, ``MAX_ITEMS`` items in an array (a Bundle's
entries) and ``MAX_TEXT`` characters in a string. A value
breaking a rule raises :class:`~mildpath.domain.errors.InvalidInput` naming the field (a 422, exit code 2).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import types
import typing
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel, BeforeValidator, model_validator

from mildpath.domain.errors import InvalidInput

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
NUMBER_LIMIT = 1e12
MAX_DEPTH = 32  # nesting of free-form JSON (a FHIR resource needs far fewer)
MAX_ITEMS = 20_000  # items of one free-form array (a Bundle's entries: one patient's chart)
MAX_TEXT = 100_000  # characters of one free-form string
#: Not allowed in any text: NUL and other controls (tab, LF, CR are), unpaired surrogates, bidi overrides.
BAD_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e]")


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Text pydantic would read as a Unix timestamp for a date: refused (other text goes on to pydantic's parser).
NUMBER_TEXT = re.compile(r"\s*[+-]?\d+(\.\d*)?\s*")


def _iso_date_only(value: Any) -> Any:
    """A date written as text must be ``YYYY-MM-DD`` (no ``0`` read as 1970-01-01, no timestamps)."""
    if isinstance(value, str) and not ISO_DATE.fullmatch(value):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


#: A date in a query string: parsed from ``YYYY-MM-DD`` only (query values are text, so the kind check of
#: :class:`EdgeInput` cannot tell ``0`` from a date there).
IsoDate = typing.Annotated[dt.date, BeforeValidator(_iso_date_only)]


def check_text(value: str, field: str) -> None:
    match = BAD_TEXT.search(value)
    if match is None:
        return
    char = match.group()
    if "\u202a" <= char <= "\u202e":
        why = "contains a bidirectional override character"
    elif "\ud800" <= char <= "\udfff":
        why = "is not valid Unicode text (an unpaired surrogate)"
    else:
        why = "contains a control character"
    raise InvalidInput(f"{field}: {why}", field=field)


def check_number(value: int | float, field: str) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise InvalidInput(f"{field}: out of range ({INT_MIN} to {INT_MAX})", field=field)
    elif not math.isfinite(value) or abs(value) > NUMBER_LIMIT:
        raise InvalidInput(f"{field}: out of range (at most {NUMBER_LIMIT:g} in size)", field=field)


def check_free(value: Any, field: str, depth: int = 0) -> None:
    """Free-form JSON: text and numbers anywhere inside, and a bounded nesting depth."""
    if depth > MAX_DEPTH:
        raise InvalidInput(f"{field}: nested more than {MAX_DEPTH} levels deep", field=field)
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise InvalidInput(f"{field}: longer than {MAX_TEXT} characters", field=field)
        check_text(value, field)
    elif isinstance(value, (int, float)):
        check_number(value, field)
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str):
                check_text(k, field)
            check_free(v, f"{field}.{k}", depth + 1)
    elif isinstance(value, (list, tuple)):
        if len(value) > MAX_ITEMS:
            raise InvalidInput(f"{field}: more than {MAX_ITEMS} items", field=field)
        for i, v in enumerate(value):
            check_free(v, f"{field}.{i}", depth + 1)


def _arms(annotation: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _arms(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return tuple(a for arg in typing.get_args(annotation) for a in _arms(arg))
    return (annotation,)


def _kind_ok(annotation: Any, value: Any) -> bool:
    """Whether ``value``'s JSON kind fits ``annotation`` without coercion (unknown annotations: yes)."""
    if annotation is Any or annotation is object:
        return True
    if annotation is type(None):
        return value is None
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return True  # pydantic compares literals exactly
    is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
    if origin in (list, tuple, set, frozenset, dict) or is_model:
        return True  # containers and models are checked by their own validators
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation in (float, Decimal):
        return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
    if annotation in (dt.date, dt.datetime):  # a number written as text is no date ("0" is not 1970-01-01)
        return isinstance(value, annotation) or (isinstance(value, str) and NUMBER_TEXT.fullmatch(value) is None)
    if annotation is dt.time:
        return isinstance(value, (str, annotation))
    if annotation is str:
        return isinstance(value, str)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return not isinstance(value, bool)
    return True


def _check_field(name: str, annotation: Any, value: Any) -> None:
    arms = _arms(annotation)
    if value is not None and not any(_kind_ok(arm, value) for arm in arms):
        kinds = ", ".join(sorted({getattr(a, "__name__", str(a)) for a in arms if a is not type(None)}))
        raise InvalidInput(f"{name}: expected {kinds}, got a JSON {_json_kind(value)}", field=name)
    check_free(value, name)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


class EdgeInput(BaseModel):
    """Base of every input model: no coercion across kinds, bounded numbers, storable text (module docstring)."""

    @model_validator(mode="before")
    @classmethod
    def _edge_rules(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                key = field.alias or name
                if key in data:
                    _check_field(key, field.annotation, data[key])
        return data
