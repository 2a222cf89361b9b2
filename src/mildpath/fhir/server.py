"""FHIR R4 REST server building blocks (issue 19; contracts §11), pure: no database, no web, no clock.

- :data:`SEARCH` says, per resource type served, which search parameters work and where they look. The
  CapabilityStatement is built from it, so it lists exactly what the server does.
- :func:`parse_search` turns the query string into a :class:`SearchQuery`; an unknown parameter is an error under
  ``Prefer: handling=strict`` and ignored (left out of the ``self`` link) under ``lenient``, the default, as the
  R4 search page says.
- :func:`matches` applies a query to one resource; :func:`searchset` pages the matches into a Bundle with
  ``self``/``first``/``next``/``previous`` links; ``_summary=count`` gives the total alone.
- ``date`` takes the R4 prefixes ``eq ne lt gt le ge`` at any precision (``2025``, ``2025-03``, ``2025-03-12``):
  the resource's date is cut to the query's precision and compared. ``sa``/``eb``/``ap`` are refused.
- ``_lastUpdated`` (every type, the same prefixes) reads ``meta.lastUpdated``: a date compares with the instant's
  UTC date, a date-time (with its zone) to the second. Only resources that carry ``meta.lastUpdated`` can match
  (every type's builder stamps its record's own last change, fhir/meta.py; a Practitioner carries none, its
  account row keeps no time of change, and the server does not make one up).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from mildpath.domain.errors import MildpathError


class BadSearch(MildpathError):
    """A search the server cannot run: 400 with an OperationOutcome (the R4 search page's answer), not 422."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)

FHIR_VERSION = "4.0.1"
DEFAULT_COUNT = 50
MAX_COUNT = 500
DATE_PREFIXES = ("eq", "ne", "lt", "gt", "le", "ge")

#: type -> {search parameter -> element paths (dotted) it reads}
SEARCH: dict[str, dict[str, tuple[str, ...]]] = {
    "Patient": {"_id": ("id",), "birthdate": ("birthDate",)},
    "Observation": {
        "_id": ("id",),
        "patient": ("subject",),
        "subject": ("subject",),
        "date": ("effectiveDateTime", "effectivePeriod.start", "issued"),
        "code": ("code",),
    },
    "QuestionnaireResponse": {
        "_id": ("id",),
        "patient": ("subject",),
        "subject": ("subject",),
        "authored": ("authored",),
        "questionnaire": ("questionnaire",),
    },
    "Procedure": {
        "_id": ("id",),
        "patient": ("subject",),
        "subject": ("subject",),
        "date": ("performedDateTime", "performedPeriod.start"),
        "code": ("code",),
    },
    "AdverseEvent": {"_id": ("id",), "subject": ("subject",), "date": ("date",), "seriousness": ("seriousness",)},
    "CarePlan": {"_id": ("id",), "patient": ("subject",), "subject": ("subject",), "date": ("period.start",)},
    "RiskAssessment": {
        "_id": ("id",),
        "patient": ("subject",),
        "subject": ("subject",),
        "date": ("occurrenceDateTime",),
    },
    "GuidanceResponse": {"_id": ("id",), "patient": ("subject",), "subject": ("subject",)},
    "ServiceRequest": {"_id": ("id",), "patient": ("subject",), "subject": ("subject",)},
    "RelatedPerson": {"_id": ("id",), "patient": ("patient",)},
    # issue 18: a referral is a Task (for the patient), the specialist's decision a ClinicalImpression
    "Task": {"_id": ("id",), "patient": ("for",), "status": ("status",), "date": ("authoredOn",)},
    "ClinicalImpression": {"_id": ("id",), "patient": ("subject",), "subject": ("subject",), "date": ("date",)},
    "Appointment": {
        "_id": ("id",),
        "patient": ("participant.actor",),
        "actor": ("participant.actor",),
        "date": ("start",),
        "status": ("status",),
    },
    "Questionnaire": {"_id": ("id",), "url": ("url",)},
    "Practitioner": {"_id": ("id",)},
    "Organization": {"_id": ("id",)},
    "Group": {"_id": ("id",)},
}
for _params in SEARCH.values():
    _params["_lastUpdated"] = ("meta.lastUpdated",)
TYPES = tuple(SEARCH)
#: types that also take the create interaction (``POST /fhir/<type>``): an EHR's ServiceRequest enrols (issue 20)
CREATE = frozenset({"ServiceRequest"})
#: what a backend client may be granted create on: the FHIR create above, and an Appointment through
#: ``POST /api/v1/enrolments`` (services/smart.py CREATE_TYPES)
ENROLLING_TYPES = ("ServiceRequest", "Appointment")
KIND: dict[str, str] = {
    "_id": "token",
    "_lastUpdated": "date",
    "patient": "reference",
    "subject": "reference",
    "actor": "reference",
    "status": "token",
    "questionnaire": "reference",
    "date": "date",
    "authored": "date",
    "birthdate": "date",
    "code": "token",
    "seriousness": "token",
    "url": "uri",
}
RESULT_PARAMS = ("_count", "_summary", "_offset")


@dataclass(frozen=True)
class Criterion:
    name: str
    values: tuple[str, ...]  # OR-ed (comma-separated in the query)


@dataclass(frozen=True)
class SearchQuery:
    resource_type: str
    criteria: tuple[Criterion, ...] = ()
    count: int = DEFAULT_COUNT
    offset: int = 0
    summary_count: bool = False
    ignored: tuple[str, ...] = field(default=())

    def patient_ids(self) -> set[str] | None:
        """The patient ids the query is limited to (``patient=``/``subject=``, or ``Patient?_id=``), if any."""
        found: set[str] | None = None
        for c in self.criteria:
            if c.name in ("patient", "subject") or (self.resource_type == "Patient" and c.name == "_id"):
                ids = {_ref_id(v, "Patient") for v in c.values}
                found = ids if found is None else found & ids
        return found

    def params(self) -> list[tuple[str, str]]:
        out = [(c.name, ",".join(c.values)) for c in self.criteria]
        if self.summary_count:
            out.append(("_summary", "count"))
        return out


def operation_outcome(code: str, diagnostics: str, severity: str = "error") -> dict[str, Any]:
    """An R4 OperationOutcome with one issue (``code`` from the issue-type value set)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }


def _ref_id(value: str, rtype: str) -> str:
    return value[len(rtype) + 1 :] if value.startswith(rtype + "/") else value.rsplit("/", 1)[-1]


def parse_search(resource_type: str, pairs: Sequence[tuple[str, str]], *, strict: bool) -> SearchQuery:
    """The query of ``GET /fhir/{resource_type}?...``; :class:`BadSearch` for a bad or (strict) unknown one."""
    known = SEARCH[resource_type]
    criteria: list[Criterion] = []
    ignored: list[str] = []
    count, offset, summary = DEFAULT_COUNT, 0, False
    for name, value in pairs:
        if name == "_count":
            count = _integer(name, value, 0, None)
            count = min(count, MAX_COUNT)
        elif name == "_offset":
            offset = _integer(name, value, 0, None)
        elif name == "_summary":
            if value != "count":
                raise BadSearch(f"_summary={value} is not supported (only _summary=count)", field="_summary")
            summary = True
        elif name == "_format":
            if value not in ("json", "application/fhir+json", "application/json"):
                raise BadSearch("only JSON is served", field="_format")
        elif name in known:
            values = tuple(v for v in value.split(",") if v)
            if not values:
                raise BadSearch(f"the search parameter {name} has no value", field=name)
            if KIND[name] == "date":
                for v in values:
                    _instant_query(v) if name == "_lastUpdated" else _date_query(v)
            criteria.append(Criterion(name, values))
        elif strict:
            raise BadSearch(f"the search parameter {name!r} is not supported for {resource_type}", field=name)
        else:
            ignored.append(name)
    return SearchQuery(resource_type, tuple(criteria), count, offset, summary, tuple(ignored))


def _integer(name: str, value: str, low: int, high: int | None) -> int:
    try:
        number = int(value)
    except ValueError:
        raise BadSearch(f"{name} must be a whole number", field=name) from None
    if number < low or (high is not None and number > high) or number > 2_147_483_647:
        raise BadSearch(f"{name} is out of range", field=name)
    return number


def _date_query(value: str) -> tuple[str, str]:
    prefix, rest = (value[:2], value[2:]) if value[:2].isalpha() else ("eq", value)
    if prefix not in DATE_PREFIXES:
        raise BadSearch(f"the date prefix {prefix!r} is not supported (eq ne lt gt le ge)", field="date")
    if len(rest) < 4 or not rest[:4].isdigit():
        raise BadSearch(f"{value!r} is not a FHIR date", field="date")
    return prefix, rest


def _utc_second(value: str) -> str:
    """An instant as ``YYYY-MM-DDTHH:MM:SS`` in UTC (a value without a zone is taken as UTC)."""
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _instant_query(value: str) -> tuple[str, str]:
    """A ``_lastUpdated`` value: a date at any precision, or a date-time with its zone, as (prefix, UTC key)."""
    prefix, rest = _date_query(value)
    if "T" not in rest:
        return prefix, rest
    try:
        if datetime.fromisoformat(rest.replace("Z", "+00:00")).tzinfo is None:
            raise ValueError(rest)
        return prefix, _utc_second(rest)
    except ValueError:
        raise BadSearch(f"{value!r} is not a FHIR date-time with a time zone", field="_lastUpdated") from None


def _compare(prefix: str, have: str, want: str) -> bool:
    return {
        "eq": have == want,
        "ne": have != want,
        "lt": have < want,
        "gt": have > want,
        "le": have <= want,
        "ge": have >= want,
    }[prefix]


def _values(resource: Mapping[str, Any], path: str) -> list[Any]:
    current: list[Any] = [resource]
    for part in path.split("."):
        nxt: list[Any] = []
        for item in current:
            if isinstance(item, Mapping) and part in item:
                got = item[part]
                nxt.extend(got if isinstance(got, list) else [got])
        current = nxt
    return current


def _match_one(kind: str, found: Any, wanted: str, rtype_of_ref: str) -> bool:
    if kind == "reference":
        ref = found.get("reference", "") if isinstance(found, Mapping) else str(found)
        want = wanted if "/" in wanted else f"{rtype_of_ref}/{wanted}"
        return bool(ref) and (ref == want or ref.endswith("/" + want))
    if kind == "token":
        if isinstance(found, Mapping):
            system_wanted, bar, code = wanted.rpartition("|")
            for coding in found.get("coding", []) or []:
                if coding.get("code") == code and (not bar or coding.get("system", "") == system_wanted):
                    return True
            return False
        return str(found) == wanted
    if kind == "uri":
        return str(found) == wanted
    if kind == "instant":
        prefix, key = _instant_query(wanted)
        return _compare(prefix, _utc_second(str(found))[: len(key)], key)
    if kind == "date":
        prefix, day = _date_query(wanted)
        have = str(found)[: len(day)]
        if len(have) < len(day):
            return False
        return _compare(prefix, have, day)
    return False


def matches(resource: Mapping[str, Any], query: SearchQuery) -> bool:
    """Whether the resource meets every criterion (AND), each criterion any of its values (OR)."""
    if resource.get("resourceType") != query.resource_type:
        return False
    paths = SEARCH[query.resource_type]
    for c in query.criteria:
        kind = KIND[c.name]
        ref_type = "Questionnaire" if c.name == "questionnaire" else "Patient"
        found = [v for p in paths[c.name] for v in _values(resource, p)]
        if kind == "reference" and c.name == "questionnaire":
            kind = "uri"
        if c.name == "_lastUpdated":
            kind = "instant"
        if not any(_match_one(kind, f, w, ref_type) for f in found for w in c.values):
            return False
    return True


def searchset(resources: Sequence[Mapping[str, Any]], query: SearchQuery, base: str) -> dict[str, Any]:
    """A ``searchset`` Bundle of the matches (already filtered), one page of them, with paging links."""
    total = len(resources)
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": total}
    url = f"{base}/{query.resource_type}"

    def link(relation: str, offset: int) -> dict[str, str]:
        params = [*query.params(), ("_count", str(query.count)), ("_offset", str(offset))]
        return {"relation": relation, "url": f"{url}?{urlencode(params)}"}

    if query.summary_count:
        bundle["link"] = [{"relation": "self", "url": f"{url}?{urlencode(query.params())}"}]
        return bundle
    page = resources[query.offset : query.offset + query.count]
    links = [link("self", query.offset), link("first", 0)]
    if query.count and query.offset + query.count < total:
        links.append(link("next", query.offset + query.count))
    if query.offset > 0 and query.count:
        links.append(link("previous", max(0, query.offset - query.count)))
    bundle["link"] = links
    bundle["entry"] = [
        {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": dict(r), "search": {"mode": "match"}}
        for r in page
    ]
    return bundle


def etag(resource: Mapping[str, Any]) -> str:
    """A weak ETag from the resource's content (mildpath keeps no version history: the content is the version)."""
    digest = hashlib.sha256(json.dumps(resource, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return f'W/"{digest[:16]}"'


def organization_resource(clinic_id: int, name: str, phone: str = "") -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Organization", "id": str(clinic_id), "active": True, "name": name}
    if phone:
        resource["telecom"] = [{"system": "phone", "value": phone}]
    return resource


def practitioner_resource(user_id: int, display_name: str) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Practitioner", "id": str(user_id), "active": True}
    if display_name:
        resource["name"] = [{"text": display_name}]
    return resource


SMART_ALGORITHMS = ("RS384", "ES384")
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
SECURITY_SERVICE = "http://terminology.hl7.org/CodeSystem/restful-security-service"


def smart_scopes_supported() -> list[str]:
    """The system scopes a backend client may be granted: every type (v1 and v2 syntax) and each type alone."""
    reads = ["system/*.read", "system/*.rs"] + [s for t in SEARCH for s in (f"system/{t}.read", f"system/{t}.rs")]
    return reads + [s for t in ENROLLING_TYPES for s in (f"system/{t}.c", f"system/{t}.write")]


def smart_configuration(token_url: str) -> dict[str, Any]:
    """``/.well-known/smart-configuration`` for SMART Backend Services
    (https://hl7.org/fhir/smart-app-launch/conformance.html): client credentials with a signed JWT."""
    return {
        "token_endpoint": token_url,
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(SMART_ALGORITHMS),
        "scopes_supported": smart_scopes_supported(),
        "capabilities": ["client-confidential-asymmetric", "permission-v1", "permission-v2"],
    }


def referral_group_resource(clinic_id: int, name: str, patient_ids: Sequence[int]) -> dict[str, Any]:
    """The Group of the patients with an open referral in one clinic (id ``referrals-<clinic id>``)."""
    resource = group_resource(clinic_id, f"{name}: open referrals", patient_ids)
    resource["id"] = f"{REFERRAL_GROUP_PREFIX}{clinic_id}"
    resource["code"] = {"text": "The clinic's open referral list (patients with an open referral for the mild "
                                "procedure)"}
    return resource


REFERRAL_GROUP_PREFIX = "referrals-"


def group_resource(clinic_id: int, name: str, patient_ids: Sequence[int]) -> dict[str, Any]:
    """The Group of one clinic's patients (what ``Group/<clinic id>/$export`` exports)."""
    resource: dict[str, Any] = {
        "resourceType": "Group",
        "id": str(clinic_id),
        "type": "person",
        "actual": True,
        "name": name,
        "quantity": len(patient_ids),
        "managingEntity": {"reference": f"Organization/{clinic_id}"},
    }
    if patient_ids:
        resource["member"] = [{"entity": {"reference": f"Patient/{pid}"}} for pid in patient_ids]
    return resource


EXPORT_OPERATION = {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"}
EXPORT_LEVEL = {
    "Patient": {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"},
    "Group": {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"},
}
EXPORT_DOC = (
    "Bulk Data 2.0 $export at system (admins), Patient and Group level (one Group per clinic, and one per "
    "clinic's open referral list, id referrals-<clinic id>), with "
    "`Prefer: respond-async`. Supported parameters: `_type`, `_since` (compared with meta.lastUpdated, which "
    "every resource carries as its record's last change, except Practitioner, always included), `_typeFilter` "
    "(the type's search parameters listed here), "
    "`_outputFormat=application/fhir+ndjson`. Not supported: `_elements`, `patient`, `includeAssociatedData` "
    "(400 unless `Prefer: handling=lenient`)."
)


def capability_statement(base: str, date: str, version: str, token_url: str = "") -> dict[str, Any]:
    """What the server does, from :data:`SEARCH` (``date``: the software's release or the current day;
    ``token_url``: the SMART Backend Services token endpoint, announced in ``rest.security``)."""
    resources = []
    for rtype, params in SEARCH.items():
        entry: dict[str, Any] = {
            "type": rtype,
            "interaction": [{"code": "read"}, {"code": "search-type"}]
            + ([{"code": "create"}] if rtype in CREATE else []),
            "searchParam": [{"name": name, "type": KIND[name]} for name in params],
        }
        if rtype in EXPORT_LEVEL:
            entry["operation"] = [EXPORT_LEVEL[rtype]]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "mildpath",
        "kind": "instance",
        "instantiates": ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"],
        "software": {"name": "mildpath", "version": version},
        "implementation": {"description": "mildpath FHIR server", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Read and search; create ServiceRequest (enrols the patient); errors are "
                "OperationOutcome. Unknown search parameters are ignored unless `Prefer: handling=strict`. `_count` "
                "(at most 500), `_summary=count`. " + EXPORT_DOC,
                "security": {
                    "cors": False,
                    "service": [{"coding": [{"system": SECURITY_SERVICE, "code": "SMART-on-FHIR"}]}],
                    "extension": [{"url": OAUTH_URIS, "extension": [{"url": "token", "valueUri": token_url}]}],
                    "description": "Authorization: Bearer <mildpath API token>; a clinician sees their clinic, a "
                    "patient their own record, an admin every record. SMART Backend Services: a registered client "
                    "gets an access token at the token endpoint (client_credentials, private_key_jwt signed "
                    f"{' or '.join(SMART_ALGORITHMS)}) with system scopes ({', '.join(smart_scopes_supported()[:2])} "
                    "or per type, e.g. system/Patient.read); it reads and searches the types its scopes name.",
                },
                "resource": resources,
                "operation": [EXPORT_OPERATION],
            }
        ],
    }


def referenced(resources: Iterable[Mapping[str, Any]], rtype: str) -> set[str]:
    """Ids of ``rtype`` resources the given resources reference (``{"reference": "rtype/id"}`` anywhere)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            ref = value.get("reference")
            if isinstance(ref, str) and ref.startswith(rtype + "/"):
                found.add(ref[len(rtype) + 1 :])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for r in resources:
        walk(r)
    return found
