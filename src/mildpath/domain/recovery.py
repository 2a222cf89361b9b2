"""The personal recovery plan: dated milestones from the procedure date (issue 6; clinical reference §1.5, §5).

The milestones are data (``content/milestones.yaml``, each with its sources); this module only dates them.
Day numbers count from the procedure: the procedure day is day 0, the next day is day 1 (the same count as
``DiaryEntry.days_since_procedure``). Every date is inclusive: a milestone from day 0 to day 42 covers both days.

Offsets
-------
A milestone starts (and may end) at an offset from the procedure date: ``{days: N}``, ``{weeks: N}`` (7N days)
or ``{months: N}`` (calendar months; the 31st moves to the last day of a shorter month). ``N`` may be a
``$setting`` such as ``$no_lifting_weeks``, whose default comes from the catalogue and which
:class:`PlanOptions` may override. Titles and texts name settings in braces (``{no_lifting_weeks}``); a
setting ending in ``_weeks`` also offers ``{no_lifting_weeks_text}`` ("1 week", "6 weeks"). A milestone
with ``only_if: physical_therapy`` appears only when the option is set.

Languages
---------
The catalogue is written in English; ``title_<lang>`` and ``text_<lang>`` beside a milestone's ``title`` and
``text`` give the same wording in another language (``title_es``, ``text_es``), with the same braces.
:func:`plan_recovery` dates the milestones in the ``language`` it is asked for; a milestone without that
language keeps its English. ``{no_lifting_weeks_text}`` reads "6 weeks" or "6 semanas".

Follow-up visits and questionnaires
-----------------------------------
``PlanOptions.follow_ups`` takes ``(label, date)`` pairs (or :class:`FollowUp`), so a caller can feed in the
PROM schedule. Without them the catalogue's default follow-ups apply: the suggested product schedule of
clinical reference §5 (phone check day 1-2, wound check at 1-2 weeks, 6 weeks, 3, 6, 12 and 24 months).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Final, NamedTuple

from mildpath.domain.catalog import by_id, need_list, need_mapping, need_sources, need_text
from mildpath.domain.errors import InvalidInput

NO_LIFTING_WEEKS_RANGE: Final = (1, 52)
FLAGS: Final[tuple[str, ...]] = ("physical_therapy",)
_SLUG = re.compile(r"[^a-z0-9]+")
_LANGUAGE_KEY = re.compile(r"^(?:title|text)_([a-z]{2})$")  # title_es, text_es
# "1 week" / "6 weeks" in each language the catalogue may carry (the unit of ``*_weeks_text``).
WEEK_WORDS: Final[Mapping[str, tuple[str, str]]] = {"en": ("week", "weeks"), "es": ("semana", "semanas")}


class MilestoneKind(StrEnum):
    """What a milestone is; the FHIR CarePlan and the timeline use it to choose wording and icons."""

    EXPECTATION = "expectation"  # what usually happens (soreness settles, improvement within weeks)
    ACTIVITY = "activity"  # something to do (light activity)
    RESTRICTION = "restriction"  # something to avoid (heavy lifting)
    THERAPY = "therapy"  # physical therapy
    FOLLOW_UP = "follow_up"  # a visit, a call or questionnaires


UNITS: Final[tuple[str, ...]] = ("days", "weeks", "months")


@dataclass(frozen=True)
class Offset:
    """``amount`` (or the value of ``setting``) days, weeks or calendar months after the procedure."""

    unit: str
    amount: int | None = None
    setting: str | None = None

    def apply(self, start: date, settings: Mapping[str, int]) -> date:
        n = settings[self.setting] if self.setting is not None else self.amount
        assert n is not None  # parse_offset() sets exactly one of amount and setting
        if self.unit == "months":
            return add_months(start, n)
        return start + timedelta(days=n * (7 if self.unit == "weeks" else 1))


@dataclass(frozen=True)
class MilestoneSpec:
    """A milestone before it is dated: words, offsets and sources. ``text`` may name settings in braces."""

    id: str
    kind: MilestoneKind
    title: str
    text: str
    start: Offset
    sources: tuple[str, ...]
    end: Offset | None = None
    only_if: str | None = None
    translations: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # language -> (title, text)

    def wording(self, language: str) -> tuple[str, str]:
        """``(title, text)`` in ``language``; the English when the catalogue lacks that language."""
        return self.translations.get(language, (self.title, self.text))


@dataclass(frozen=True)
class MilestoneCatalog:
    """The milestones and default follow-ups with the default settings (``content/milestones.yaml``)."""

    version: str
    settings: Mapping[str, int]
    setting_sources: Mapping[str, tuple[str, ...]]
    milestones: tuple[MilestoneSpec, ...]
    follow_ups: tuple[MilestoneSpec, ...]


_Day = date  # the field below is called ``date``; inside the class that name no longer means the type


class FollowUp(NamedTuple):
    """A follow-up visit or questionnaire timepoint; a plain ``(label, date)`` pair is accepted too."""

    label: str
    date: _Day
    end: _Day | None = None
    text: str = ""
    sources: tuple[str, ...] = ("follow-up-schedule",)
    id: str = ""  # the catalogue's id when the follow-up comes from it (stable across languages)


@dataclass(frozen=True)
class PlanOptions:
    """What a clinician chooses for one patient.

    ``no_lifting_weeks``: weeks without heavy lifting or vigorous exercise (1-52); ``None`` takes the
    catalogue default. ``physical_therapy``: whether physical therapy is prescribed.
    ``physical_therapy_start_day``: day number on which therapy starts (``None``: catalogue default).
    ``follow_ups``: the visits and questionnaires, as ``(label, date)`` pairs or :class:`FollowUp`; ``None``
    takes the default schedule; an empty sequence means no follow-ups in the plan.
    """

    no_lifting_weeks: int | None = None
    physical_therapy: bool = False
    physical_therapy_start_day: int | None = None
    follow_ups: Sequence[FollowUp | tuple[str, date]] | None = None


@dataclass(frozen=True)
class DatedMilestone:
    """A milestone on the calendar: ``start`` and ``end`` are inclusive; ``end`` is ``None`` for one day."""

    id: str
    kind: MilestoneKind
    title: str
    text: str
    start: date
    sources: tuple[str, ...]
    end: date | None = None

    @property
    def last_day(self) -> date:
        return self.end or self.start

    def is_active(self, today: date) -> bool:
        return self.start <= today <= self.last_day


@dataclass(frozen=True)
class RecoveryPlan:
    """A patient's dated plan, milestones in date order (then in catalogue order)."""

    procedure_date: date
    milestones: tuple[DatedMilestone, ...]
    settings: Mapping[str, int] = field(default_factory=dict)
    physical_therapy: bool = False
    catalog_version: str = ""
    language: str = "en"  # the language the milestones are worded in

    @property
    def end_date(self) -> date:
        return max((m.last_day for m in self.milestones), default=self.procedure_date)

    def day_number(self, today: date) -> int:
        return day_number(self.procedure_date, today)

    def active_on(self, today: date) -> tuple[DatedMilestone, ...]:
        """The milestones whose dates include ``today``."""
        return tuple(m for m in self.milestones if m.is_active(today))

    def upcoming(self, today: date, limit: int = 3) -> tuple[DatedMilestone, ...]:
        """The next ``limit`` milestones that start after ``today``."""
        return tuple(m for m in self.milestones if m.start > today)[:limit]

    def milestone(self, milestone_id: str) -> DatedMilestone:
        return by_id(self.milestones, milestone_id)


def day_number(procedure_date: date, today: date) -> int:
    """Days since the procedure: 0 on the procedure day, negative before it."""
    return (_as_date(today, "today") - _as_date(procedure_date, "procedure_date")).days


def describe_day(procedure_date: date, today: date) -> str:
    """The timeline's headline: "Today is day 5 after your procedure", and the cases around day 0."""
    n = day_number(procedure_date, today)
    if n == 0:
        return "Today is the day of your procedure (day 0)"
    if n > 0:
        return f"Today is day {n} after your procedure"
    if n == -1:
        return "Your procedure is tomorrow"
    return f"Your procedure is in {-n} days"


def add_months(start: date, months: int) -> date:
    """``start`` plus calendar months; a day that does not exist becomes the month's last day (31 Jan + 1)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def plan_recovery(
    procedure_date: date, catalog: MilestoneCatalog, options: PlanOptions | None = None, *, language: str = "en"
) -> RecoveryPlan:
    """Date every milestone of ``catalog`` from ``procedure_date`` with the patient's ``options``, worded in
    ``language`` where the catalogue has it (module docstring, "Languages").

    Raises :class:`InvalidInput` naming the option for a week count outside 1-52, a negative therapy start
    day, or a follow-up without a label or a date.
    """
    start = _as_date(procedure_date, "procedure_date")
    opts = options or PlanOptions()
    settings = _settings(catalog, opts)
    flags = {"physical_therapy": _check_flag(opts.physical_therapy, "physical_therapy")}
    dated = [
        _date(spec, start, settings, language)
        for spec in catalog.milestones
        if spec.only_if is None or flags.get(spec.only_if, False)
    ]
    if opts.follow_ups is None:
        dated += [_date(spec, start, settings, language) for spec in catalog.follow_ups]
    else:
        dated += [_follow_up(item, i) for i, item in enumerate(opts.follow_ups)]
    order = {id(m): i for i, m in enumerate(dated)}
    ordered = sorted(dated, key=lambda m: (m.start, order[id(m)]))
    return RecoveryPlan(
        procedure_date=start,
        milestones=tuple(ordered),
        settings=settings,
        physical_therapy=flags["physical_therapy"],
        catalog_version=catalog.version,
        language=language,
    )


def _settings(catalog: MilestoneCatalog, opts: PlanOptions) -> dict[str, int]:
    settings = dict(catalog.settings)
    if opts.no_lifting_weeks is not None:
        low, high = NO_LIFTING_WEEKS_RANGE
        _check_int(opts.no_lifting_weeks, "no_lifting_weeks", low, high)
        settings["no_lifting_weeks"] = opts.no_lifting_weeks
    if opts.physical_therapy_start_day is not None:
        _check_int(opts.physical_therapy_start_day, "physical_therapy_start_day", 0, 366)
        settings["physical_therapy_start_day"] = opts.physical_therapy_start_day
    return settings


def _words(settings: Mapping[str, int], language: str = "en") -> dict[str, str]:
    """Values for the braces in titles and texts: each setting, and for ``*_weeks`` a ``*_weeks_text`` that
    reads "1 week" or "6 weeks" (in ``language``)."""
    one, many = WEEK_WORDS.get(language, WEEK_WORDS["en"])
    words = {name: str(value) for name, value in settings.items()}
    for name, value in settings.items():
        if name.endswith("_weeks"):
            words[f"{name}_text"] = f"{value} {one if value == 1 else many}"
    return words


def _date(spec: MilestoneSpec, start: date, settings: Mapping[str, int], language: str = "en") -> DatedMilestone:
    begin = spec.start.apply(start, settings)
    end = spec.end.apply(start, settings) if spec.end is not None else None
    title, text = spec.wording(language)
    words = _words(settings, language)
    return DatedMilestone(
        id=spec.id,
        kind=spec.kind,
        title=" ".join(title.format_map(words).split()),
        text=" ".join(text.format_map(words).split()),
        start=begin,
        end=end if end is not None and end > begin else None,
        sources=spec.sources,
    )


def _follow_up(item: FollowUp | tuple[str, date], index: int) -> DatedMilestone:
    where = f"follow_ups[{index}]"
    if not isinstance(item, tuple) or len(item) < 2:
        raise InvalidInput(f"{where}: needs a (label, date) pair", field=where, value=item)
    follow = item if isinstance(item, FollowUp) else FollowUp(item[0], item[1])
    if not isinstance(follow.label, str) or not follow.label.strip():
        raise InvalidInput(f"{where}: needs a label", field=where, value=follow.label)
    when = _as_date(follow.date, where)
    end = _as_date(follow.end, where) if follow.end is not None else None
    if end is not None and end < when:
        raise InvalidInput(f"{where}: ends before it starts", field=where, value=follow.end)
    slug = _SLUG.sub("-", follow.label.lower()).strip("-") or "visit"
    return DatedMilestone(
        id=follow.id or f"follow-up-{index + 1}-{slug}",
        kind=MilestoneKind.FOLLOW_UP,
        title=" ".join(follow.label.split()),
        text=follow.text,
        start=when,
        end=end if end is not None and end > when else None,
        sources=tuple(follow.sources) or ("follow-up-schedule",),
    )


def _as_date(value: object, name: str) -> date:
    # A datetime is a date subclass; refusing it avoids silently dropping a time zone near midnight.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInput(f"{name}: must be a calendar date, got {value!r}", field=name, value=value)
    return value


def _check_int(value: object, name: str, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(f"{name}: must be a whole number from {low} to {high}, got {value!r}", field=name)


def _check_flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{name}: must be true or false, got {value!r}", field=name, value=value)
    return value


# ------------------------------------------------------------------------------------------ catalogue data


def make_milestone_catalog(data: Mapping[str, Any]) -> MilestoneCatalog:
    """Build a :class:`MilestoneCatalog` from plain data (the parsed ``milestones.yaml``).

    The shape::

        version: "2025.1"
        settings: {NAME: {value: INT, sources: [ID, ...]}, ...}
        milestones: [{id, kind, title, text, start: OFFSET, end: OFFSET?, only_if?, sources}, ...]
        follow_ups: [{id, title, text, start: OFFSET, end: OFFSET?, sources}, ...]

    Raises :class:`InvalidInput` whose ``field`` locates the problem. Source ids are checked by the caller.
    """
    settings: dict[str, int] = {}
    setting_sources: dict[str, tuple[str, ...]] = {}
    for name, spec in need_mapping(data.get("settings", {}), "settings").items():
        where = f"settings.{name}"
        spec_map = need_mapping(spec, where)
        value = spec_map.get("value")
        _check_int(value, where, 0, 520)
        settings[str(name)] = int(value)  # type: ignore[arg-type]
        setting_sources[str(name)] = need_sources(spec_map.get("sources"), where)
    milestones = tuple(
        _spec(item, f"milestones[{i}]", settings, follow_up=False)
        for i, item in enumerate(need_list(data.get("milestones"), "milestones"))
    )
    follow_ups = tuple(
        _spec(item, f"follow_ups[{i}]", settings, follow_up=True)
        for i, item in enumerate(need_list(data.get("follow_ups"), "follow_ups"))
    )
    ids = [spec.id for spec in (*milestones, *follow_ups)]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InvalidInput(f"milestones: ids appear twice: {', '.join(duplicates)}", field="milestones")
    return MilestoneCatalog(
        version=need_text(data.get("version"), "version"),
        settings=settings,
        setting_sources=setting_sources,
        milestones=milestones,
        follow_ups=follow_ups,
    )


def _spec(item: object, where: str, settings: Mapping[str, int], *, follow_up: bool) -> MilestoneSpec:
    spec = need_mapping(item, where)
    spec_id = need_text(spec.get("id"), f"{where}.id")
    where = f"{where.split('[')[0]}[{spec_id}]"
    if follow_up:
        kind = MilestoneKind.FOLLOW_UP
    else:
        try:
            kind = MilestoneKind(str(spec.get("kind")))
        except ValueError:
            kinds = ", ".join(k.value for k in MilestoneKind)
            raise InvalidInput(f"{where}.kind: {spec.get('kind')!r} is not one of {kinds}", field=where) from None
    only_if = spec.get("only_if")
    if only_if is not None and only_if not in FLAGS:
        raise InvalidInput(f"{where}.only_if: {only_if!r} is not one of {', '.join(FLAGS)}", field=where)
    title = need_text(spec.get("title"), f"{where}.title")
    text = need_text(spec.get("text", ""), f"{where}.text", allow_empty=True)
    for words in (title, text):
        _check_placeholders(words, settings, where)
    translations = _translations(spec, settings, where)
    end = spec.get("end")
    return MilestoneSpec(
        id=spec_id,
        kind=kind,
        title=title,
        text=text,
        start=_offset(spec.get("start"), f"{where}.start", settings),
        end=_offset(end, f"{where}.end", settings) if end is not None else None,
        sources=need_sources(spec.get("sources"), where),
        only_if=only_if,
        translations=translations,
    )


def _translations(spec: Mapping[str, Any], settings: Mapping[str, int], where: str) -> dict[str, tuple[str, str]]:
    """``{language: (title, text)}`` from ``title_<lang>`` / ``text_<lang>``; one without the other is refused
    (a half-translated milestone would mix two languages on one line)."""
    out: dict[str, tuple[str, str]] = {}
    languages = {m.group(1) for key in spec if (m := _LANGUAGE_KEY.match(str(key)))}
    for language in sorted(languages):
        title = need_text(spec.get(f"title_{language}"), f"{where}.title_{language}")
        text = need_text(spec.get(f"text_{language}"), f"{where}.text_{language}", allow_empty=not spec.get("text"))
        for words in (title, text):
            _check_placeholders(words, settings, where)
        out[language] = (title, text)
    return out


def _offset(value: object, where: str, settings: Mapping[str, int]) -> Offset:
    spec = need_mapping(value, where)
    if len(spec) != 1:
        raise InvalidInput(f"{where}: needs exactly one of {', '.join(UNITS)}", field=where)
    ((unit, amount),) = spec.items()
    if unit not in UNITS:
        raise InvalidInput(f"{where}: {unit!r} is not one of {', '.join(UNITS)}", field=where)
    if isinstance(amount, str) and amount.startswith("$"):
        if amount[1:] not in settings:
            raise InvalidInput(f"{where}: unknown setting {amount}", field=where)
        return Offset(str(unit), setting=amount[1:])
    _check_int(amount, where, 0, 520)
    return Offset(str(unit), amount=int(amount))


def _check_placeholders(text: str, settings: Mapping[str, int], where: str) -> None:
    try:
        text.format_map(_words(settings))
    except (KeyError, ValueError, IndexError) as exc:
        raise InvalidInput(f"{where}: braces name no setting ({exc})", field=where) from None
