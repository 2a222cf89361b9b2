"""Load the questionnaire follow-up plan from ``content/schedule.yaml`` (or a site's copy of it).

The timepoints and instruments come from clinical reference §5 (source ``follow-up-schedule``); the windows are
mildpath's assumption, stated in the file, because the reference gives none. A malformed file fails loudly with
:class:`~mildpath.content.sources.ContentError` naming the file and the timepoint.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from mildpath.content.sources import CONTENT_DIR, ContentError, check_cited
from mildpath.domain.instruments import INSTRUMENTS
from mildpath.domain.schedule import SchedulePlan, Timepoint

SCHEDULE_FILE = CONTENT_DIR / "schedule.yaml"
UNITS = ("days", "weeks", "months")


def follow_up_plan(path: Path | str | None = None) -> SchedulePlan:
    """The follow-up plan: the shipped ``schedule.yaml`` when ``path`` is ``None``, else a site's own file."""
    if path is None:
        return _shipped_plan()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _shipped_plan() -> SchedulePlan:
    return _load(SCHEDULE_FILE)


def _timepoint(entry: Any, where: str) -> Timepoint:
    if not isinstance(entry, dict):
        raise ContentError(f"{where}: each timepoint must be a mapping")
    try:
        window = entry.get("window") or {}
        tp = Timepoint(
            id=str(entry["id"]),
            label=str(entry["label"]),
            offset=int(entry["offset"]),
            unit=str(entry["unit"]),
            window_before_days=int(window["before_days"]),
            window_after_days=int(window["after_days"]),
            instruments=tuple(str(i) for i in entry["instruments"]),
            optional=bool(entry.get("optional", False)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ContentError(f"{where}: needs id, label, offset, unit, window and instruments ({exc!r})") from exc
    here = f"{where} {tp.id}"
    if tp.unit not in UNITS:
        raise ContentError(f"{here}: unit must be one of {', '.join(UNITS)}")
    if tp.offset < 0 or tp.window_before_days < 0 or tp.window_after_days < 0:
        raise ContentError(f"{here}: offset and window days cannot be negative")
    if tp.offset == 0 and tp.window_after_days != 0:
        raise ContentError(f"{here}: a baseline window must close on the procedure day (after_days: 0)")
    unknown = [i for i in tp.instruments if i not in INSTRUMENTS]
    if unknown or not tp.instruments:
        raise ContentError(f"{here}: unknown or no instruments {unknown}; known: {', '.join(INSTRUMENTS)}")
    return tp


def _load(path: Path) -> SchedulePlan:
    where = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"{where}: cannot be read ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("timepoints"), list) or not data["timepoints"]:
        raise ContentError(f"{where}: needs source and a list of timepoints")
    source = str(data.get("source", ""))
    check_cited([source] if source else [], where)
    timepoints = tuple(_timepoint(entry, where) for entry in data["timepoints"])
    ids = [tp.id for tp in timepoints]
    if len(set(ids)) != len(ids):
        raise ContentError(f"{where}: timepoint ids must be unique, got {ids}")
    return SchedulePlan(timepoints=timepoints, source=source)
