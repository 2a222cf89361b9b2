"""What the procedure-day records share: a strict frozen pydantic base and clear parsing errors.

Records are pydantic models so that a store can keep them as JSON (``model_dump(mode="json")``) and read them back
(:func:`parse`) without a mapping layer. Pydantic checks only the *shape* (types, unknown keys); the clinical rules
live in the ``validate_*`` functions, which explain themselves in plain words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ConfigDict, ValidationError

from mildpath.domain.errors import InvalidRecord
from mildpath.domain.inputs import EdgeInput
from mildpath.domain.procedure.policy import Sources

M = TypeVar("M", bound="RecordModel")


class RecordModel(EdgeInput):
    """Frozen, and unknown keys are refused (a typo such as ``"level"`` for ``"levels"`` must not vanish)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class Problem:
    """One finding about a record: ``field`` is a dotted path (``levels.1.side``), ``sources`` bibliography ids."""

    field: str
    message: str
    sources: Sources = ()

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message, "sources": list(self.sources)}


def raise_if_any(problems: list[Problem], what: str) -> None:
    """Raise one :class:`InvalidRecord` that lists every problem (``data["errors"]``), or return quietly.

    The message names the first problem and how many more there are, so it fits one stderr line."""
    if not problems:
        return
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    raise InvalidRecord(
        f"invalid {what}: {first.field}: {first.message}{more}",
        field=first.field,
        errors=[p.as_dict() for p in problems],
    )


def parse(model: type[M], data: Mapping[str, Any] | Any, what: str) -> M:
    """Build ``model`` from JSON-like ``data``; shape errors become one :class:`InvalidRecord` listing them all."""
    if not isinstance(data, Mapping):
        raise InvalidRecord(f"invalid {what}: expected a JSON object, got {type(data).__name__}", field=what)
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        problems = [
            Problem(".".join(str(part) for part in err["loc"]) or what, _plain(err["msg"], err["type"]))
            for err in exc.errors()
        ]
        raise_if_any(problems, what)
        raise  # unreachable: a ValidationError always lists at least one error


def _plain(message: str, kind: str) -> str:
    """Pydantic's message, reworded where it would puzzle a clinician."""
    if kind == "extra_forbidden":
        return "unknown field"
    if kind in {"tuple_type", "list_type"}:
        return "should be a list"
    if kind == "timezone_aware":
        return "needs a time zone offset, for example 2025-03-10T08:30:00+01:00"
    return message
