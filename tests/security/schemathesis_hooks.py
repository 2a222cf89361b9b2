"""Schemathesis hooks shared by ``test_api_fuzzing.py`` and the larger command-line run (README).

``positive_data_acceptance`` expects every schema-valid request to be accepted. A few rules cannot be said in
JSON Schema (a date against today or the record, the caller's role, the record's state); the OpenAPI document
lists them per operation under ``x-rules-beyond-schema`` and in the 422 description (web/openapi_limits.py).
This check is ``positive_data_acceptance`` that lets a 422 pass only on an operation that documents such
rules; everywhere else a schema-valid request refused is a failure, as upstream.

Command line: ``SCHEMATHESIS_HOOKS=tests.security.schemathesis_hooks st run URL/openapi.json
--checks all --exclude-checks positive_data_acceptance`` (the README has the whole command).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

RULES_KEY = "x-rules-beyond-schema"


@schemathesis.check
def documented_positive_data_acceptance(ctx: Any, response: Any, case: Any) -> bool | None:
    """A schema-valid request is accepted, or refused with 422 by a rule its operation documents (or with 400 where
    the operation documents a 400 for its rules: the OAuth token endpoint answers RFC 6749's 400 errors)."""
    raw = case.operation.definition.raw
    if response.status_code == 422 and raw.get(RULES_KEY):
        return None
    if response.status_code == 400 and raw.get(RULES_KEY) and "400" in raw.get("responses", {}):
        return None
    return positive_data_acceptance(ctx, response, case)
