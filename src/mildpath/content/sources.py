"""The bibliography: ``content/sources/*.yaml`` loaded once into :class:`~mildpath.domain.sources.Source`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, RootModel, field_validator

from mildpath.domain.sources import Source

CONTENT_DIR = Path(__file__).resolve().parent


class ContentError(ValueError):
    """A content file is malformed or cites a source that does not exist."""


class SourceEntry(BaseModel):
    """One entry of ``content/sources/*.yaml`` (its id is the key)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    title: str
    document: str
    section: str = ""
    verified: bool = True

    @field_validator("section", mode="before")
    @classmethod
    def _section_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


@lru_cache(maxsize=1)
def bibliography() -> dict[str, Source]:
    """Every source id in ``content/sources/*.yaml``; duplicate ids are an error."""
    from mildpath.content.loader import read_yaml, validate

    out: dict[str, Source] = {}
    for path in sorted((CONTENT_DIR / "sources").glob("*.yaml")):
        name = f"sources/{path.name}"
        entries = validate(read_yaml(path), _Bibliography, name).root
        for sid, entry in entries.items():
            if sid in out:
                raise ContentError(f"{name}: source id {sid!r} is defined twice")
            out[sid] = Source(id=sid, **entry.model_dump())
    return out


class _Bibliography(RootModel[dict[str, SourceEntry]]):
    model_config = ConfigDict(frozen=True)


def source(source_id: str) -> Source:
    """The source with this id; a missing id is a content error, raised loudly."""
    try:
        return bibliography()[source_id]
    except KeyError:
        raise ContentError(f"unknown source id {source_id!r}: add it to content/sources/") from None


def check_cited(source_ids: list[str] | tuple[str, ...], where: str) -> None:
    """Fail loudly unless every id exists and at least one is given."""
    if not source_ids:
        raise ContentError(f"{where}: cites no source")
    for sid in source_ids:
        if sid not in bibliography():
            raise ContentError(f"{where}: unknown source id {sid!r}")
