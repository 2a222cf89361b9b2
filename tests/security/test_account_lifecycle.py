"""Issue 21, item 7: API tokens are listed and revoked, accounts deactivated, each audited and effective at
once (the next request gets 401), through the CLI against a running server on SQLite and PostgreSQL, and
through the admin pages."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from mildpath.settings import Settings
from mildpath.store.migrate import upgrade
from mildpath.store.models import ApiToken, AuditEvent
from tests.helpers import login, page_csrf
from tests.reliability.server import POSTGRES_URL, SECRET, Server, database, environment, mildpath

PASSWORD = "lifecycle-password-123"


def _actions(url: str) -> list[str]:
    engine = create_engine(url)
    with Session(engine) as s:
        actions = list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    engine.dispose()
    return actions


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_cli_token_list_revoke_and_user_deactivate_take_effect_at_the_next_request(backend, tmp_path):
    if backend == "postgres" and not POSTGRES_URL:
        pytest.skip("PostgreSQL run: set MILDPATH_TEST_POSTGRES_URL to test against PostgreSQL")
    with database(backend, tmp_path, "mp_lifecycle") as url:
        env = environment(url, tmp_path)
        upgrade(Settings(database_url=url, secret_key=SECRET, data_dir=str(tmp_path)))
        add = mildpath({**env, "MILDPATH_NEW_PASSWORD": PASSWORD}, "user", "add", "doc@example.org")
        assert add.returncode == 2 and "clinic" in add.stderr  # no clinic yet: bad input, exit 2
        assert mildpath(env, "demo").returncode == 0
        assert mildpath({**env, "MILDPATH_NEW_PASSWORD": PASSWORD}, "user", "add", "doc@example.org").returncode == 0
        tokens = [mildpath(env, "token", "create", "doc@example.org", "--name", n).stdout.strip() for n in "abc"]
        assert all(t.startswith("mp_") for t in tokens)
        server = Server(env, tmp_path / "server.log").start()
        try:
            def status(token: str) -> int:
                return httpx.get(server.url + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code

            assert [status(t) for t in tokens] == [200, 200, 200]
            listed = mildpath(env, "token", "list", "doc@example.org", "--json")
            assert listed.returncode == 0, listed.stderr
            rows = json.loads(listed.stdout)
            assert [r["name"] for r in rows] == ["a", "b", "c"]
            assert all(set(r) == {"id", "name", "created_at", "last_used_at"} for r in rows)
            assert all(r["last_used_at"] is not None for r in rows)  # each was used just now
            assert not any(t in listed.stdout for t in tokens)  # the values are never shown again

            revoke = mildpath(env, "token", "revoke", str(rows[0]["id"]))
            assert revoke.returncode == 0, revoke.stderr
            assert [status(t) for t in tokens] == [401, 200, 200]  # at once, in the running server
            again = mildpath(env, "token", "revoke", str(rows[0]["id"]))
            assert again.returncode == 2 and again.stderr.startswith("error:")
            assert mildpath(env, "token", "revoke").returncode == 2  # neither an id nor --all
            assert mildpath(env, "token", "list", "nobody@example.org", "--json").returncode == 2

            assert mildpath(env, "token", "revoke", "--all", "doc@example.org").returncode == 0
            assert [status(t) for t in tokens] == [401, 401, 401]
            assert json.loads(mildpath(env, "token", "list", "doc@example.org", "--json").stdout) == []

            fresh = mildpath(env, "token", "create", "doc@example.org").stdout.strip()
            assert status(fresh) == 200
            with httpx.Client(base_url=server.url) as browser:
                page = browser.get("/login")
                token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
                resp = browser.post("/login", data={"email": "doc@example.org", "password": PASSWORD,
                                                    "csrf_token": token})
                assert resp.status_code == 303
                assert browser.get("/patients").status_code == 200
                assert mildpath(env, "user", "deactivate", "doc@example.org").returncode == 0
                assert status(fresh) == 401
                assert browser.get("/patients").status_code == 303  # the session ended: back to the login
                assert browser.get("/patients").headers["location"].startswith("/login")
        finally:
            server.stop()
        actions = _actions(url)
        for action in ("token.list", "token.revoke", "token.revoke_all", "user.deactivate"):
            assert action in actions, action


def test_the_admin_page_lists_tokens_with_last_use_and_revokes_and_deactivates(
    client, db, admin_ada, dr_bob_other_clinic
):
    bob = dr_bob_other_clinic
    assert client.get("/api/v1/me", headers=bob.auth).status_code == 200
    login(client, admin_ada)
    page = client.get(f"/admin/users/{bob.user_id}")
    assert page.status_code == 200
    token = db.scalar(select(ApiToken).where(ApiToken.user_id == bob.user_id, ApiToken.revoked_at.is_(None)))
    assert token is not None and f">{token.id}<" in page.text and "never" not in page.text.split(token.name)[1][:200]
    csrf = page_csrf(client, f"/admin/users/{bob.user_id}")
    assert client.post(f"/admin/users/{bob.user_id}/tokens/{token.id}/revoke").status_code == 403  # CSRF
    done = client.post(f"/admin/users/{bob.user_id}/tokens/{token.id}/revoke", data={"csrf_token": csrf})
    assert done.status_code == 303
    assert client.get("/api/v1/me", headers=bob.auth).status_code == 401
    assert client.post(f"/admin/users/{bob.user_id}/deactivate", data={"csrf_token": csrf}).status_code == 303
    assert "deactivated" in client.get(f"/admin/users/{bob.user_id}").text
    mine = client.post(f"/admin/users/{admin_ada.user_id}/deactivate", data={"csrf_token": csrf})
    assert mine.status_code == 422  # an admin cannot lock themselves out
    assert client.get(f"/admin/users/{bob.user_id}", headers={}).status_code == 200


def test_only_admins_reach_the_account_pages(client, dr_alice, dr_bob_other_clinic):
    login(client, dr_alice)
    assert client.get(f"/admin/users/{dr_bob_other_clinic.user_id}").status_code == 403
