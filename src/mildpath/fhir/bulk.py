"""FHIR Bulk Data Access 2.0 ``$export`` building blocks (issue 19; contracts §11), pure: no database, no web, no
clock.

- :func:`parse_kickoff` reads the kick-off's query: ``_type`` (comma-separated types), ``_since`` (a FHIR
  instant, with its time zone), ``_typeFilter`` (``Type?search``, the search parameters the REST server offers
  for that type; several filters of one type are OR-ed, a type without one is not filtered) and
  ``_outputFormat`` (NDJSON only) are supported. Any other parameter (``_elements``, ``patient``,
  ``includeAssociatedData``...) is refused with 400, or left out under ``Prefer: handling=lenient``, as the IG
  says.
- ``_since`` keeps a resource whose ``meta.lastUpdated`` is after it, and every resource that carries no
  ``meta.lastUpdated`` (the server cannot tell when those changed, so it leaves none out).
- :func:`manifest` is the completed job's answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from mildpath.fhir.server import RESULT_PARAMS, SEARCH, BadSearch, SearchQuery, matches, parse_search

#: What a mildpath export holds (the order files are listed in).
EXPORT_TYPES = (
    "Patient",
    "QuestionnaireResponse",
    "Observation",
    "Procedure",
    "AdverseEvent",
    "CarePlan",
    "RiskAssessment",
    "GuidanceResponse",
    "ServiceRequest",
    "RelatedPerson",
    "Appointment",
    "Task",
    "ClinicalImpression",
    "Practitioner",
)
SUPPORTED_PARAMS = ("_type", "_since", "_typeFilter", "_outputFormat")
NDJSON_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
NDJSON = "application/fhir+ndjson"


@dataclass(frozen=True)
class Kickoff:
    types: tuple[str, ...] = ()  # empty: every type
    since: datetime | None = None
    ignored: tuple[str, ...] = ()
    type_filters: tuple[str, ...] = ()  # "Observation?code=..." as given

    def filters(self) -> dict[str, list[SearchQuery]]:
        """The ``_typeFilter`` searches by type (already checked by :func:`parse_kickoff`)."""
        out: dict[str, list[SearchQuery]] = {}
        for value in self.type_filters:
            query = type_filter(value, lenient=True)
            out.setdefault(query.resource_type, []).append(query)
        return out


def type_filter(value: str, *, lenient: bool) -> SearchQuery:
    """One ``_typeFilter`` value as a search (:class:`BadSearch` when it is not one the server can run)."""
    rtype, mark, query = value.partition("?")
    if not mark or rtype not in EXPORT_TYPES or rtype not in SEARCH:
        raise BadSearch(f"_typeFilter {value!r} is not Type?search for a type mildpath exports", field="_typeFilter")
    pairs = parse_qsl(query, keep_blank_values=True)
    if not pairs or any(name in RESULT_PARAMS or name == "_summary" for name, _ in pairs):
        raise BadSearch(f"_typeFilter {value!r} needs search parameters (and no _count or _summary)",
                        field="_typeFilter")
    return parse_search(rtype, pairs, strict=not lenient)


def prefers(prefer_header: str, token: str) -> bool:
    """Whether a ``Prefer`` header holds ``token`` (``respond-async``, ``handling=lenient``...)."""
    parts = [p.strip().replace(" ", "").lower() for p in prefer_header.replace(";", ",").split(",")]
    return token.lower() in parts


def parse_kickoff(pairs: Sequence[tuple[str, str]], *, lenient: bool) -> Kickoff:
    """The kick-off's parameters; :class:`BadSearch` (400) for a bad or (unless lenient) unsupported one."""
    types: list[str] = []
    since: datetime | None = None
    ignored: list[str] = []
    filters: list[str] = []
    for name, value in pairs:
        if name == "_type":
            for rtype in (t.strip() for t in value.split(",")):
                if rtype not in EXPORT_TYPES:
                    if lenient:
                        ignored.append(f"_type={rtype}")
                        continue
                    raise BadSearch(f"_type: mildpath does not export {rtype!r}", field="_type")
                if rtype not in types:
                    types.append(rtype)
        elif name == "_since":
            since = _instant(value)
        elif name == "_typeFilter":
            type_filter(value, lenient=lenient)
            filters.append(value)
        elif name == "_outputFormat":
            if value not in NDJSON_FORMATS:
                raise BadSearch(f"_outputFormat {value!r} is not supported (only {NDJSON})", field="_outputFormat")
        elif lenient:
            ignored.append(name)
        else:
            raise BadSearch(f"the $export parameter {name!r} is not supported", field=name)
    if any(name == "_type" for name, _ in pairs) and not types:
        raise BadSearch("_type names no type mildpath exports", field="_type")
    return Kickoff(tuple(types), since, tuple(ignored), tuple(filters))


def _instant(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadSearch(f"_since {value!r} is not a FHIR instant", field="_since") from None
    if when.tzinfo is None:
        raise BadSearch("_since needs a time zone (a FHIR instant)", field="_since")
    return when


def keep(resource: Mapping[str, Any], kickoff: Kickoff, filters: Mapping[str, Sequence[SearchQuery]]) -> bool:
    """Whether the resource belongs in the export (its type asked for; matching one of its type's filters, if
    any; changed after ``_since``). ``filters``: :meth:`Kickoff.filters`, parsed once."""
    if kickoff.types and resource.get("resourceType") not in kickoff.types:
        return False
    wanted = filters.get(str(resource.get("resourceType")), ())
    if wanted and not any(matches(resource, query) for query in wanted):
        return False
    if kickoff.since is None:
        return True
    stamp = str((resource.get("meta") or {}).get("lastUpdated", ""))
    if not stamp:
        return True
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")) > kickoff.since


def manifest(
    *, transaction_time: datetime, request: str, files: Iterable[tuple[str, str, int]]
) -> dict[str, Any]:
    """The complete-status body: ``files`` are (type, url, count)."""
    return {
        "transactionTime": transaction_time.isoformat().replace("+00:00", "Z"),
        "request": request,
        "requiresAccessToken": True,
        "output": [{"type": rtype, "url": url, "count": count} for rtype, url, count in files],
        "error": [],
    }
