"""API fuzzing with schemathesis against the app's own OpenAPI schema, in-process (ASGI), authenticated as a
clinician (bearer token) and as an admin, with every check schemathesis has (issue 21, item 9).

Every API operation gets a bounded number of generated requests: schema-valid ones (with the patient id in
the path set to a record the caller may see, so they reach the handlers instead of stopping at 404) and
schema-invalid ones. The promises: no 5xx; every response conforms to the schema (documented status code,
content type, body schema and headers); schema-invalid requests are refused with a 4xx; schema-valid ones
are accepted, or refused with 422 only by a rule the operation documents (``x-rules-beyond-schema``,
schemathesis_hooks.py); the same request without credentials is refused where the schema says a token is
needed (``ignored_auth``); undocumented methods answer 405 with the true ``Allow``.

The number of examples is bounded by a budget of requests per persona (``MILDPATH_FUZZ_BUDGET``, default 480
for the clinician, two thirds of it for the admin), spread over the operations and modes, at least 3 and at
most 25 each: the file stays around half a minute per backend however many routes the subjects add.
Generation is derandomized, so CI sends the same requests every time.
"""

from __future__ import annotations

import contextlib
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import CHECKS
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode

from tests.security.schemathesis_hooks import documented_positive_data_acceptance

BUDGET = int(os.environ.get("MILDPATH_FUZZ_BUDGET", "480"))
# The admin sees the same operations plus the admin-only ones: two thirds of the clinician's budget suffice.
SHARE = {"dr_alice": 1.0, "admin_ada": 2 / 3}
MODES = 2
# Seconds one request may take: generous, since the first outcomes call imports lifelines and on a loaded
# 2-core CI machine that alone has taken over 10 s (schemathesis's default), which is slowness, not a defect.
FUZZ_TIMEOUT = 180
# Every check schemathesis has; positive data acceptance as the documented rules allow (schemathesis_hooks.py).
ALL_CHECKS = [
    check
    for check in CHECKS.get_all()
    if getattr(check, "__name__", "") not in ("positive_data_acceptance", documented_positive_data_acceptance.__name__)
] + [documented_positive_data_acceptance]


def _fuzz(app, persona, patient_id: int, budget: int) -> list[str]:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    examples = max(3, min(25, budget // (MODES * max(1, len(operations)))))
    for operation in operations:
        path_ids = {"patient_id": patient_id} if "{patient_id}" in operation.path else None
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(
                generation_mode=mode, path_parameters=path_ids if mode.is_positive else None
            )
            seen = _run_operation(strategy, persona, ALL_CHECKS, f"{operation.label} [{mode.value}]", examples)
            failures.extend(seen)
    return failures


def _run_operation(strategy, persona, checks, label: str, examples: int) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):  # type: ignore[no-untyped-def]
        if seen:
            return  # one report per operation and mode is enough
        try:
            case.call_and_validate(headers=persona.auth, checks=checks, timeout=FUZZ_TIMEOUT)
        except (Exception, FailureGroup) as exc:  # a failed check: report it with a request that reproduces it
            seen.append(f"{label}: {str(exc).strip()[:800]}\n  {case.as_curl_command()}")

    with contextlib.suppress(Unsatisfiable):  # nothing to vary (no parameters to break): nothing to test here
        run()
    return seen


@pytest.mark.parametrize("who", ["dr_alice", "admin_ada"])
def test_fuzzed_api_requests_never_get_a_server_error_and_always_match_the_schema(app, personas, pat_id, who):
    failures = _fuzz(app, personas[who], pat_id, int(BUDGET * SHARE[who]))
    assert not failures, f"{len(failures)} failing operation(s):\n" + "\n\n".join(failures)
