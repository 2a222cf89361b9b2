"""``mildpath fhir-client add|list|disable`` (contracts §11): the client id as JSON, bad input as exit 2 with one
line naming the field (a subprocess against a SQLite file)."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_core_commands import run


@pytest.fixture(scope="module")
def env(tmp_path_factory):  # type: ignore[no-untyped-def]
    data = tmp_path_factory.mktemp("fhir-client")
    e = {
        "MILDPATH_DATABASE_URL": f"sqlite:///{data / 'cli.db'}",
        "MILDPATH_DATA_DIR": str(data),
        "MILDPATH_SECRET_KEY": "cli-secret-key-long-enough-0123456789abcdef",
    }
    assert run(e, "db", "upgrade").returncode == 0
    return e


def test_add_list_and_disable_a_client(env, tmp_path, rsa_signer):
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(rsa_signer.jwks))
    added = run(env, "fhir-client", "add", "Analytics", "--jwks", str(jwks), "--scope", "system/*.read",
                "--scope", "system/Patient.rs", "--json")
    assert added.returncode == 0, added.stderr
    client_id = json.loads(added.stdout)["client_id"]
    listed = run(env, "fhir-client", "list", "--json")
    (row,) = [c for c in json.loads(listed.stdout) if c["client_id"] == client_id]
    assert row["issuer"] == client_id and row["scopes"] == ["system/*.read", "system/Patient.rs"]
    assert row["active"] and row["jwks_inline"] and row["clinic_id"] is None
    assert run(env, "fhir-client", "disable", client_id).returncode == 0
    (row,) = [c for c in json.loads(run(env, "fhir-client", "list", "--json").stdout) if c["client_id"] == client_id]
    assert not row["active"]


def test_an_issuer_and_a_jwks_url_are_kept(env):
    added = run(env, "fhir-client", "add", "EHR", "--jwks-url", "https://ehr.example.org/jwks.json", "--issuer",
                "https://ehr.example.org", "--json")
    assert added.returncode == 0, added.stderr
    client_id = json.loads(added.stdout)["client_id"]
    (row,) = [c for c in json.loads(run(env, "fhir-client", "list", "--json").stdout) if c["client_id"] == client_id]
    assert row["issuer"] == "https://ehr.example.org" and row["jwks_url"] == "https://ehr.example.org/jwks.json"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--scope", "system/*.read"], "JWKS"),
        (["--jwks-url", "https://x.example.org/k", "--scope", "system/*.write"], "read-only"),
        (["--jwks-url", "https://x.example.org/k", "--scope", "patient/*.read"], "system scope"),
        (["--jwks-url", "https://x.example.org/k", "--clinic", "999999"], "clinic"),
    ],
)
def test_bad_input_exits_2_with_one_line(env, args, named):
    p = run(env, "fhir-client", "add", "Bad", *args, "--json")
    assert p.returncode == 2 and p.stdout == ""
    assert named in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_a_private_key_is_refused(env, tmp_path):
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    private = ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP384R1()), as_dict=True)
    jwks = tmp_path / "private.json"
    jwks.write_text(json.dumps({"keys": [private]}))
    p = run(env, "fhir-client", "add", "Oops", "--jwks", str(jwks))
    assert p.returncode == 2 and "private" in p.stderr
