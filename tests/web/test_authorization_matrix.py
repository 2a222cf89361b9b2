"""The authorization matrix, generated from the app's route table (issue 10).

Every route x every persona (anonymous, a patient, another patient, a clinician of the clinic, a clinician of
another clinic, a coordinator of each clinic, an admin) x own/other record, with the outcome the route's
declared Policy promises:

- no credentials: 401 under the API, a redirect to the login page for pages (public routes excepted);
- a role the policy does not admit: 403;
- an admitted role on a record it may not see: 404 (never the record, never 403, never 5xx);
- an admitted role on its own record: not an access error (2xx, 3xx, or 4xx for input the matrix does not
  fill in, such as 422 for an empty body or 404 for a made-up secondary id).

A route without a Policy fails ``test_route_policies.py``; a new route joins this matrix by itself.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from tests.helpers import api_routes, login
from tests.web.test_route_policies import declared_policies

from mildpath.web.deps import Policy
from mildpath.web.security import csrf_token

PARAM = re.compile(r"{([^}:]+)(:[^}]+)?}")
MADE_UP_ID = "999999"
SKIP_PATHS = {"/logout"}  # would end the persona's session mid-matrix; covered in test_foundation


def _routes(app):  # type: ignore[no-untyped-def]
    policies = declared_policies(app)
    for route in api_routes(app):
        if not isinstance(route, APIRoute) or route.path in SKIP_PATHS:
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            yield method, route.path, policies[(method, route.path)]


def _url(path: str, patient_id: int | None) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "patient_id" and patient_id is not None:
            return str(patient_id)
        return MADE_UP_ID

    return PARAM.sub(sub, path)


def _call(client, method: str, url: str, persona, app):  # type: ignore[no-untyped-def]
    headers = {}
    if url.startswith(("/api/", "/fhir/")) and persona is not None:
        headers.update(persona.auth)
    if method in ("GET", "DELETE"):
        return client.request(method, url, headers=headers)
    if url.startswith(("/api/", "/cds-services", "/fhir/", "/hooks/")):
        return client.request(method, url, headers={**headers, "Content-Type": "application/json"}, content=b"{}")
    cookie = client.cookies.get("mp_session")
    binding = f"sess:{cookie}" if cookie else "anon:" + (client.cookies.get("mp_anon") or "")
    token = csrf_token(app.state.settings.secret_key, binding)
    return client.request(method, url, data={"csrf_token": token}, headers={"X-CSRF-Token": token})


PERSONAS = [
    "anonymous",
    "patient_pat",
    "patient_rosa",
    "dr_alice",
    "dr_bob_other_clinic",
    "coord_cora",
    "coord_hal_other_clinic",
    "admin_ada",
    "caregiver_ana",
]


@pytest.mark.parametrize("who", PERSONAS)
def test_every_route_answers_each_persona_as_its_policy_promises(who, app, client, personas, world, pat_id):
    persona = None if who == "anonymous" else personas[who]
    if persona is not None:
        login(client, persona)
    else:
        client.get("/login")  # the anonymous visitor's cookie, for CSRF-bound public forms
    rosa_id = personas["patient_rosa"].patient_id
    other_clinic = world.other_clinic_patient_id
    # (own, other) patient ids from each persona's point of view
    records = {
        "anonymous": (pat_id, pat_id),
        "patient_pat": (pat_id, rosa_id),
        "patient_rosa": (rosa_id, pat_id),
        "dr_alice": (pat_id, other_clinic),
        "dr_bob_other_clinic": (other_clinic, pat_id),
        "coord_cora": (pat_id, other_clinic),
        "coord_hal_other_clinic": (other_clinic, pat_id),
        "admin_ada": (pat_id, None),
        "caregiver_ana": (pat_id, rosa_id),  # Pat's daughter: only what Pat shared, nothing of Rosa
    }[who]
    failures = []
    for method, path, policy in _routes(app):
        assert isinstance(policy, Policy)
        has_patient = "{patient_id" in path
        for which, pid in (("own", records[0]), ("other", records[1])):
            if which == "other" and (not has_patient or pid is None):
                continue
            url = _url(path, pid)
            resp = _call(client, method, url, persona, app)
            code = resp.status_code
            api = url.startswith(("/api/", "/fhir/", "/cds-services", "/hooks/"))
            allowed = not policy.roles or (persona is not None and persona.role in policy.roles)
            problem = None
            if code >= 500:
                problem = f"server error {code}"
            elif persona is None and policy.roles:
                expected = 401 if api else 303
                if code != expected:
                    problem = f"anonymous got {code}, expected {expected}"
            elif not allowed:
                if code != 403:
                    problem = f"role {persona.role} got {code}, expected 403"
            elif which == "other" and code not in (404, 422):
                problem = f"another's record answered {code}, expected 404"
            elif which == "own" and code in (401, 403) and "csrf" not in resp.text.lower():
                problem = f"own record refused with {code}"
            if problem:
                failures.append(f"{method} {path} [{which}]: {problem}")
    assert not failures, "\n".join(failures)
