"""Issue 20's "done when", as a script against a real server with only its API, its pages and the stand-in SMS
gateway (a real HTTP server): the EHR enrols a patient with a ServiceRequest (``POST /fhir/ServiceRequest``); the
patient gets a text invitation, opens the link (once: a second time it is refused), completes a questionnaire from
the reminder's link (the clinic's hourly ``mildpath reminders send``), invites a caregiver by text; the caregiver
opens their link and fills a diary entry that the clinician sees as entered by the caregiver. Then, in a
phone-sized browser, a Spanish-speaking patient opens a sign-in link from a text and reads the page in Spanish; and
the patient's whole part (invitation link, reminder link, the pain scale by tapping, a caregiver invited) on a phone,
in English and in Spanish."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest
from tests.e2e.conftest import ROOT, _free_port, start_server
from tests.helpers import csrf_from
from tests.messaging.conftest import TOKEN

from mildpath.demo import CLINICIANS

pytestmark = pytest.mark.e2e
LINK = re.compile(r"(/access/[A-Za-z0-9_-]+)")


@pytest.fixture(scope="module")
def reach(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    data = tmp_path_factory.mktemp("reach")
    port_file = data / "gateway-port"
    gateway = subprocess.Popen([sys.executable, str(ROOT / "tests/messaging/sms_gateway.py"), str(port_file), TOKEN])
    deadline = time.monotonic() + 60
    while not port_file.exists() or not port_file.read_text():
        assert gateway.poll() is None and time.monotonic() < deadline, "the stand-in gateway did not start"
        time.sleep(0.05)
    gateway_url = f"http://127.0.0.1:{port_file.read_text()}"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "MILDPATH_DATABASE_URL": f"sqlite:///{data / 'reach.db'}",
        "MILDPATH_DATA_DIR": str(data),
        "MILDPATH_SECRET_KEY": "reach-secret-key-long-enough-0123456789abcdef",
        "MILDPATH_SMS_URL": gateway_url + "/messages",
        "MILDPATH_SMS_AUTH_HEADER": f"Authorization: Bearer {TOKEN}",
        "MILDPATH_OUTBOX_INTERVAL_SECONDS": "1",
        "MILDPATH_PUBLIC_URL": base,
        "MILDPATH_QUIET_HOURS": "",
    }
    mildpath = [sys.executable, "-m", "mildpath"]
    subprocess.run([*mildpath, "demo"], env=env, check=True, capture_output=True, cwd=ROOT)
    token = subprocess.run([*mildpath, "token", "create", CLINICIANS[0][0]], env=env, check=True,
                           capture_output=True, text=True, cwd=ROOT).stdout.strip()
    server, base, log = start_server(env, data, port=port)
    yield {"base": base, "gateway": gateway_url, "clinician": {"Authorization": f"Bearer {token}"}, "env": env}
    server.terminate()
    gateway.kill()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def _text_to(reach: dict[str, object], number: str, count: int = 1, timeout: float = 90.0) -> list[str]:
    """The texts the gateway delivered to ``number`` (waits for ``count`` of them)."""
    deadline = time.monotonic() + timeout
    while True:
        state = httpx.get(f"{reach['gateway']}/state", timeout=30).json()
        texts = [d["text"] for d in state["delivered"] if d["to"] == number]
        if len(texts) >= count or time.monotonic() > deadline:
            return texts
        time.sleep(0.5)


def _open(client: httpx.Client, base: str, text: str) -> httpx.Response:
    path = LINK.search(text).group(1)  # type: ignore[union-attr]
    page = client.get(base + path)
    assert page.status_code == 200, page.text[:300]
    return client.post(base + path, data={"csrf_token": csrf_from(page.text)})


SERVICE_REQUEST = {
    "resourceType": "ServiceRequest", "identifier": [{"system": "urn:ehr", "value": "SR-REACH-1"}],
    "status": "active", "intent": "order", "occurrenceDateTime": (date.today() + timedelta(days=30)).isoformat(),
    "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "0275T"}]},
    "subject": {"reference": "#p"},
    "contained": [{"resourceType": "Patient", "id": "p", "identifier": [{"value": "REACH-1"}],
                   "name": [{"family": "Ortega", "given": ["Elena"]}], "birthDate": "1952-06-01",
                   "gender": "female", "telecom": [{"system": "phone", "value": "+15550009999"}],
                   "communication": [{"language": {"coding": [{"code": "es"}]}}]}],
}


def _complete_a_questionnaire(client: httpx.Client, base: str, pid: int) -> httpx.Response:
    """Start the pain scale of the open timepoint and answer every step (3 of 10)."""
    page = client.get(f"{base}/patients/{pid}/questionnaires")
    timepoint = re.search(r'data-timepoint="([a-z0-9]+)"', page.text).group(1)  # type: ignore[union-attr]
    resp = client.post(f"{base}/patients/{pid}/questionnaires/start", data={
        "csrf_token": csrf_from(page.text), "instrument": "nprs", "timepoint": timepoint})
    for _ in range(10):
        assert resp.status_code == 303, resp.text[:300]
        if "done=1" in resp.headers["location"]:
            break
        url = base + resp.headers["location"]
        step = client.get(url)
        items = dict.fromkeys(re.findall(r'name="(nprs-[a-z]+)"', step.text), "3")
        number = re.search(r'name="step" value="(\d+)"', step.text).group(1)  # type: ignore[union-attr]
        resp = client.post(url.split("?")[0], data={"csrf_token": csrf_from(step.text), "step": number,
                                                    "action": "next", **items})
    return resp


def test_the_reach_script(reach):  # type: ignore[no-untyped-def]
    base = str(reach["base"])
    enrolled = httpx.post(base + "/fhir/ServiceRequest", params={"sms_consent": "true"}, json=SERVICE_REQUEST,
                          headers=reach["clinician"], timeout=60)
    assert enrolled.status_code == 201, enrolled.text
    assert enrolled.headers["location"] == f"{base}/fhir/ServiceRequest/{enrolled.json()['id']}"
    pid = int(enrolled.json()["subject"]["reference"].removeprefix("Patient/"))
    again = httpx.post(base + "/fhir/ServiceRequest", json=SERVICE_REQUEST, headers=reach["clinician"], timeout=60)
    assert again.status_code == 200 and again.json() == enrolled.json()

    (invitation,) = _text_to(reach, "+15550009999")
    assert invitation.startswith("mildpath: su clínica le invita")
    with httpx.Client(timeout=60) as patient:
        done = _open(patient, base, invitation)
        assert done.status_code == 303 and done.headers["location"] == "/me"
        path = LINK.search(invitation).group(1)  # type: ignore[union-attr]
        assert patient.get(base + path).status_code == 410  # a used link does not work twice

    subprocess.run([sys.executable, "-m", "mildpath", "reminders", "send"], env=reach["env"], check=True,
                   capture_output=True, cwd=ROOT)
    reminder = _text_to(reach, "+15550009999", count=2)[-1]
    assert reminder.startswith("mildpath: tiene un cuestionario pendiente")
    with httpx.Client(timeout=60) as patient:
        opened = _open(patient, base, reminder)
        assert opened.status_code == 303 and opened.headers["location"] == "/me/questionnaires"
        done = _complete_a_questionnaire(patient, base, pid)
        assert "done=1" in done.headers["location"]
        form = patient.get(f"{base}/patients/{pid}/caregivers")
        assert form.status_code == 200
        invited = patient.post(f"{base}/patients/{pid}/caregivers", data={
            "csrf_token": csrf_from(form.text), "name": "Luis", "relation": "hijo", "phone": "+15550008888",
            "channel": "sms", "share_diary": "yes"})
        assert invited.status_code == 303, invited.text[:300]

    (caregiver_text,) = _text_to(reach, "+15550008888")
    with httpx.Client(timeout=60) as luis:
        done = _open(luis, base, caregiver_text)
        assert done.status_code == 303 and done.headers["location"] == "/caregiving"
        diary = luis.get(f"{base}/patients/{pid}/diary")
        assert diary.status_code == 200
        saved = luis.post(f"{base}/patients/{pid}/diary", data={"csrf_token": csrf_from(diary.text),
                                                                 "pain_back": "5", "notes": "durmió mal"})
        assert saved.status_code == 303, saved.text[:300]
        assert luis.get(f"{base}/patients/{pid}").status_code == 403  # nothing that was not shared

    entries = httpx.get(f"{base}/api/v1/patients/{pid}/diary", headers=reach["clinician"], timeout=60).json()
    assert [e["entered_by_caregiver"] for e in entries["items"]] == ["Luis (hijo)"]


def test_a_spanish_patient_opens_a_sign_in_link_on_a_phone(reach, phone):  # type: ignore[no-untyped-def]
    base = str(reach["base"])
    patients = httpx.get(base + "/api/v1/patients", params={"q": "Ortega"}, headers=reach["clinician"],
                         timeout=60).json()["items"]
    if not patients:
        pytest.skip("runs after the script test, which enrols the patient")
    sent = httpx.post(base + "/api/v1/access-links", json={"patient_id": patients[0]["id"], "channel": "sms",
                                                            "target": "/me/diary"},
                      headers=reach["clinician"], timeout=60)
    assert sent.status_code == 201, sent.text
    texts = _text_to(reach, "+15550009999", count=3)
    assert texts[-1].startswith("mildpath: su enlace para entrar")
    phone.goto(base + LINK.search(texts[-1]).group(1))  # type: ignore[union-attr]
    assert phone.locator("html").get_attribute("lang") == "es" and "Seguir" in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 400
    phone.tap("form.stack button[type=submit]")
    phone.wait_for_url(re.compile(rf".*/patients/{patients[0]['id']}/diary$"), timeout=60_000)
    assert "Diario" in phone.content() or "diario" in phone.content()


@pytest.mark.parametrize(("language", "words"), [
    ("en", {"continue": "Continue"}),
    ("es", {"continue": "Seguir"}),
])
def test_the_patients_part_on_a_phone(reach, browser, language, words):  # type: ignore[no-untyped-def]
    """Issue 20: the patient's part in a phone-sized browser, in English and in Spanish: the EHR enrols her, the
    text invitation's link opens her pathway, the reminder's link opens her questionnaires, she answers the pain
    scale by tapping, and invites a caregiver by text."""
    base = str(reach["base"])
    phone_number = {"en": "+15550007001", "es": "+15550007002"}[language]
    request = {**SERVICE_REQUEST, "identifier": [{"system": "urn:ehr", "value": f"SR-PHONE-{language}"}]}
    patient = {**SERVICE_REQUEST["contained"][0], "identifier": [{"value": f"PHONE-{language}"}],
               "name": [{"family": f"Phone{language.upper()}", "given": ["Marta"]}],
               "telecom": [{"system": "phone", "value": phone_number}],
               "communication": [{"language": {"coding": [{"code": language}]}}]}
    request["contained"] = [patient]
    enrolled = httpx.post(base + "/fhir/ServiceRequest", params={"sms_consent": "true"}, json=request,
                          headers=reach["clinician"], timeout=60)
    assert enrolled.status_code == 201, enrolled.text
    pid = int(enrolled.json()["subject"]["reference"].removeprefix("Patient/"))

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    try:
        (invitation,) = _text_to(reach, phone_number)
        phone.goto(base + LINK.search(invitation).group(1))  # type: ignore[union-attr]
        assert phone.locator("html").get_attribute("lang") == language and words["continue"] in phone.content()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 400  # no sideways scrolling
        phone.tap("form.stack button[type=submit]")
        phone.wait_for_url(re.compile(rf".*/(me|patients/{pid})$"), timeout=60_000)  # /me is her chart

        subprocess.run([sys.executable, "-m", "mildpath", "reminders", "send"], env=reach["env"], check=True,
                       capture_output=True, cwd=ROOT)
        reminder = _text_to(reach, phone_number, count=2)[-1]
        phone.goto(base + LINK.search(reminder).group(1))  # type: ignore[union-attr]
        phone.tap("form.stack button[type=submit]")
        phone.wait_for_url(re.compile(rf".*/(me|patients/{pid})/questionnaires$"), timeout=60_000)
        assert phone.locator("html").get_attribute("lang") == language
        with phone.expect_navigation():
            phone.locator("li[data-instrument='nprs'] button").first.tap()
        for _ in range(10):  # one step per item: tap the answer 3, then next
            if "done=1" in phone.url:
                break
            for name in dict.fromkeys(phone.eval_on_selector_all(
                    "input[type=radio][name^='nprs-']", "els => els.map(e => e.name)")):
                radio = phone.locator(f"input[type=radio][name='{name}'][value='3']")
                phone.locator(f"label[for='{radio.get_attribute('id')}']").tap()
            with phone.expect_navigation():
                phone.tap("#next")
        assert "done=1" in phone.url, phone.url

        phone.goto(f"{base}/patients/{pid}/caregivers")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 400
        phone.fill("input[name=name]", "Tomás")
        phone.fill("input[name=relation]", "hijo" if language == "es" else "son")
        phone.fill("input[name=phone]", phone_number[:-1] + "9")
        phone.locator("input[name=channel][value=sms]").check()
        phone.locator("input[name=share_diary]").check()
        with phone.expect_navigation():
            phone.locator("form:has(input[name=relation]) button[type=submit]").tap()
        assert "Tomás" in phone.content()
    finally:
        context.close()
    assert _text_to(reach, phone_number[:-1] + "9"), "the caregiver's invitation went out by text"
