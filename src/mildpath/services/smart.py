"""SMART Backend Services and CDS Hooks client security (issue 19; contracts §11).

Clients
    An admin registers a system that signs its own JWTs (``mildpath fhir-client add``, the page
    ``/admin/fhir-clients``): a name, its key set (a JWKS inline, or a JWKS URL mildpath fetches), the scopes it may
    be granted (read and search: ``system/*.read``, ``system/*.rs``, ``system/Patient.read``...; and, for an EHR
    that enrols patients, create of ``ServiceRequest`` or ``Appointment``: ``system/ServiceRequest.c``), its
    issuer (the ``iss`` of its CDS Hooks JWTs; by default its client id) and optionally the clinic it is bound to
    (none: every clinic). Disabling a client stops its tokens at the next request.

``POST /auth/token`` (SMART Backend Services, https://hl7.org/fhir/smart-app-launch/backend-services.html)
    ``grant_type=client_credentials``, ``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-
    bearer``, ``client_assertion`` (a JWT signed RS384 or ES384 with ``iss`` = ``sub`` = the client id, ``aud`` =
    the token URL, ``exp`` at most 5 minutes ahead, a ``jti`` never used before) and ``scope``. The key comes from
    the registered JWKS, or from the registered JWKS URL (a ``jku`` header is honoured only when it equals that
    URL). The answer is RFC 6749 §5.1: ``{"access_token", "token_type": "bearer", "expires_in": 300, "scope"}``
    with the requested scopes the registration covers; errors are §5.2 (``invalid_client`` 401 for a bad
    assertion, ``invalid_request``/``unsupported_grant_type``/``invalid_scope`` 400). Access tokens are random,
    stored as SHA-256 digests, and live :data:`TOKEN_LIFETIME`.

The access token as a Bearer token
    On ``/fhir`` it resolves to an :class:`Actor` of role ``backend`` (:func:`actor_for_token`) whose ``scopes``
    limit the types it reads and searches (``services/fhir_server.py``), whose clinic (if bound) limits the
    patients, and whose audit rows name its client id. :func:`may_export` is the one check Bulk ``$export`` calls.

CDS Hooks 2.0 (https://cds-hooks.hl7.org/2.0/#trusting-cds-clients)
    The EHR sends a JWT it signed as ``Authorization: Bearer``; its ``iss`` selects the registered client (by
    issuer), ``sub`` is the client id, ``aud`` the URL of the CDS endpoint called, ``exp`` at most 5 minutes
    ahead, ``jti`` never used before (:func:`cds_actor`). Anything else is :class:`InvalidJwt` (the web layer
    answers 401).

Clock skew of :data:`LEEWAY` is tolerated on ``exp``. Used ``jti``s are kept until their JWT expires.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mildpath.domain import smart_scopes
from mildpath.domain.errors import InvalidInput, MildpathError, NotFound
from mildpath.fhir.server import ENROLLING_TYPES, SMART_ALGORITHMS
from mildpath.services.access import Actor, record, require_role
from mildpath.store import clinics as clinics_store
from mildpath.store import smart as store

ALGORITHMS = SMART_ALGORITHMS  # RS384 and ES384: what SMART Backend Services requires servers to support
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_JWT_LIFETIME = timedelta(minutes=5)
LEEWAY = timedelta(seconds=30)
TOKEN_LIFETIME = timedelta(minutes=5)
TOKEN_PREFIX = "mpbt_"
FETCH_TIMEOUT = 5.0  # seconds, for a JWKS URL or a CDS client's FHIR server
FETCH_LIMIT = 512 * 1024  # bytes
EXPORT_LEVELS = ("system", "patient", "group")
READ_PERMISSIONS = frozenset("rs")
#: the types a backend client may also create: an EHR's request that enrols a patient (issue 20, contracts §10);
#: ``system/ServiceRequest.c`` (v2) or ``system/ServiceRequest.write`` (v1; mildpath never updates or deletes them)
CREATE_TYPES = frozenset(ENROLLING_TYPES)


class OAuthError(MildpathError):
    """An RFC 6749 §5.2 error answer: ``{"error": code, "error_description": message}`` with ``status``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message, code=code)
        self.code = code
        self.status = status


class InvalidJwt(MildpathError):
    """A JWT that is unsigned, badly signed, expired, replayed, for another audience or from no registered client."""


class FetchFailed(MildpathError):
    """An outside URL that did not answer JSON in time, within the size limit, with 200."""


@dataclass(frozen=True)
class ClientView:
    client_id: str
    name: str
    issuer: str
    clinic_id: int | None
    jwks_url: str | None
    has_inline_jwks: bool
    scopes: tuple[str, ...]
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    expires_in: int
    scope: str

    def as_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
        }


def _view(row: store.FhirClient) -> ClientView:
    return ClientView(
        row.client_id,
        row.name,
        row.issuer,
        row.clinic_id,
        row.jwks_url,
        row.jwks is not None,
        tuple(row.scopes.split()),
        row.active,
        row.created_at,
    )


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# ------------------------------------------------------------------------------------------ outside URLs


def fetch_json(url: str, *, headers: Mapping[str, str] | None = None, limit: int = FETCH_LIMIT) -> Any:
    """GET ``url`` and parse its JSON: 200 only, no redirects, :data:`FETCH_TIMEOUT`, at most ``limit`` bytes."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise FetchFailed("only http and https URLs are fetched")
    body = bytearray()
    try:
        with httpx.Client(timeout=FETCH_TIMEOUT, follow_redirects=False) as client, client.stream(
            "GET", url, headers=dict(headers or {})
        ) as resp:
            if resp.status_code != 200:
                raise FetchFailed(f"the server answered {resp.status_code}")
            for chunk in resp.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise FetchFailed(f"the answer is larger than {limit} bytes")
        return json.loads(body)
    except (httpx.HTTPError, ValueError) as exc:
        raise FetchFailed(f"could not fetch JSON ({type(exc).__name__})") from None


# ------------------------------------------------------------------------------------------ registration


def _check_jwks(jwks: Any) -> dict[str, Any]:
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise InvalidInput('a JWKS is a JSON object with a non-empty "keys" list', field="jwks")
    if any("d" in k for k in jwks["keys"] if isinstance(k, dict)):
        raise InvalidInput("the JWKS holds a private key: register the public keys only", field="jwks")
    try:
        jwt.PyJWKSet.from_dict(jwks)
    except (jwt.PyJWKSetError, jwt.InvalidKeyError) as exc:
        raise InvalidInput(f"the JWKS has no usable key: {exc}", field="jwks") from None
    return jwks


def _registrable(scope: smart_scopes.Scope) -> bool:
    """Read and search of any type; create (v2 ``c``, or v1 ``.write``) of the enrolling types alone."""
    if scope.permissions <= READ_PERMISSIONS:
        return True
    if scope.resource_type not in CREATE_TYPES:
        return False
    return scope.permissions <= READ_PERMISSIONS | {"c"} or scope.text.endswith(".write")


def _check_scopes(scopes: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for text in (s for item in scopes for s in item.split()):
        scope = smart_scopes.parse(text)
        if scope is None:
            raise InvalidInput(f"{text!r} is not a system scope (system/<Type|*>.read or .rs)", field="scope")
        if not _registrable(scope):
            raise InvalidInput(f"{text!r}: mildpath's FHIR API is read-only (read and search) but for the create "
                               f"of {' and '.join(sorted(CREATE_TYPES))} (system/ServiceRequest.c)", field="scope")
        if text not in out:
            out.append(text)
    return tuple(out)


def register_client(
    session: Session,
    actor: Actor,
    name: str,
    *,
    scopes: list[str],
    jwks: Any = None,
    jwks_url: str | None = None,
    issuer: str | None = None,
    clinic_id: int | None = None,
) -> ClientView:
    """Register a backend client; its ``client_id`` is made here. Exactly one of ``jwks`` and ``jwks_url``."""
    require_role(actor, "admin")
    if not name.strip():
        raise InvalidInput("a client needs a name", field="name")
    if (jwks is None) == (not jwks_url):
        raise InvalidInput("give the client's key set: a JWKS file or a JWKS URL (one of them)", field="jwks")
    if jwks_url and urlsplit(jwks_url).scheme not in ("http", "https"):
        raise InvalidInput("the JWKS URL must be http(s)", field="jwks_url")
    if clinic_id is not None and clinics_store.get_or_none(session, clinic_id=clinic_id) is None:
        raise InvalidInput(f"no clinic {clinic_id}", field="clinic_id", value=clinic_id)
    client_id = "mp-" + secrets.token_urlsafe(12)
    row = store.add(
        session,
        store.FhirClient(
            client_id=client_id,
            name=name.strip()[:200],
            issuer=(issuer or "").strip() or client_id,
            clinic_id=clinic_id,
            jwks=_check_jwks(jwks) if jwks is not None else None,
            jwks_url=jwks_url or None,
            scopes=" ".join(_check_scopes(scopes)),
            active=True,
        ),
    )
    record(session, actor, "fhir_client.create", "FhirClient", client_id, None, {"clinic_id": clinic_id})
    return _view(row)


def list_clients(session: Session, actor: Actor) -> list[ClientView]:
    require_role(actor, "admin")
    return [_view(r) for r in store.clients(session)]


def disable_client(session: Session, actor: Actor, client_id: str) -> ClientView:
    """Disable a client: its access tokens and JWTs are refused from the next request on."""
    require_role(actor, "admin")
    row = store.client(session, client_id=client_id)
    if row is None:
        raise NotFound(f"no FHIR client {client_id}", record_type="FhirClient")
    row.active = False
    record(session, actor, "fhir_client.disable", "FhirClient", client_id, None)
    return _view(row)


# ------------------------------------------------------------------------------------------ JWT checks


def _key_set(row: store.FhirClient, header: Mapping[str, Any]) -> dict[str, Any]:
    jku = header.get("jku")
    if jku is not None and jku != row.jwks_url:
        raise InvalidJwt("the jku header is not the client's registered JWKS URL")
    if row.jwks is not None:
        return row.jwks
    try:
        found = fetch_json(str(row.jwks_url))
    except FetchFailed as exc:
        raise InvalidJwt(f"the client's JWKS could not be fetched: {exc.message}") from None
    if not isinstance(found, dict):
        raise InvalidJwt("the client's JWKS URL did not answer a JWKS")
    return found


def _verified(row: store.FhirClient, token: str, header: Mapping[str, Any], audience: str) -> dict[str, Any]:
    alg = header.get("alg")
    try:
        keys = jwt.PyJWKSet.from_dict(_key_set(row, header)).keys
    except (jwt.PyJWKSetError, jwt.InvalidKeyError):
        raise InvalidJwt("the client's JWKS has no usable key") from None
    kid = header.get("kid")
    candidates = [k for k in keys if (kid is None or k.key_id == kid) and k.key_type == ("RSA" if alg == "RS384"
                                                                                          else "EC")]
    for key in candidates:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[str(alg)],
                audience=audience,
                options={
                    "require": ["iss", "sub", "aud", "exp", "jti"],
                    "verify_exp": False,  # checked against the services' clock below
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
            return claims
        except jwt.InvalidAudienceError:
            raise InvalidJwt(f"the JWT's aud is not {audience}") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidJwt(f"the JWT has no {exc.claim} claim") from None
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise InvalidJwt(f"the JWT is not valid: {type(exc).__name__}") from None
    raise InvalidJwt("the JWT is not signed by a key of the client's JWKS")


def _check_time_and_replay(session: Session, row: store.FhirClient, claims: Mapping[str, Any], now: datetime) -> None:
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise InvalidJwt("the JWT's exp is not a number")
    expires = datetime.fromtimestamp(exp, UTC)
    if expires + LEEWAY <= now:
        raise InvalidJwt("the JWT has expired")
    if expires > now + MAX_JWT_LIFETIME + LEEWAY:
        raise InvalidJwt("the JWT's exp is more than 5 minutes ahead")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise InvalidJwt("the JWT's jti must be a string of at most 255 characters")
    store.forget_expired(session, now=now - LEEWAY)
    if store.jti_used(session, client_pk=row.id, jti=jti):
        raise InvalidJwt("the JWT's jti was used before (replay)")
    try:
        with session.begin_nested():
            store.add(session, store.UsedJti(client_pk=row.id, jti=jti, expires_at=expires + LEEWAY))
    except IntegrityError:
        raise InvalidJwt("the JWT's jti was used before (replay)") from None


def _header(token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
        jwt.decode(token, options={"verify_signature": False})  # the payload must be JSON claims
    except jwt.PyJWTError:
        raise InvalidJwt("not a signed JWT") from None
    if header.get("alg") not in ALGORITHMS:
        raise InvalidJwt(f"the JWT must be signed with {' or '.join(ALGORITHMS)}")
    return header


def _unverified_claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


# ------------------------------------------------------------------------------------------ /auth/token


def issue_token(session: Session, form: Mapping[str, str], *, token_url: str, now: datetime,
                address: str = "") -> TokenGrant:
    """The access token for a client-credentials request (see the module doc); :class:`OAuthError` otherwise."""
    if form.get("grant_type") != "client_credentials":
        raise OAuthError("unsupported_grant_type", "grant_type must be client_credentials")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise OAuthError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}")
    assertion = form.get("client_assertion") or ""
    if not assertion:
        raise OAuthError("invalid_request", "client_assertion is required")
    if not (form.get("scope") or "").strip():
        raise OAuthError("invalid_request", "scope is required")
    try:
        header = _header(assertion)
        claims = _unverified_claims(assertion)
        client_id = claims.get("iss")
        row = store.client(session, client_id=str(client_id)) if isinstance(client_id, str) else None
        if row is None or not row.active:
            raise InvalidJwt("no active client with that id")
        claims = _verified(row, assertion, header, token_url)
        if claims.get("iss") != row.client_id or claims.get("sub") != row.client_id:
            raise InvalidJwt("iss and sub must both be the client id")
        _check_time_and_replay(session, row, claims, now)
    except InvalidJwt as exc:
        record(session, Actor(None, "anonymous", address=address), "smart.token_refused", "FhirClient", None, None,
               {"reason": exc.message})
        raise OAuthError("invalid_client", exc.message, 401) from None
    granted = smart_scopes.grant(form["scope"], row.scopes)
    actor = Actor.backend(row.client_id, row.clinic_id, tuple(granted), address)
    if not granted:
        record(session, actor, "smart.token_refused", "FhirClient", row.client_id, None, {"reason": "scope"})
        raise OAuthError("invalid_scope", "none of the requested scopes is granted to this client")
    value = TOKEN_PREFIX + secrets.token_urlsafe(32)
    store.add(session, store.AccessToken(client_pk=row.id, digest=digest(value), scopes=" ".join(granted),
                                         created_at=now, expires_at=now + TOKEN_LIFETIME))
    record(session, actor, "smart.token", "FhirClient", row.client_id, None, {"scope": " ".join(granted)})
    return TokenGrant(value, int(TOKEN_LIFETIME.total_seconds()), " ".join(granted))


def actor_for_token(session: Session, value: str, *, now: datetime, address: str = "") -> Actor | None:
    """The backend client an unexpired access token acts for (its scopes and clinic), or ``None``."""
    if not value.startswith(TOKEN_PREFIX):
        return None
    found = store.token(session, digest=digest(value), now=now)
    if found is None:
        return None
    token, row = found
    return Actor.backend(row.client_id, row.clinic_id, tuple(token.scopes.split()), address)


def may_export(actor: Actor, level: str) -> bool:
    """Whether ``actor`` may run a Bulk Data ``$export`` at ``level`` (``system``, ``patient`` or ``group``).

    A backend client needs read access to every type (``system/*.read`` or ``system/*.rs``); it then exports
    the patients it sees (its clinic, or all when system-wide). People: admins at every level; clinicians at the
    patient and group levels (their clinic). Everyone else: no. The exporter still limits the patients with
    ``visible_patients(actor)`` and the types with :func:`may_read`.
    """
    if level not in EXPORT_LEVELS:
        return False
    if actor.role == "backend":
        return smart_scopes.allows(actor.scopes, "*", "read") and smart_scopes.allows(actor.scopes, "*", "search")
    if actor.role in ("admin", "system"):
        return True
    return actor.role == "clinician" and level != "system"


def may_create(actor: Actor, resource_type: str) -> bool:
    """Whether the actor may create ``resource_type`` (enrolment, issue 20): a backend client needs a scope with
    ``c`` on it (``system/ServiceRequest.c``, v1 ``.write``); people: their route's policy decides."""
    if actor.role == "backend":
        return resource_type in CREATE_TYPES and smart_scopes.allows(actor.scopes, resource_type, "create")
    return True


def may_read(actor: Actor, resource_type: str, interaction: str) -> bool:
    """Whether the actor's scopes allow ``interaction`` (``read``/``search``) on the type; people: always (their
    own policies apply)."""
    return actor.role != "backend" or smart_scopes.allows(actor.scopes, resource_type, interaction)


# ------------------------------------------------------------------------------------------ CDS Hooks


def cds_actor(session: Session, token: str, *, audience: str, now: datetime, address: str = "") -> Actor:
    """The registered client that signed this CDS Hooks JWT (``iss`` selects it); :class:`InvalidJwt` otherwise."""
    header = _header(token)
    issuer = _unverified_claims(token).get("iss")
    rows = store.active_by_issuer(session, issuer=issuer) if isinstance(issuer, str) else []
    if not rows:
        raise InvalidJwt("no active client is registered with that issuer")
    last: InvalidJwt | None = None
    for row in rows:
        try:
            claims = _verified(row, token, header, audience)
        except InvalidJwt as exc:
            last = exc
            continue
        if claims.get("sub") != row.client_id:
            raise InvalidJwt("the JWT's sub is not the client id")
        _check_time_and_replay(session, row, claims, now)
        return Actor.backend(row.client_id, row.clinic_id, tuple(row.scopes.split()), address)
    assert last is not None
    raise last
