"""Fixtures of the SMART Backend Services and CDS Hooks security suite: real keys (cryptography), JWTs signed
with them (PyJWT), a JWKS and a FHIR-ish server played by a real HTTP server on loopback, and registered clients.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from mildpath.services import smart
from mildpath.services.access import Actor

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_URL = "http://testserver/auth/token"


@dataclass
class Signer:
    """A client's key pair: signs JWTs; ``jwks`` is its public key set."""

    alg: str
    kid: str
    private: Any
    jwks: dict[str, Any]

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(claims, self.private, algorithm=self.alg, headers={"kid": self.kid, **header})


def _rsa(kid: str) -> Signer:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return Signer("RS384", kid, key, {"keys": [{**public, "kid": kid, "alg": "RS384", "use": "sig"}]})


def _ec(kid: str) -> Signer:
    key = ec.generate_private_key(ec.SECP384R1())
    public = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return Signer("ES384", kid, key, {"keys": [{**public, "kid": kid, "alg": "ES384", "use": "sig"}]})


@pytest.fixture(scope="session")
def rsa_signer() -> Signer:
    return _rsa("rsa-1")


@pytest.fixture(scope="session")
def ec_signer() -> Signer:
    return _ec("ec-1")


@pytest.fixture(scope="session")
def stranger() -> Signer:
    """A key pair nobody registered (same kid as the RSA client's, to try to pass for it)."""
    return _rsa("rsa-1")


def assertion(signer: Signer, client_id: str, *, aud: str = TOKEN_URL, lifetime: int = 240, **extra: Any) -> str:
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": aud, "exp": now + lifetime, "jti": str(uuid.uuid4())}
    claims.update(extra)
    return signer.sign({k: v for k, v in claims.items() if v is not None})


def token_form(jwt_value: str, scope: str = "system/*.read") -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": jwt_value,
        "scope": scope,
    }


@dataclass
class Loopback:
    """A real HTTP server on 127.0.0.1 answering fixed JSON documents by path, and noting what it was asked."""

    url: str
    documents: dict[str, Any] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    state = Loopback("")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            state.requests.append({"path": self.path, "authorization": self.headers.get("Authorization", "")})
            doc = state.documents.get(self.path)
            if doc is None:
                doc = state.documents.get(self.path.split("?")[0])
            body = (doc if isinstance(doc, bytes) else json.dumps(doc).encode()) if doc is not None else b"{}"
            self.send_response(200 if doc is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=30)


def register(db, signer: Signer | None = None, *, scopes: list[str] | None = None, **options: Any) -> str:  # type: ignore[no-untyped-def]
    """Register a client in the test's database (committed for the app to see); its client id."""
    view = smart.register_client(
        db,
        Actor.system(),
        options.pop("name", "Test EHR"),
        scopes=["system/*.read"] if scopes is None else scopes,
        jwks=signer.jwks if signer is not None and "jwks_url" not in options else None,
        **options,
    )
    db.commit()
    return view.client_id


@pytest.fixture
def rsa_client(db, rsa_signer) -> str:  # type: ignore[no-untyped-def]
    return register(db, rsa_signer)


@pytest.fixture
def backend_token(client, rsa_client, rsa_signer):  # type: ignore[no-untyped-def]
    """A ``system/*.read`` access token of a system-wide client, as request headers."""
    resp = client.post("/auth/token", data=token_form(assertion(rsa_signer, rsa_client)))
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}
