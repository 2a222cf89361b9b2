"""One symptom-diary entry after the mild procedure, typed and validated (issue 6).

Every field is optional: ``None`` means "not reported", which is never the same as "no". A triage rule
that needs a field the patient did not report does not fire (see :mod:`mildpath.domain.triage`).

Fields a phone diary asks (the CLI contract's fields first)
-----------------------------------------------------------
``days_since_procedure``   whole days since the procedure; the procedure day is day 0.
``pain_back``, ``pain_leg`` 0-10 numeric rating (NPRS, clinical reference §2.3), whole numbers only.
``incision``               what the patient sees at the small opening: a list of ``"redness"``, ``"swelling"``,
                           ``"drainage"``, or ``["fine"]``. ``"fine"`` cannot be combined with a problem; an empty
                           list means the same as ``["fine"]`` and is stored as ``()``.
``temperature_c``          a measured body temperature in °C (plausible range below; a value such as 100.4
                           is refused as probably °F rather than silently read as a fever).
``new_numbness``           new or worsening numbness in a leg or foot.
``new_weakness``           new or worsening weakness in a leg or foot.
``bilateral_weakness``     weakness in both legs.
``saddle_numbness``        numbness in the saddle area (between the legs, around the bottom or genitals).
``bladder_bowel_change``   a new change in bladder or bowel control.
``headache_upright``       a headache that is worse when sitting or standing and better lying down.
``fever_or_chills``        the patient feels feverish or has chills, with or without a thermometer
                           (clinical reference §4.5 lists "fever or chills").
``urine_trouble``          trouble passing urine or cannot empty the bladder (painless retention; issue 15 §2).
``chest_pain_or_breathless`` chest pain or shortness of breath.
``swollen_calf``           a swollen, painful calf.
``wound_bleeding``         bleeding from the wound.
``sexual_numbness_or_dysfunction`` new numbness of the genitals or a new sexual problem.
``pain_medicines``         names of the pain medicines taken (free text, for the care team; no rule reads it).
``activity``               what the patient did (free text; no rule reads it).
``notes``                  anything else, free text, read by the symptom reader (:mod:`mildpath.domain.symptoms`).
``language``               ``"en"`` or ``"es"``: the language of the reasons and advice (not an answer).

Optional context some rules need (a form or the store fills these in; a patient need not type them)
-------------------------------------------------------------------------------------------------
``baseline_pain_back``, ``baseline_pain_leg``
    the 0-10 ratings before the procedure (for "pain worse than before" and "no improvement").
``pain_compared_with_before``
    the patient's own answer to "compared with before the procedure, your pain is": ``"better"``,
    ``"same"`` or ``"worse"``. It lets the review rules work when no baseline rating is on record.
``flare_days``
    how many days the current flare-up of pain has lasted, counting today. It cannot exceed
    ``days_since_procedure + 1`` when both are given (a flare after the procedure cannot be older than it).

Every invalid value raises :class:`~mildpath.domain.errors.InvalidInput` whose ``field`` names the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final, Literal

from mildpath.domain.errors import InvalidInput

IncisionSign = Literal["redness", "swelling", "drainage"]
PainComparison = Literal["better", "same", "worse"]

INCISION_SIGNS: Final[tuple[str, ...]] = ("redness", "swelling", "drainage")
INCISION_FINE: Final = "fine"
PAIN_COMPARISONS: Final[tuple[str, ...]] = ("better", "same", "worse")

PAIN_MIN: Final = 0
PAIN_MAX: Final = 10  # NPRS 0-10; source: nprs
# Assumption (the reference is silent): a home thermometer reading outside 30.0-45.0 °C is an error or a
# Fahrenheit value, not a body temperature. Refusing it is safer than reading 100.4 as "no fever".
TEMPERATURE_MIN_C: Final = 30.0
TEMPERATURE_MAX_C: Final = 45.0
MAX_TEXT: Final = 2000
MAX_SHORT_TEXT: Final = 200
MAX_MEDICINES: Final = 20

BOOLEAN_FIELDS: Final[tuple[str, ...]] = (
    "new_numbness",
    "new_weakness",
    "bilateral_weakness",
    "saddle_numbness",
    "bladder_bowel_change",
    "headache_upright",
    "fever_or_chills",
    "urine_trouble",
    "chest_pain_or_breathless",
    "swollen_calf",
    "wound_bleeding",
    "sexual_numbness_or_dysfunction",
)
LANGUAGES: Final[tuple[str, ...]] = ("en", "es")
# Context a form or the store fills in: not an answer (an entry holding only these is empty).
CONTEXT_FIELDS: Final[frozenset[str]] = frozenset(
    {"days_since_procedure", "baseline_pain_back", "baseline_pain_leg", "language"}
)
TEXT_FIELDS: Final[tuple[str, ...]] = ("notes", "activity")
PAIN_FIELDS: Final[tuple[str, ...]] = ("pain_back", "pain_leg", "baseline_pain_back", "baseline_pain_leg")
NUMBER_FIELDS: Final[tuple[str, ...]] = (
    "days_since_procedure",
    *PAIN_FIELDS,
    "temperature_c",
    "flare_days",
)


@dataclass(frozen=True)
class DiaryEntry:
    """One diary entry; ``None`` everywhere means "not reported". Construction validates every field."""

    days_since_procedure: int | None = None
    pain_back: int | None = None
    pain_leg: int | None = None
    incision: tuple[IncisionSign, ...] | None = None
    temperature_c: float | None = None
    new_numbness: bool | None = None
    new_weakness: bool | None = None
    bilateral_weakness: bool | None = None
    saddle_numbness: bool | None = None
    bladder_bowel_change: bool | None = None
    headache_upright: bool | None = None
    fever_or_chills: bool | None = None
    urine_trouble: bool | None = None
    chest_pain_or_breathless: bool | None = None
    swollen_calf: bool | None = None
    wound_bleeding: bool | None = None
    sexual_numbness_or_dysfunction: bool | None = None
    pain_medicines: tuple[str, ...] | None = None
    activity: str | None = None
    notes: str | None = None
    baseline_pain_back: int | None = None
    baseline_pain_leg: int | None = None
    pain_compared_with_before: PainComparison | None = None
    flare_days: int | None = None
    language: Literal["en", "es"] | None = None

    def __post_init__(self) -> None:
        for name in ("incision", "pain_medicines"):  # a list is accepted and stored as a tuple (hashable, frozen)
            if isinstance(getattr(self, name), list):
                object.__setattr__(self, name, tuple(getattr(self, name)))
        _check_whole(self.days_since_procedure, "days_since_procedure", minimum=0)
        for name in PAIN_FIELDS:
            _check_whole(getattr(self, name), name, minimum=PAIN_MIN, maximum=PAIN_MAX)
        _check_whole(self.flare_days, "flare_days", minimum=0)
        _check_temperature(self.temperature_c)
        for name in BOOLEAN_FIELDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise InvalidInput(f"{name}: must be true, false or null, got {value!r}", field=name, value=value)
        _check_incision(self.incision)
        _check_choice(self.pain_compared_with_before, "pain_compared_with_before", PAIN_COMPARISONS)
        _check_texts(self.pain_medicines)
        _check_text(self.activity, "activity", MAX_TEXT)
        _check_text(self.notes, "notes", MAX_TEXT)
        _check_choice(self.language, "language", LANGUAGES)
        if (
            self.flare_days is not None
            and self.days_since_procedure is not None
            and self.flare_days > self.days_since_procedure + 1
        ):
            raise InvalidInput(
                f"flare_days: a flare of {self.flare_days} days cannot be longer than the "
                f"{self.days_since_procedure} days since the procedure",
                field="flare_days",
                value=self.flare_days,
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> DiaryEntry:
        """Build an entry from parsed JSON or form data.

        Unknown keys are refused (a misspelt ``saddle_numbnes`` must not vanish into "not reported"). A number
        with a zero fraction (``7.0``) is read as the whole number; a lone string for ``incision`` or
        ``pain_medicines`` is read as a one-item list. Anything else must already have the field's type.
        """
        if not isinstance(data, Mapping):
            raise InvalidInput("a diary entry must be a JSON object", field="entry", value=data)
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise InvalidInput(f"{key}: not a diary field", field=str(key), value=data[key])
        values: dict[str, Any] = {}
        for key, value in data.items():
            if value is None:
                continue
            if key in ("incision", "pain_medicines"):
                values[key] = _as_tuple(value, key)
            elif key in NUMBER_FIELDS and key != "temperature_c":
                values[key] = _integral(value)
            else:
                values[key] = value
        return cls(**values)

    def reported(self) -> dict[str, Any]:
        """The fields the patient reported (not ``None``), in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def is_empty(self) -> bool:
        """No answer and no text: only context (day, baselines, language) or nothing at all (issue 15: such an
        entry is refused, never called ``expected``)."""
        for name, value in self.reported().items():
            if name in CONTEXT_FIELDS:
                continue
            if isinstance(value, str) and not value.strip():
                continue
            if isinstance(value, tuple) and not value and name == "pain_medicines":
                continue
            return False
        return True

    def texts(self) -> dict[str, str]:
        """The free-text fields the patient wrote, by field name (what the symptom reader reads)."""
        return {name: getattr(self, name) for name in TEXT_FIELDS if (getattr(self, name) or "").strip()}

    def not_reported(self) -> tuple[str, ...]:
        """The names of the fields left empty, in declaration order."""
        return tuple(f.name for f in fields(self) if getattr(self, f.name) is None)


def diary_field_names() -> tuple[str, ...]:
    """Every field of :class:`DiaryEntry`, in declaration order."""
    return tuple(f.name for f in fields(DiaryEntry))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integral(value: Any) -> Any:
    """``7.0`` -> ``7``; everything else unchanged (and judged by the field check)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def _as_tuple(value: Any, name: str) -> Any:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(value)
    raise InvalidInput(f"{name}: must be a list, got {value!r}", field=name, value=value)


def _check_whole(value: object, name: str, *, minimum: int, maximum: int | None = None) -> None:
    if value is None:
        return
    span = f"from {minimum} to {maximum}" if maximum is not None else f"of {minimum} or more"
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"{name}: must be a whole number {span}, got {value!r}", field=name, value=value)
    if value < minimum or (maximum is not None and value > maximum):
        raise InvalidInput(f"{name}: must be a whole number {span}, got {value}", field=name, value=value)


def _check_temperature(value: object) -> None:
    if value is None:
        return
    if not _is_number(value) or not math.isfinite(float(value)):  # type: ignore[arg-type]
        raise InvalidInput(f"temperature_c: must be a number in °C, got {value!r}", field="temperature_c", value=value)
    celsius = float(value)  # type: ignore[arg-type]
    if not TEMPERATURE_MIN_C <= celsius <= TEMPERATURE_MAX_C:
        hint = " (a Fahrenheit reading?)" if celsius > TEMPERATURE_MAX_C else ""
        raise InvalidInput(
            f"temperature_c: {celsius} is not a body temperature in °C between {TEMPERATURE_MIN_C} and "
            f"{TEMPERATURE_MAX_C}{hint}",
            field="temperature_c",
            value=value,
        )


def _check_incision(value: object) -> None:
    if value is None:
        return
    if not isinstance(value, tuple):
        raise InvalidInput(f"incision: must be a list, got {value!r}", field="incision", value=value)
    allowed = (*INCISION_SIGNS, INCISION_FINE)
    for item in value:
        if item not in allowed:
            raise InvalidInput(
                f"incision: unknown value {item!r}; use {', '.join(repr(a) for a in allowed)}",
                field="incision",
                value=item,
            )
    if INCISION_FINE in value and any(item in INCISION_SIGNS for item in value):
        raise InvalidInput(
            "incision: 'fine' cannot be combined with redness, swelling or drainage", field="incision", value=value
        )


def _check_choice(value: object, name: str, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise InvalidInput(f"{name}: must be one of {', '.join(choices)}, got {value!r}", field=name, value=value)


def _check_text(value: object, name: str, limit: int) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidInput(f"{name}: must be text, got {value!r}", field=name, value=value)
    if len(value) > limit:
        raise InvalidInput(f"{name}: longer than {limit} characters", field=name, value=len(value))


def _check_texts(value: object) -> None:
    if value is None:
        return
    if not isinstance(value, tuple):
        raise InvalidInput(f"pain_medicines: must be a list, got {value!r}", field="pain_medicines", value=value)
    if len(value) > MAX_MEDICINES:
        raise InvalidInput(
            f"pain_medicines: more than {MAX_MEDICINES} entries", field="pain_medicines", value=len(value)
        )
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise InvalidInput(
                f"pain_medicines: every entry must be a medicine name, got {item!r}",
                field="pain_medicines",
                value=item,
            )
        _check_text(item, "pain_medicines", MAX_SHORT_TEXT)
