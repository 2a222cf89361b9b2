"""Browser: the education library is accessible (axe-core finds no WCAG 2.1 A/AA violation), works with a
keyboard and on a phone, and a new visitor can read, search and print it without logging in.

axe-core is vendored in ``tests/e2e/vendor/axe-core`` (MPL-2.0) and injected as an init script, which runs
before the page's own scripts and is not subject to the page's Content-Security-Policy (the app forbids inline
scripts, so ``add_script_tag`` would be refused).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.conftest import sign_in

from mildpath.demo import PATIENT_LOGINS

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return {
    passed: result.passes.length,
    violations: result.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary.replace(/\\s+/g, " ")),
    })),
  };
}"""


def _violations(page, url: str) -> list[dict]:  # type: ignore[no-untyped-def]
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url} answered {response and response.status}"
    page.wait_for_load_state("load")
    result = page.evaluate(RUN_AXE, WCAG_TAGS)
    assert result["passed"] >= 10, f"axe checked almost nothing on {url}: is it loaded?"
    return result["violations"]


def _report(violations: list[dict]) -> str:
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in violations)


@pytest.fixture
def audited(page):  # type: ignore[no-untyped-def]
    page.add_init_script(path=str(AXE))
    return page


PUBLIC_PAGES = [
    ("/", "start page"),
    ("/learn?lang=en", "library index"),
    ("/learn/how-mild-works?lang=en", "library page in English"),
    ("/learn/how-mild-works?lang=es", "library page in Spanish"),
    ("/learn/search?lang=en&q=when+can+I+lift+my+grandchild", "search results"),
    ("/learn/glossary?lang=en", "glossary"),
    ("/login", "login page"),
]


def test_public_pages_have_no_wcag_21_aa_violations(audited, live_server):
    found = {name: _violations(audited, live_server + path) for path, name in PUBLIC_PAGES}
    failing = {name: v for name, v in found.items() if v}
    assert not failing, "\n".join(f"{name}:\n{_report(v)}" for name, v in failing.items())


def test_the_demo_patients_chart_and_learning_page_have_no_wcag_21_aa_violations(audited, live_server):
    email, password, _ = PATIENT_LOGINS[0]
    sign_in(audited, live_server, email, password)
    chart = audited.url
    assert "/patients/" in chart
    found = {"chart": _violations(audited, chart), "learn": _violations(audited, live_server + "/me/learn")}
    assert "/learn" in audited.url and audited.locator("#facts").count() == 1
    failing = {name: v for name, v in found.items() if v}
    assert not failing, "\n".join(f"{name}:\n{_report(v)}" for name, v in failing.items())


def test_the_keyboard_reaches_the_search_box_and_a_glossary_definition(page, live_server):
    page.goto(live_server + "/learn?lang=en")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == "q":
            break
    else:
        pytest.fail("Tab never reached the search box")
    page.keyboard.type("wound")
    page.keyboard.press("Enter")
    page.wait_for_selector("#results")

    page.goto(live_server + "/learn/how-mild-works?lang=en")
    term = page.locator("dfn.glossary-term").first
    definition = page.locator(".glossary-definition").first
    assert not definition.is_visible(), "definitions stay hidden until asked for"
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.classList.contains('glossary-term')"):
            break
    else:
        pytest.fail("Tab never reached a glossary term")
    assert term.evaluate("el => el === document.activeElement")
    assert definition.is_visible()
    assert definition.inner_text().strip() == term.get_attribute("title")


def test_the_library_fits_a_phone_screen(phone, live_server):
    for path in ("/learn", "/learn/how-mild-works", "/learn/search?q=lift", "/learn/glossary"):
        phone.goto(live_server + path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, f"{path} scrolls sideways"
    phone.goto(live_server + "/learn/how-mild-works")
    phone.locator("dfn.glossary-term").last.tap()
    assert phone.locator(".glossary-definition").last.is_visible(), "a tap on a term shows its definition"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "an open definition scrolls sideways"


def test_a_new_visitor_reads_searches_and_prints_without_logging_in(page, live_server):
    page.goto(live_server + "/")
    page.click("text=Learn about mild")
    assert page.url.endswith("/learn")
    page.click("#pages li >> nth=0 >> a")
    assert page.locator("article.learn-page h1").count() == 1

    page.goto(live_server + "/")
    page.click("text=Ask a question")
    page.fill("#q", "When can I lift my grandchild?")
    page.press("#q", "Enter")
    page.wait_for_selector("#results")
    page.click("#results li >> nth=0 >> a")
    assert page.url.endswith("#lifting"), page.url
    assert page.locator("section#lifting").is_visible()

    with page.expect_download() as info:
        page.click("text=Download a printable handout (PDF)")
    download = info.value
    assert download.suggested_filename == "mild-recovery-en.pdf"
    assert Path(download.path()).read_bytes()[:5] == b"%PDF-"
    assert "/login" not in page.url
