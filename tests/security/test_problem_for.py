"""problem_for is a pure function of the exception (issue 16)."""

from __future__ import annotations

import sqlite3

from starlette.exceptions import HTTPException

from mildpath.domain.errors import InvalidInput, NotFound
from mildpath.web.problems import CsrfFailed, LoginRequired, TooManyAttempts, problem_for


def test_problem_for_maps_each_error_without_a_request() -> None:
    assert problem_for(NotFound("patient 7")).detail == "No such record, or it is not yours to see."
    assert problem_for(NotFound("x")).status == 404
    assert problem_for(LoginRequired()).headers == {"WWW-Authenticate": "Bearer"}
    assert problem_for(CsrfFailed()).status == 403
    assert problem_for(TooManyAttempts(30)).headers == {"Retry-After": "30"}
    assert problem_for(HTTPException(405)).title == "Method not allowed"
    assert problem_for(sqlite3.OperationalError("locked")).status == 503
    assert problem_for(RuntimeError("secret")).detail == "Something went wrong; nothing was saved."
    assert problem_for(InvalidInput("bad", field="age")).status == 422


def test_an_optional_part_not_installed_answers_501_naming_the_extra() -> None:
    spec = problem_for(ModuleNotFoundError("No module named 'weasyprint'", name="weasyprint"))
    assert (spec.status, spec.title) == (501, "Not installed")
    assert "install mildpath[pdf]" in spec.detail
    assert problem_for(ModuleNotFoundError("No module named 'mildpath.gone'", name="mildpath.gone")).status == 500
