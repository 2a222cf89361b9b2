"""What the official suite does not pin down: reference keys, the schema-free fallback, the text prefilter,
errors the specification requires on data, and the compiled SQL run over a table another engine owns."""

from __future__ import annotations

import json

import pytest

from mildpath.population.views import ViewDataError, compile_view, connect, evaluate, parse_view
from mildpath.population.views.compiler import REPEAT_DEPTH, literal_prefilter
from mildpath.population.views.sql import Dialect


def rows(view, resources):
    return evaluate(view, resources)


def patient_view(*cols, where=None):
    view = {"resource": "Patient", "select": [{"column": [{"name": n, "path": p, **k} for n, p, k in cols]}]}
    if where:
        view["where"] = [{"path": w} for w in where]
    return view


REFERENCES = [
    ("relative", "Patient/p1", "p1", "p1"),
    ("urn:uuid as Bulk exports write it", "urn:uuid:9f0c-11", "9f0c-11", "9f0c-11"),
    ("absolute URL", "http://example.org/fhir/Patient/p1", "p1", "p1"),
    ("versioned", "Patient/p1/_history/3", "p1", "p1"),
    ("another type", "Organization/o1", "o1", None),
    ("contained", "#c1", None, None),
    ("logical (identifier search)", "Patient?identifier=http://x|123", None, None),
]


@pytest.mark.parametrize(("case", "reference", "untyped", "typed"), REFERENCES, ids=[r[0] for r in REFERENCES])
def test_reference_keys_match_resource_keys_for_every_reference_shape(case, reference, untyped, typed):
    resource = {
        "resourceType": "Observation",
        "id": "o",
        "status": "final",
        "code": {"text": "x"},
        "subject": {"reference": reference},
    }
    view = {
        "resource": "Observation",
        "select": [
            {
                "column": [
                    {"name": "any", "path": "subject.getReferenceKey()"},
                    {"name": "patient", "path": "subject.getReferenceKey(Patient)"},
                ]
            }
        ],
    }
    assert rows(view, [resource]) == [{"any": untyped, "patient": typed}]


def test_elements_the_fhir_table_does_not_know_are_still_navigated():
    resource = {"resourceType": "Patient", "id": "p", "madeUp": [{"x": 1}, {"x": [2, 3]}], "single": {"x": "a"}}
    view = patient_view(
        ("xs", "madeUp.x", {"collection": True}),
        ("first", "madeUp.first().x", {}),
        ("single", "single.x", {}),
        ("missing", "nothing.x", {}),
    )
    assert rows(view, [resource]) == [{"xs": [1, 2, 3], "first": 1, "single": "a", "missing": None}]


def test_contained_resources_are_filtered_by_type_and_navigated_by_their_schema():
    resource = {
        "resourceType": "MedicationRequest",
        "id": "m",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p"},
        "contained": [
            {"resourceType": "Medication", "id": "med", "code": {"coding": [{"code": "123"}]}},
            {"resourceType": "Patient", "id": "x"},
        ],
    }
    view = {
        "resource": "MedicationRequest",
        "select": [{"column": [{"name": "code", "path": "contained.ofType(Medication).code.coding.code.first()"}]}],
    }
    assert rows(view, [resource]) == [{"code": "123"}]


def test_a_path_with_several_values_in_a_plain_column_is_a_data_error():
    view = patient_view(("given", "name.given", {}))
    assert rows(view, [{"resourceType": "Patient", "name": [{"given": ["a"]}]}]) == [{"given": "a"}]
    with pytest.raises(ViewDataError, match="more than one value"):
        rows(view, [{"resourceType": "Patient", "name": [{"given": ["a", "b"]}]}])


def test_repeat_deeper_than_the_unrolled_depth_is_a_data_error_not_silent_loss():
    item: dict = {"linkId": "leaf"}
    for depth in range(REPEAT_DEPTH + 1):
        item = {"linkId": str(depth), "item": [item]}
    resource = {"resourceType": "QuestionnaireResponse", "id": "q", "status": "completed", "item": [item]}
    view = {
        "resource": "QuestionnaireResponse",
        "select": [{"repeat": ["item"], "column": [{"name": "l", "path": "linkId"}]}],
    }
    with pytest.raises(ViewDataError, match="deeper"):
        rows(view, [resource])
    shallow = {
        "resourceType": "QuestionnaireResponse",
        "id": "q",
        "status": "completed",
        "item": [{"linkId": "1", "item": [{"linkId": "1.1"}]}],
    }
    assert [r["l"] for r in rows(view, [shallow])] == ["1", "1.1"]


PREFILTERED = [
    ("equality", "gender = 'female'", True),
    ("inside where()", "name.where(use = 'official').exists()", True),
    ("startsWith", "name.family.first().startsWith('Smi')", True),
    ("either side of or", "gender = 'female' or gender = 'male'", True),
    ("negation gives no text test", "(gender = 'female').not()", False),
    ("a literal with a slash may be escaped", "name.family = 'a/b'", False),
    ("a key is not a JSON string of the resource", "getResourceKey() = 'p1'", False),
]


@pytest.mark.parametrize(("case", "where", "prefiltered"), PREFILTERED, ids=[p[0] for p in PREFILTERED])
def test_where_literals_become_a_text_test_only_where_that_is_sound(case, where, prefiltered):
    view = parse_view(patient_view(("id", "id", {}), where=[where]))
    assert (literal_prefilter(view, Dialect(), "resource") is not None) is prefiltered


def test_the_text_prefilter_keeps_every_resource_the_where_path_keeps():
    resources = [
        {"resourceType": "Patient", "id": "spaced", "gender": "female"},
        '{"resourceType" : "Patient" , "id" : "pretty", "gender" : "female"}',
        {"resourceType": "Patient", "id": "m", "gender": "male"},
        {"resourceType": "Patient", "id": "named", "name": [{"use": "official", "family": "Smith"}]},
        '{"resourceType":"Patient","id":"escaped","gender":"fem\\u0061le"}',
    ]
    view = patient_view(("id", "id", {}), where=["gender = 'female' or name.where(use = 'official').exists()"])
    assert sorted(r["id"] for r in rows(view, resources)) == ["escaped", "named", "pretty", "spaced"]


def test_only_the_views_resource_type_is_read_even_when_another_type_mentions_it():
    resources = [
        {"resourceType": "Patient", "id": "p"},
        {
            "resourceType": "Bundle",
            "id": "b",
            "type": "collection",
            "entry": [{"resource": {"resourceType": "Patient", "id": "inner"}}],
        },
        {"resourceType": "Observation", "id": "o", "status": "final", "code": {"text": "Patient"}},
    ]
    assert rows(patient_view(("id", "id", {})), resources) == [{"id": "p"}]


def test_the_compiled_sql_runs_over_a_table_with_another_column_name():
    con = connect()
    con.execute("CREATE TABLE raw_lines (line VARCHAR)")
    con.execute(
        "INSERT INTO raw_lines VALUES (?), (?)",
        [
            json.dumps({"resourceType": "Patient", "id": "a", "birthDate": "1950-02-03"}),
            json.dumps({"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/a"}}),
        ],
    )
    compiled = compile_view(
        patient_view(("id", "getResourceKey()", {}), ("born", "birthDate", {})), resource_column="line"
    )
    assert con.execute(compiled.sql("raw_lines")).fetchall() == [("a", "1950-02-03")]
    assert [c.sql_type for c in compiled.columns] == ["VARCHAR", "VARCHAR"]


def test_typed_columns_come_out_as_sql_types():
    compiled = compile_view(
        patient_view(
            ("active", "active", {}),
            ("births", "multipleBirth.ofType(integer)", {}),
            ("names", "name.family", {"collection": True}),
        )
    )
    assert [c.sql_type for c in compiled.columns] == ["BOOLEAN", "BIGINT", "VARCHAR[]"]
