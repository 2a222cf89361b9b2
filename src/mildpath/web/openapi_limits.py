"""The input rules of ``domain/inputs.py`` (``EdgeInput``), written into the OpenAPI document per field.

The server enforces them on every request body (and on the query strings it reads as text); this module
states them where a client (and schemathesis) looks, on each operation's own schemas rather than only in
the API's description (issue 21, items 8 and 9):

- every integer: ``minimum``/``maximum`` of a 32-bit signed column unless the field declares narrower ones;
- every number: within ``±1e12``;
- every free text: ``pattern`` refusing NUL, control characters, unpaired surrogates and bidi overrides;
- every array: ``maxItems`` (``MAX_ITEMS``) unless narrower; free-form JSON (answers, FHIR resources):
  ``x-max-depth`` and ``x-max-string-length``, which JSON Schema cannot say in its own words;
- the security schemes: a bearer token under ``/api``, ``/fhir`` and ``/cds-services``; ``security: []``
  on the operations anyone may call.

The walk covers what requests send (parameters and request bodies), so routes added later get the same
statements without anyone writing them.
"""

from __future__ import annotations

from typing import Any

from mildpath.domain.inputs import INT_MAX, INT_MIN, MAX_DEPTH, MAX_ITEMS, MAX_TEXT, NUMBER_LIMIT

#: ``BAD_TEXT`` of domain/inputs.py, negated, as an ECMA-262 pattern (escapes, so the document stays ASCII).
#: Unpaired surrogates are refused too, but a pattern cannot name them (JSON Schema strings are Unicode text,
#: which excludes them already); the API's description says so.
TEXT_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e]*$"
_NO_PATTERN_FORMATS = {"date", "date-time", "time", "binary", "byte", "uuid", "email", "uri"}
BEARER = "bearerAuth"
RULES_KEY = "x-rules-beyond-schema"
#: What the server checks that JSON Schema cannot say (dates against today or the record, the caller's
#: role, the record's state, one field against another): each such operation lists its rules under
#: ``x-rules-beyond-schema`` and in its 422 description, so a schema-valid request refused with 422 is
#: documented. Operations with free-form JSON get the free-form rules too. A test checks every entry names
#: a documented operation.
RULES: dict[tuple[str, str], tuple[str, ...]] = {
    ("get", "/api/v1/outcomes"): ("since: not after until",),
    ("get", "/api/v1/reports/overrides"): ("to: not before from",),
    ("post", "/auth/token"): (
        "RFC 6749 §4.4 with a JWT assertion: grant_type client_credentials, client_assertion_type "
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer, client_assertion signed by a registered client "
        "(errors are RFC 6749 §5.2: 400 invalid_request / unsupported_grant_type / invalid_scope, 401 invalid_client)",
    ),
    ("get", "/api/v1/outcomes/report.pdf"): ("since: not after until",),
    ("post", "/api/v1/patients"): ("birth_date: not in the future, not before 1900",),
    ("patch", "/api/v1/patients/{patient_id}"): ("birth_date: not in the future, not before 1900",),
    ("post", "/api/v1/access-links"): ("channel sms needs a phone number on the patient's record, email an email",),
    ("post", "/api/v1/enrolments"): ("the body is a FHIR ServiceRequest or Appointment with a patient",),
    ("post", "/api/v1/patients/{patient_id}/caregivers"): (
        "how: staff record 'form' or 'clinician'; a patient records 'link' themselves",
    ),
    ("post", "/api/v1/patients/{patient_id}/consents"): (
        "how: staff record 'form' or 'clinician'; a patient records 'link' themselves",
    ),
    ("post", "/api/v1/patients/{patient_id}/diary"): ("an entry answers at least one question or has a note",),
    ("post", "/api/v1/patients/{patient_id}/procedures"): (
        "scheduled_date: within ten years before and one year after today",
        "operator_user_id: a clinician of the patient's clinic",
    ),
    ("post", "/api/v1/patients/{patient_id}/procedures/{procedure_id}/adverse-events"): (
        "onset: not before the procedure, not after today",
    ),
    ("post", "/api/v1/patients/{patient_id}/procedures/{procedure_id}/reinterventions"): (
        "performed_on: after the procedure, not after today",
    ),
    ("post", "/api/v1/patients/{patient_id}/procedures/{procedure_id}/observations"): (
        "at: during or after the procedure, not in the future",
    ),
    ("post", "/api/v1/patients/{patient_id}/questionnaire-responses"): (
        "the body is a FHIR QuestionnaireResponse of a known questionnaire",
    ),
    ("post", "/api/v1/patients/{patient_id}/responses"): ("answers: the items of the instrument, each in its range",),
    ("post", "/api/v1/patients/{patient_id}/screenings"): ("send either answers (with kind) or bundle",),
    ("post", "/cds-services/mild-candidacy"): ("hook: patient-view; context.patientId required",),
    ("put", "/api/v1/patients/{patient_id}/procedures/{procedure_id}/record"): (
        "procedure_date: the procedure's own date; end after start",
    ),
    ("put", "/api/v1/patients/{patient_id}/recovery-plan"): (
        "procedure_date: within ten years before and one year after today",
    ),
}
FREE_FORM_RULE = (
    f"free-form JSON: nested at most {MAX_DEPTH} levels, arrays of at most {MAX_ITEMS} items, strings of at "
    f"most {MAX_TEXT} characters without control characters, integers within 32 bits"
)
STRICT_RULE = "integers are JSON integers (1.0 is refused), numbers finite, text without unpaired surrogates"


def document_limits(schema: dict[str, Any], public: set[tuple[str, str]]) -> dict[str, Any]:
    """State the input limits and the security schemes in the OpenAPI ``schema`` (in place).

    ``public``: the (METHOD, path) pairs whose policy lets anyone in (no credentials needed)."""
    components = schema.setdefault("components", {})
    definitions = components.setdefault("schemas", {})
    walker = _Walker(definitions)
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token: `mildpath token create EMAIL` (revoked at once by `mildpath token revoke`)",
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for parameter in operation.get("parameters", []):
                if "schema" in parameter:
                    walker.visit(parameter["schema"])
            walker.free_form = False
            for media in operation.get("requestBody", {}).get("content", {}).values():
                if "schema" in media:
                    walker.visit(media["schema"])
            rules = [*RULES.get((method, path), ()), *([FREE_FORM_RULE] if walker.free_form else [])]
            if "requestBody" in operation:
                rules.append(STRICT_RULE)
            if rules:
                operation[RULES_KEY] = rules
                invalid = operation.get("responses", {}).get("422")
                if isinstance(invalid, dict):
                    invalid["description"] = (
                        invalid.get("description", "") + ". Rules beyond the schema: " + ("; ".join(rules))
                    )
            if (method.upper(), path) in public:
                operation["security"] = []
            elif "security" not in operation:
                operation["security"] = [{BEARER: []}]
    return schema


class _Walker:
    def __init__(self, definitions: dict[str, Any]) -> None:
        self.definitions = definitions
        self.free_forms: dict[str, bool] = {}  # component name: whether free-form JSON lies inside
        self.free_form = False  # whether the operation being walked takes free-form JSON

    def visit(self, node: Any) -> bool:
        """Add the limits to ``node`` and everything inside it; True when free-form JSON lies inside."""
        if not isinstance(node, dict):
            return False
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in self.free_forms and name in self.definitions:
                self.free_forms[name] = False  # a cycle stops here
                self.free_forms[name] = self.visit(self.definitions[name])
            found = self.free_forms.get(name, False)
        else:
            found = self._limit(node)
            children = [*(node.get("properties") or {}).values(), *(node.get("$defs") or {}).values()]
            for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
                children.extend(node.get(key) or [])
            children.extend(node.get(key) for key in ("items", "additionalProperties", "not"))
            for child in children:
                found = self.visit(child) or found
        self.free_form = self.free_form or found
        return found

    @staticmethod
    def _limit(node: dict[str, Any]) -> bool:
        """Add the limits to one schema node; True when it is free-form JSON."""
        kind = node.get("type")
        if "enum" in node or "const" in node:
            return False
        if kind == "integer":
            if "exclusiveMinimum" not in node:
                node["minimum"] = max(node.get("minimum", INT_MIN), INT_MIN)
            if "exclusiveMaximum" not in node:
                node["maximum"] = min(node.get("maximum", INT_MAX), INT_MAX)
        elif kind == "number":
            if "exclusiveMinimum" not in node:
                node["minimum"] = max(node.get("minimum", -NUMBER_LIMIT), -NUMBER_LIMIT)
            if "exclusiveMaximum" not in node:
                node["maximum"] = min(node.get("maximum", NUMBER_LIMIT), NUMBER_LIMIT)
        elif kind == "string":
            if "pattern" not in node and node.get("format") not in _NO_PATTERN_FORMATS:
                node["pattern"] = TEXT_PATTERN
        elif kind == "array":
            node["maxItems"] = min(node.get("maxItems", MAX_ITEMS), MAX_ITEMS)
        elif kind == "object" and not node.get("properties") and node.get("additionalProperties", True) is True:
            node["x-max-depth"] = MAX_DEPTH
            node["x-max-string-length"] = MAX_TEXT
            node["x-max-items"] = MAX_ITEMS
            return True
        return False


def public_operations(routes: list[Any]) -> set[tuple[str, str]]:
    """The (METHOD, path) of every route whose first declared policy admits anyone (``roles`` empty)."""
    from fastapi.routing import APIRoute

    from mildpath.web.deps import Policy

    def first_policy(dependant: Any) -> Policy | None:
        for dep in dependant.dependencies:
            call = dep.call
            policy = call if isinstance(call, Policy) else getattr(call, "policy", None)
            if isinstance(policy, Policy):
                return policy
            inner = first_policy(dep)
            if inner is not None:
                return inner
        return None

    out: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, APIRoute):
            policy = first_policy(route.dependant)
            if policy is not None and not policy.roles:
                out |= {(method, route.path) for method in route.methods or ()}
        elif hasattr(route, "original_router"):  # FastAPI keeps an included router as one wrapper entry
            out |= public_operations(route.original_router.routes)
    return out
