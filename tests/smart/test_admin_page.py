"""The admin page ``/admin/fhir-clients``: an admin registers a client with its JWKS and disables it; a bad key set
is a 422 page naming the problem; other roles get 403."""

from __future__ import annotations

import json
import re

from tests.helpers import login, page_csrf


def test_an_admin_registers_then_disables_a_client(client, admin_ada, rsa_signer):
    login(client, admin_ada)
    token = page_csrf(client, "/admin/fhir-clients")
    resp = client.post("/admin/fhir-clients", data={
        "csrf_token": token, "name": "Registry analytics", "jwks": json.dumps(rsa_signer.jwks),
        "scopes": "system/*.read", "issuer": "", "clinic_id": "", "jwks_url": "",
    })
    assert resp.status_code == 200, resp.text[:500]
    client_id = re.search(r"Client id: <code>([^<]+)</code>", resp.text).group(1)
    assert "Registry analytics" in resp.text and "inline JWKS" in resp.text
    done = client.post(f"/admin/fhir-clients/{client_id}/disable", data={"csrf_token": token})
    assert done.status_code == 303
    page = client.get("/admin/fhir-clients").text
    row = page[page.index(client_id):].split("</tr>")[0]
    assert 'data-label="Active">no' in row


def test_a_key_set_that_is_not_json_or_holds_no_key_is_a_422_page(client, admin_ada):
    login(client, admin_ada)
    token = page_csrf(client, "/admin/fhir-clients")
    bad = client.post("/admin/fhir-clients", data={"csrf_token": token, "name": "X", "jwks": "{nope"})
    assert bad.status_code == 422 and "not JSON" in bad.text
    empty = client.post("/admin/fhir-clients", data={"csrf_token": token, "name": "X", "jwks": '{"keys": []}'})
    assert empty.status_code == 422 and "keys" in empty.text


def test_a_clinician_may_not_open_the_page(client, dr_alice):
    login(client, dr_alice)
    assert client.get("/admin/fhir-clients").status_code == 403
