"""Fuzzing of the pure parsers with Hypothesis (issue 21, "Beyond the list").

The FHIR reader (resource dicts and whole files), the diary text reader, the criteria YAML loader and the view
runner's FHIRPath parser get generated input, some of it random and some of it a near miss of the real thing.
The promise: the only exceptions are the documented ones (the ``InvalidInput`` family; ``ContentError`` for a
content file), never a ``KeyError``, ``TypeError``, ``RecursionError``... Generation is derandomized and each
test's example count is bounded, so the file takes well under a minute and CI sends the same inputs every time.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mildpath.content.criteria import CRITERIA_DIR, load_criteria_set
from mildpath.content.sources import ContentError
from mildpath.content.symptoms import load_symptom_vocabulary
from mildpath.domain.errors import InvalidInput
from mildpath.domain.symptoms import read_symptoms
from mildpath.fhir.read import facts_from_resources, read_fhir_file
from mildpath.population.views.fhirpath import parse as parse_fhirpath

FUZZ = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow], database=None
)

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)
RESOURCE_TYPES = ["Patient", "Condition", "Observation", "Procedure", "MedicationRequest", "Bundle", "Encounter"]
FHIR_KEYS = [
    "resourceType", "id", "subject", "code", "coding", "system", "display", "valueQuantity", "value", "unit",
    "effectiveDateTime", "onsetDateTime", "recordedDate", "birthDate", "gender", "status", "clinicalStatus",
    "verificationStatus", "entry", "resource", "reference", "performedDateTime", "performedPeriod", "start",
    "medicationCodeableConcept", "authoredOn", "valueCodeableConcept", "component",
]  # fmt: skip
near_fhir = st.recursive(
    scalars | st.sampled_from(RESOURCE_TYPES) | st.sampled_from(["2020-05-06", "2020-05", "x", "Patient/1"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FHIR_KEYS), inner, max_size=6),
    max_leaves=40,
)
resources = st.builds(
    lambda rtype, body: {**body, "resourceType": rtype} if isinstance(body, dict) else body,
    st.sampled_from(RESOURCE_TYPES) | st.text(max_size=10),
    near_fhir | json_values,
)


def _only_documented(call, *allowed: type[BaseException]) -> None:
    try:
        call()
    except (InvalidInput, *allowed):
        pass


@FUZZ
@given(st.lists(resources, max_size=5))
def test_the_fhir_reader_on_any_resources_raises_only_invalid_input(items):
    _only_documented(lambda: facts_from_resources(items))


@pytest.mark.parametrize("rtype", ["Procedure", "ServiceRequest", "MedicationRequest", "Observation"])
@pytest.mark.parametrize("status", [["completed"], {"code": "final"}, 7])
def test_a_status_that_is_not_a_code_is_read_as_no_status(rtype, status):
    # Hypothesis found it: a list as a Procedure's status raised TypeError (unhashable) in the reader.
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1950-01-01"}
    resource = {"resourceType": rtype, "id": "r1", "status": status, "subject": {"reference": "Patient/p1"}}
    _only_documented(lambda: facts_from_resources([patient, resource]))


_files = itertools.count()


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=200),
        st.lists(resources, max_size=4).map(lambda rs: "\n".join(json.dumps(r) for r in rs).encode()),
        resources.map(lambda r: json.dumps(r).encode()),
    ),
    st.sampled_from([".json", ".ndjson", ".json.gz"]),
    st.booleans(),
)
def test_the_fhir_file_reader_on_any_bytes_raises_only_invalid_input(content, suffix, require_patient):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"chart-{next(_files)}{suffix}"
        path.write_bytes(content)
        _only_documented(lambda: read_fhir_file(path, require_patient=require_patient))


VOCAB = load_symptom_vocabulary()
DIARY_WORDS = ["no", "not", "fever", "numb", "bladder", "leg", "pain", "weak", "39.5", "°C", "without", ",", "."]


@FUZZ
@given(st.text(max_size=300) | st.lists(st.sampled_from(DIARY_WORDS) | st.text(max_size=5), max_size=30).map(" ".join))
def test_the_diary_text_reader_reads_any_text(text):
    _only_documented(lambda: read_symptoms(text, VOCAB))


DEFAULT_CRITERIA = yaml.safe_load((CRITERIA_DIR / "default.yaml").read_text(encoding="utf-8"))
_sets = itertools.count()


def _mutate(data: object, path: list[int], replacement: object) -> object:
    """``data`` with the node reached by following ``path`` (indices taken modulo each size) replaced."""
    if not path or not isinstance(data, dict | list) or not data:
        return replacement
    if isinstance(data, dict):
        key = sorted(data, key=str)[int(path[0]) % len(data)]
        return {**data, key: _mutate(data[key], path[1:], replacement)}
    i = int(path[0]) % len(data)
    return [*data[:i], _mutate(data[i], path[1:], replacement), *data[i + 1 :]]


criteria_yaml = st.one_of(
    st.text(max_size=200),
    json_values.map(lambda v: yaml.safe_dump(v, allow_unicode=True)),
    st.builds(
        lambda path, new: yaml.safe_dump(_mutate(DEFAULT_CRITERIA, path, new), allow_unicode=True),
        st.lists(st.integers(0, 50), min_size=1, max_size=5),
        json_values,
    ),
)


@FUZZ
@given(criteria_yaml)
def test_the_criteria_loader_on_any_yaml_raises_only_content_errors(text):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        name = f"fuzz{next(_sets)}"
        (folder / "criteria").mkdir()
        (folder / "criteria" / f"{name}.yaml").write_text(text, encoding="utf-8")
        _only_documented(lambda: load_criteria_set(name, folder), ContentError)


FHIRPATH_TOKENS = [
    "Patient", "name", "given", ".", "where(", "exists()", ")", "(", "=", "!=", "and", "or", "'x'", "1", "2.5",
    "%resource", "$this", "[", "]", "0", "first()", "ofType(", "{", "}", "-", "+", "|", "is", "as", "`code`",
    "@2020-01-01", "true", "join(", ",",
]  # fmt: skip


@FUZZ
@given(st.text(max_size=80) | st.lists(st.sampled_from(FHIRPATH_TOKENS), max_size=25).map("".join) | json_values)
def test_the_fhirpath_parser_on_any_text_raises_only_invalid_view(text):
    _only_documented(lambda: parse_fhirpath(text, field="column.path"))
