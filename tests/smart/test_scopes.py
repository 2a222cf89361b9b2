"""The SMART system scope parser (domain/smart_scopes.py): v1 and v2 syntax, per type and for every type."""

from __future__ import annotations

import pytest

from mildpath.domain.smart_scopes import allows, grant, parse


@pytest.mark.parametrize("scope", ["system/*.read", "system/*.rs", "system/*.cruds", "system/*.*"])
def test_a_wildcard_read_scope_allows_read_and_search_of_any_type(scope):
    assert allows(scope, "Observation", "read") and allows(scope, "Patient", "search")


def test_a_per_type_scope_allows_that_type_only():
    assert allows("system/Patient.read", "Patient", "read")
    assert not allows("system/Patient.read", "Observation", "read")


def test_v2_permissions_are_letter_by_letter():
    assert allows("system/Observation.s", "Observation", "search")
    assert not allows("system/Observation.s", "Observation", "read")
    assert not allows("system/*.rs", "Patient", "create")


@pytest.mark.parametrize(
    "text", ["patient/*.read", "user/Patient.rs", "system/*.sr", "system/*.rr", "system/Patient.rs?category=x", "x"]
)
def test_other_contexts_misordered_letters_and_granular_queries_grant_nothing(text):
    assert parse(text) is None
    assert not allows(text, "Patient", "read")


def test_a_request_is_granted_only_what_the_registration_covers():
    assert grant("system/Patient.read system/*.read", "system/Patient.rs") == ["system/Patient.read"]
    assert grant("system/*.rs", "system/*.read") == ["system/*.rs"]
    assert grant("system/*.read", "system/Patient.read system/Observation.read") == []
    assert grant("system/Observation.rs system/Observation.rs", "system/*.rs") == ["system/Observation.rs"]
