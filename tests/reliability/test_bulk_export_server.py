"""FHIR Bulk Data ``$export`` against the real server (issue 19): a standards-conformant client flow (kick-off,
poll respecting ``Retry-After``, manifest, download with the access token, delete), and a job whose server is
killed with SIGKILL mid-export: nothing half-written is ever listed or served, and the next server runs the job
again from an empty folder, to the same files ``mildpath export fhir`` writes.

The client flow authenticates as a SMART Backend Services client (registered with `mildpath fhir-client add`,
its access token got at `/auth/token` with a signed JWT assertion); the crash test uses a clinician's API token
(exporting her clinic's Group). To stop the export mid-way without a hook in the code, the test
puts a named pipe where the worker writes its first temporary file: opening it for writing blocks until someone
reads, so the worker is caught inside the export, files open, job marked running.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fhir.resources.R4B import get_fhir_model_class

from .server import POSTGRES_URL, Server, database, environment, mildpath

ALICE = "alice@demo.mildpath.org"
FHIR = "application/fhir+json"
PATIENCE = 120  # seconds: generous, a loaded 2-core box


@dataclass
class Site:
    env: dict[str, str]
    data_dir: Path
    token: str
    tmp: Path

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def server(self, name: str, **settings: str) -> Server:
        env = {**self.env, **{f"MILDPATH_{k.upper()}": v for k, v in settings.items()}}
        return Server(env, self.tmp / f"{name}.log").start()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip("set MILDPATH_TEST_POSTGRES_URL to test the export server on PostgreSQL")
    with database(request.param, tmp_path, "mp_bulk_export") as url:
        data_dir = tmp_path / "data"
        env = environment(url, data_dir)
        assert mildpath(env, "demo", timeout=600).returncode == 0
        made = mildpath(env, "token", "create", ALICE, "--name", "bulk-client")
        assert made.returncode == 0, made.stderr
        yield Site(env, data_dir, made.stdout.strip(), tmp_path)


def _group_export(server: Server, site: Site) -> str:
    clinic = httpx.get(server.url + "/fhir/Group", headers=site.auth, timeout=30).json()["entry"][0]["resource"]
    kick = httpx.get(f"{server.url}/fhir/Group/{clinic['id']}/$export",
                     headers={**site.auth, "Prefer": "respond-async", "Accept": FHIR}, timeout=30)
    assert kick.status_code == 202, kick.text
    return kick.headers["Content-Location"]


def _wait_for_manifest(status_url: str, site: Site) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + PATIENCE
    while True:
        resp = httpx.get(status_url, headers=site.auth, timeout=30)
        if resp.status_code == 200:
            return resp.json()  # type: ignore[no-any-return]
        assert resp.status_code == 202 and resp.headers["X-Progress"], resp.text
        assert time.monotonic() < deadline, "the export did not finish"
        time.sleep(int(resp.headers["Retry-After"]))


def _download(manifest: dict, site: Site) -> dict[str, bytes]:  # type: ignore[type-arg]
    files = {}
    for item in manifest["output"]:
        assert httpx.get(item["url"], timeout=30).status_code == 401  # requiresAccessToken
        resp = httpx.get(item["url"], headers=site.auth, timeout=60)
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/fhir+ndjson")
        files[item["type"]] = resp.content
    return files


def _smart_client(server: Server, site: Site) -> Site:
    """A registered backend client with system/*.read and the access token it gets with a signed JWT."""
    from tests.smart.conftest import ASSERTION_TYPE, _rsa

    signer = _rsa("bulk-1")
    jwks = site.tmp / "bulk-client.jwks.json"
    jwks.write_text(json.dumps(signer.jwks), encoding="utf-8")
    added = mildpath(site.env, "fhir-client", "add", "bulk-analytics", "--jwks", str(jwks), "--scope",
                     "system/*.read", "--json")
    assert added.returncode == 0, added.stderr
    client_id = json.loads(added.stdout)["client_id"]
    token_url = server.url + "/auth/token"
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": token_url, "exp": now + 240, "jti": f"bulk-{now}"}
    resp = httpx.post(token_url, timeout=30, data={
        "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signer.sign(claims), "scope": "system/*.read"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["token_type"].lower() == "bearer" and resp.json()["scope"] == "system/*.read"
    return Site(site.env, site.data_dir, resp.json()["access_token"], site.tmp)


def test_a_bulk_data_client_kicks_off_polls_downloads_and_deletes(site: Site):
    server = site.server("flow", bulk_export_interval_seconds="1")
    try:
        site = _smart_client(server, site)  # a SMART backend client, not a person's token
        status_url = _group_export(server, site)
        manifest = _wait_for_manifest(status_url, site)
        assert manifest["requiresAccessToken"] is True and manifest["request"].endswith("/$export")
        files = _download(manifest, site)
        assert {"Patient", "Observation", "QuestionnaireResponse"} <= set(files)
        for item in manifest["output"]:
            lines = files[item["type"]].decode().splitlines()
            assert len(lines) == item["count"]
            for line in lines:
                resource = json.loads(line)
                get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert httpx.delete(status_url, headers=site.auth, timeout=30).status_code == 202
        assert httpx.get(status_url, headers=site.auth, timeout=30).status_code == 404
        assert httpx.get(manifest["output"][0]["url"], headers=site.auth, timeout=30).status_code == 404
    finally:
        server.stop()


def test_a_server_killed_mid_export_never_serves_half_files_and_the_next_one_finishes_the_job(site: Site):
    queued = site.server("queue", bulk_export_interval_seconds="0")  # no worker: the job waits
    try:
        status_path = urlsplit(_group_export(queued, site)).path  # each server below listens on a port of its own
        job_dir = site.data_dir / "bulk" / status_path.rsplit("/", 1)[-1]
        job_dir.mkdir(parents=True)
        os.mkfifo(job_dir / ".Patient.ndjson.part")  # the worker's first file: opening it blocks
    finally:
        queued.kill()

    stuck = site.server("stuck", bulk_export_interval_seconds="1")
    try:
        deadline = time.monotonic() + PATIENCE
        while httpx.get(stuck.url + status_path, headers=site.auth, timeout=30).headers.get("X-Progress") != "running":
            assert time.monotonic() < deadline, "the worker did not take the job"
            time.sleep(0.2)
    finally:
        stuck.kill()  # SIGKILL mid-export: the job row says running, the folder holds an open temporary file
    assert not any(p.name == "Patient.ndjson" for p in job_dir.iterdir())

    idle = site.server("idle", bulk_export_interval_seconds="0")
    try:
        resp = httpx.get(idle.url + status_path, headers=site.auth, timeout=30)
        assert resp.status_code == 202 and resp.headers["X-Progress"] == "running"  # never a manifest of half files
    finally:
        idle.stop()

    resumed = site.server("resumed", bulk_export_interval_seconds="1", bulk_export_stale_seconds="0")
    try:
        files = _download(_wait_for_manifest(resumed.url + status_path, site), site)
    finally:
        resumed.stop()
    assert sorted(p.name for p in job_dir.iterdir()) == sorted(f"{t}.ndjson" for t in files)  # no temporary files
    out = site.tmp / "cli-export"
    assert mildpath(site.env, "export", "fhir", "--out", str(out)).returncode == 0
    assert files == {p.name.removesuffix(".ndjson"): p.read_bytes() for p in out.glob("*.ndjson")}
