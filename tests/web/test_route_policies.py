"""Every route declares who may call it: a route without a Policy fails here (issue 10's rule, from the start)."""

from __future__ import annotations

from fastapi.routing import APIRoute
from tests.helpers import api_routes

from mildpath.web.deps import Policy


def _policies(dependant) -> list[Policy]:  # type: ignore[no-untyped-def]
    found = []
    for dep in dependant.dependencies:
        call = dep.call
        if isinstance(call, Policy):
            found.append(call)
        elif isinstance(getattr(call, "policy", None), Policy):
            found.append(call.policy)
        found.extend(_policies(dep))
    return found


def declared_policies(app) -> dict[tuple[str, str], Policy]:  # type: ignore[no-untyped-def]
    out = {}
    for route in api_routes(app):
        if not isinstance(route, APIRoute):
            continue
        policies = _policies(route.dependant)
        for method in route.methods:
            out[(method, route.path)] = policies[0] if policies else None
    return out


def test_every_route_declares_a_policy(app):
    missing = sorted(f"{m} {p}" for (m, p), pol in declared_policies(app).items() if pol is None)
    assert not missing, f"routes without a declared Policy: {missing}"


def test_state_changing_pages_check_csrf(app):
    """A page route (not the bearer-token API) that changes state goes through the CSRF-checking policy."""
    unsafe = []
    for route in api_routes(app):
        if not isinstance(route, APIRoute) or route.path.startswith(
            ("/api/", "/cds-services", "/fhir/", "/hooks/", "/auth/token")  # /auth/token: no cookie, a signed JWT
        ):
            continue
        if route.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            has_csrf = any(getattr(d.call, "policy", None) is not None for d in _walk(route.dependant))
            if not has_csrf:
                unsafe.append(f"{sorted(route.methods)} {route.path}")
    assert not unsafe, f"state-changing pages without the CSRF check: {unsafe}"


def _walk(dependant):  # type: ignore[no-untyped-def]
    for dep in dependant.dependencies:
        yield dep
        yield from _walk(dep)
