"""Load the questionnaire follow-up plan from ``content/schedule.yaml`` (or a site's copy of it).

The timepoints and instruments come from clinical reference §5 (source ``follow-up-schedule``); the windows are
mildpath's assumption, stated in the file, because the reference gives none. A malformed file fails loudly with
:class:`~mildpath.content.sources.ContentError` naming the file and the timepoint.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, NonNegativeInt, field_validator, model_validator

from mildpath.content.loader import ContentModel, SourceId, Text, load_content, unique_ids
from mildpath.content.sources import CONTENT_DIR
from mildpath.domain.instruments import INSTRUMENTS
from mildpath.domain.schedule import SchedulePlan, Timepoint

SCHEDULE_FILE = CONTENT_DIR / "schedule.yaml"
UNITS = ("days", "weeks", "months")


class WindowModel(ContentModel):
    before_days: NonNegativeInt
    after_days: NonNegativeInt


class TimepointModel(ContentModel):
    id: Text
    label: str
    offset: NonNegativeInt
    unit: Literal["days", "weeks", "months"]
    window: WindowModel
    instruments: tuple[str, ...] = Field(min_length=1)
    optional: bool = False

    @field_validator("instruments")
    @classmethod
    def _known_instruments(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [i for i in value if i not in INSTRUMENTS]
        if unknown:
            raise ValueError(f"unknown instruments {unknown}; known: {', '.join(INSTRUMENTS)}")
        return value

    @model_validator(mode="after")
    def _baseline_closes_on_the_day(self) -> TimepointModel:
        if self.offset == 0 and self.window.after_days != 0:
            raise ValueError(f"{self.id}: a baseline window must close on the procedure day (after_days: 0)")
        return self


class ScheduleFile(ContentModel):
    """``schedule.yaml``: the source of the plan, the window assumption in words, the timepoints in order."""

    source: SourceId
    window_assumption: str = ""
    timepoints: tuple[TimepointModel, ...] = Field(min_length=1)

    @field_validator("timepoints")
    @classmethod
    def _unique_ids(cls, value: tuple[TimepointModel, ...]) -> tuple[TimepointModel, ...]:
        unique_ids(value, "timepoint ids")
        return value


def follow_up_plan(path: Path | str | None = None) -> SchedulePlan:
    """The follow-up plan: the shipped ``schedule.yaml`` when ``path`` is ``None``, else a site's own file."""
    if path is None:
        return _shipped_plan()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _shipped_plan() -> SchedulePlan:
    return _load(SCHEDULE_FILE)


def _load(path: Path) -> SchedulePlan:
    plan = load_content(path, ScheduleFile)
    timepoints = tuple(
        Timepoint(
            id=tp.id,
            label=tp.label,
            offset=tp.offset,
            unit=tp.unit,
            window_before_days=tp.window.before_days,
            window_after_days=tp.window.after_days,
            instruments=tp.instruments,
            optional=tp.optional,
        )
        for tp in plan.timepoints
    )
    return SchedulePlan(timepoints=timepoints, source=plan.source)
