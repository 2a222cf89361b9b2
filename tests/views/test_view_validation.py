"""Invalid ViewDefinitions and unsupported FHIRPath are refused before any data is read, naming the place."""

from __future__ import annotations

import pytest

from mildpath.population.views import InvalidView, compile_view
from mildpath.population.views import fhirpath as fp


def view(**overrides):
    base = {"resource": "Patient", "select": [{"column": [{"name": "id", "path": "id"}]}]}
    return {**base, **overrides}


def columns(*cols):
    return view(select=[{"column": list(cols)}])


REFUSED = [
    ("not an object", [], "must be a JSON object"),
    ("no resource", {"select": [{"column": [{"name": "id", "path": "id"}]}]}, "resource"),
    ("unknown resource type", view(resource="Patinet"), "not a FHIR resource type"),
    ("no select", {"resource": "Patient"}, "select"),
    ("unknown top-level key", view(selects=[]), "unknown element 'selects'"),
    ("unknown select key", view(select=[{"colum": []}]), "unknown element 'colum'"),
    ("unknown column key", columns({"name": "id", "path": "id", "typ": "id"}), "unknown element 'typ'"),
    ("bad column name", columns({"name": "1id", "path": "id"}), "must match"),
    ("column name with space", columns({"name": "pat id", "path": "id"}), "must match"),
    ("missing column path", columns({"name": "id"}), "non-empty string"),
    ("collection not boolean", columns({"name": "id", "path": "id", "collection": "yes"}), "true or false"),
    ("unknown column type", columns({"name": "id", "path": "id", "type": "strnig"}), "unknown FHIR type"),
    ("duplicate column", columns({"name": "id", "path": "id"}, {"name": "id", "path": "gender"}), "more than once"),
    (
        "forEach and forEachOrNull",
        view(select=[{"forEach": "name", "forEachOrNull": "name", "column": []}]),
        "only one",
    ),
    ("empty select", view(select=[{"forEach": "name"}]), "at least one of column"),
    ("forEach not text", view(select=[{"forEach": 1, "column": []}]), "non-empty string"),
    ("empty repeat", view(select=[{"repeat": [], "column": [{"name": "a", "path": "id"}]}]), "at least one path"),
    (
        "union branches differ",
        view(
            select=[
                {"unionAll": [{"column": [{"name": "a", "path": "id"}]}, {"column": [{"name": "b", "path": "id"}]}]}
            ]
        ),
        "same columns",
    ),
    ("constant without value", view(constant=[{"name": "c"}]), "exactly one value"),
    ("constant with two values", view(constant=[{"name": "c", "valueString": "a", "valueCode": "b"}]), "exactly one"),
    ("constant of the wrong JSON type", view(constant=[{"name": "c", "valueInteger": "1"}]), "wrong JSON type"),
    ("undefined constant", columns({"name": "a", "path": "name.where(use = %nope).family"}), "%nope"),
    ("syntax error", columns({"name": "a", "path": "name..family"}), "cannot parse"),
    ("unbalanced parenthesis", columns({"name": "a", "path": "name.where(use = 'x'"}), "or ')'"),
    ("unsupported function", columns({"name": "a", "path": "name.descendants()"}), "not supported"),
    ("quantity literal", columns({"name": "a", "path": "5 'mg'"}), "quantity"),
    ("where path not boolean", view(where=[{"path": "name.family"}]), "must return a boolean"),
    ("getResourceKey off a resource", columns({"name": "a", "path": "name.getResourceKey()"}), "applies to a resource"),
    (
        "getReferenceKey of a non-resource type",
        columns({"name": "a", "path": "link.other.getReferenceKey(HumanName)"}),
        "not a resource type",
    ),
]


@pytest.mark.parametrize(("case", "definition", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_invalid_view_is_refused_with_a_message_naming_the_problem(case, definition, message):
    with pytest.raises(InvalidView) as caught:
        compile_view(definition)
    assert message in str(caught.value)
    assert str(caught.value).startswith("invalid view")


def test_the_error_names_the_field_that_holds_the_problem():
    with pytest.raises(InvalidView) as caught:
        compile_view(
            view(select=[{"column": [{"name": "id", "path": "id"}]}, {"column": [{"name": "x", "path": "@@"}]}])
        )
    assert "select[1].column[0].path" in str(caught.value)


ACCEPTED = [
    (
        "canonical metadata",
        view(
            resourceType="ViewDefinition",
            url="http://x/v",
            name="pts",
            status="active",
            title="t",
            description="d",
            fhirVersion=["4.0.1"],
            meta={"profile": ["p"]},
        ),
    ),
    (
        "column tags and descriptions",
        columns({"name": "id", "path": "id", "description": "d", "tag": [{"name": "ansi/type", "value": "CHAR(64)"}]}),
    ),
    ("primitive extension sibling", {**view(), "_resource": {"extension": []}}),
    ("type name prefix", columns({"name": "id", "path": "Patient.id"})),
    (
        "every constant type",
        view(
            constant=[
                {"name": "a", "valueDate": "2020-01-01"},
                {"name": "b", "valueDecimal": 1.5},
                {"name": "c", "valueBoolean": False},
                {"name": "d", "valueInteger": 3},
            ]
        ),
    ),
]


@pytest.mark.parametrize(("case", "definition"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_valid_views_with_optional_elements_compile(case, definition):
    assert compile_view(definition).column_names


PARSED = [
    ("navigation", "name.given", fp.Member(fp.Ident("name"), "given")),
    ("index", "name[0]", fp.Index(fp.Ident("name"), fp.Literal(0, "integer"))),
    (
        "function with argument",
        "where(use = 'x')",
        fp.Call(None, "where", (fp.Binary("=", fp.Ident("use"), fp.Literal("x", "string")),)),
    ),
    (
        "and binds tighter than or",
        "a or b and c",
        fp.Binary("or", fp.Ident("a"), fp.Binary("and", fp.Ident("b"), fp.Ident("c"))),
    ),
    (
        "multiplication before addition",
        "1 + 2 * 3",
        fp.Binary("+", fp.Literal(1, "integer"), fp.Binary("*", fp.Literal(2, "integer"), fp.Literal(3, "integer"))),
    ),
    ("constant", "%rowIndex", fp.Constant("rowIndex")),
    ("delimited identifier", "`div`", fp.Ident("div")),
    ("string escapes", r"'it\'s'", fp.Literal("it's", "string")),
    ("date literal", "@2020-01-02", fp.Literal("2020-01-02", "date")),
    ("dateTime literal", "@2020-01-02T10:00:00Z", fp.Literal("2020-01-02T10:00:00Z", "dateTime")),
    ("time literal", "@T10:30", fp.Literal("10:30", "time")),
    ("decimal", "1.50", fp.Literal(1.5, "decimal")),
    ("empty collection", "{}", fp.Literal(None, "empty")),
    ("$this", "$this", fp.This()),
    ("unary minus", "-1", fp.Unary("-", fp.Literal(1, "integer"))),
]


@pytest.mark.parametrize(("case", "text", "tree"), PARSED, ids=[p[0] for p in PARSED])
def test_fhirpath_parses_to_the_expected_tree(case, text, tree):
    assert fp.parse(text) == tree
