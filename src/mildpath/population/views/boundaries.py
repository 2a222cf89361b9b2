"""``lowBoundary()`` / ``highBoundary()`` (FHIRPath 3.0, experimental in SQL on FHIR) as SQL on ISO text.

The boundary of a value is the least (greatest) value it can stand for at its precision:

- decimal: half a unit of the last digit given, ``1.0`` -> 0.95 / 1.05. The precision is read from the JSON
  text as the parser returns it, which keeps one fractional digit for ``1.0`` but drops extra trailing zeros
  (``1.50`` reads as ``1.5``): a documented limit of reading decimals through a JSON parser;
- date: the first / last day of the year or month given, ``1970-06`` -> 1970-06-01 / 1970-06-30;
- dateTime: the date's boundary at the first / last millisecond, in the earliest (+14:00) / latest (-12:00)
  time zone when none is given; a time given without seconds or milliseconds is filled the same way;
- time: ``12:34:00`` -> 12:34:00.000 / 12:34:00.999.
"""

from __future__ import annotations

from mildpath.population.views.sql import Dialect


def decimal_boundary(d: Dialect, text: str, high: bool) -> str:
    """SQL: the boundary of a decimal given as its JSON text."""
    digits = f"CASE WHEN {d.contains(text, d.quote('.'))} THEN length(split_part({text}, '.', 2)) ELSE 0 END"
    sign = "+" if high else "-"
    return f"round(CAST({text} AS DOUBLE) {sign} 0.5 * pow(10, -({digits})), 8)"


def date_boundary(d: Dialect, text: str, high: bool) -> str:
    """SQL: the boundary of a (partial) date ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``."""
    if not high:
        return f"CASE length({text}) WHEN 4 THEN {text} || '-01-01' WHEN 7 THEN {text} || '-01' ELSE {text} END"
    last_day = d.date_text(f"last_day(CAST({text} || '-01' AS DATE))")
    return f"CASE length({text}) WHEN 4 THEN {text} || '-12-31' WHEN 7 THEN {last_day} ELSE {text} END"


def time_boundary(d: Dialect, text: str, high: bool) -> str:
    """SQL: the boundary of a time ``HH:MM[:SS[.fff]]`` (no zone)."""
    seconds = "59.999" if high else "00.000"
    millis = "999" if high else "000"
    return (
        f"CASE WHEN length({text}) = 5 THEN {text} || ':{seconds}' "
        f"WHEN length({text}) = 8 THEN {text} || '.{millis}' ELSE {text} END"
    )


def datetime_boundary(d: Dialect, text: str, high: bool) -> str:
    """SQL: the boundary of a dateTime; a missing zone takes the extreme offset (+14:00 low, -12:00 high)."""
    zone = "-12:00" if high else "+14:00"
    date_part = f"split_part({text}, 'T', 1)"
    time_and_zone = f"split_part({text}, 'T', 2)"
    zone_match = d.regexp_extract(time_and_zone, "(Z|[+-][0-9]{2}:[0-9]{2})$", 1)
    bare_time = f"substr({time_and_zone}, 1, length({time_and_zone}) - length({zone_match}))"
    with_time = (
        f"{date_part} || 'T' || {time_boundary(d, bare_time, high)} || "
        f"CASE WHEN {zone_match} = '' THEN '{zone}' ELSE {zone_match} END"
    )
    clock = "23:59:59.999" if high else "00:00:00.000"
    date_only = f"{date_boundary(d, text, high)} || 'T{clock}{zone}'"
    return f"CASE WHEN {d.contains(text, d.quote('T'))} THEN {with_time} ELSE {date_only} END"
