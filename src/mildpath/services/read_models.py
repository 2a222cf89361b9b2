"""The base of every read model a service returns: frozen and typed, so the API can use it as its
``response_model`` and pages render the same object. No ORM row and no untyped dict crosses the boundary."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ReadModel(BaseModel):
    """A frozen, typed view of a record; built from attributes (a row or a dataclass) with ``model_validate``."""

    model_config = ConfigDict(frozen=True, from_attributes=True)
