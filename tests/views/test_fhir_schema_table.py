"""The FHIR element table the compiler relies on is current and says what FHIR says."""

from __future__ import annotations

import pytest

from mildpath.population.views import schema
from mildpath.population.views.schema_build import SCHEMA_FILE, build, fhir_resources_version, render


def test_the_shipped_table_was_built_from_the_installed_fhir_resources_version():
    provenance = schema._table()["_provenance"]
    assert f"fhir.resources {fhir_resources_version()} " in provenance, (
        "fhir.resources changed: run python -m mildpath.population.views.schema_build"
    )


@pytest.mark.slow
def test_the_shipped_table_is_what_schema_build_makes_from_the_installed_fhir_models():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render(build()), (
        "fhir_schema.json is stale: run python -m mildpath.population.views.schema_build"
    )


ELEMENTS = [
    ("Patient", "name", schema.Element("HumanName", True)),
    ("HumanName", "given", schema.Element("string", True)),
    ("HumanName", "family", schema.Element("string", False)),
    ("Condition", "subject", schema.Element("Reference", False)),
    ("QuestionnaireResponseItemAnswer", "item", schema.Element("QuestionnaireResponseItem", True)),
    ("Patient", "nmae", None),
]


@pytest.mark.parametrize(("type_name", "name", "expected"), ELEMENTS, ids=[f"{t}.{n}" for t, n, _ in ELEMENTS])
def test_elements_have_their_fhir_type_and_cardinality(type_name, name, expected):
    assert schema.element(type_name, name) == expected


def test_choice_elements_list_their_alternatives_by_json_suffix():
    deceased = schema.element("Patient", "deceased")
    assert deceased is not None and dict(deceased.choices) == {"Boolean": "boolean", "DateTime": "dateTime"}
    value = schema.element("Observation", "value")
    assert value is not None and dict(value.choices)["Quantity"] == "Quantity"
