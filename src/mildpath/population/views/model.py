"""ViewDefinition (SQL on FHIR v2) as validated, immutable Python values.

``parse_view(data)`` checks the JSON against the logical model of the specification
(https://sql-on-fhir.org/ig/StructureDefinition-ViewDefinition.html) and refuses, with the field path of the
first problem, what the model forbids:

- unknown keys in ``select``, ``column``, ``constant`` and ``where`` (they are backbone elements: only their
  own elements plus ``id``/``extension``/``modifierExtension`` are allowed), and unknown top-level keys other
  than the canonical-resource metadata the model lists;
- a missing ``resource`` or ``select``, names that break the ``sql-name`` invariant
  ``^[A-Za-z][A-Za-z0-9_]*$``, duplicate column names, ``unionAll`` branches whose columns differ in name or
  order ("Column Already Defined" / "Union Branches Inconsistent" of the processing algorithm);
- more than one of ``forEach``/``forEachOrNull``/``repeat`` on one select, and constants without exactly one
  ``value[x]`` of a primitive type.

FHIRPath is parsed here (syntax errors are view errors); whether a function is supported and whether a
``where`` path is boolean are checked when the view is compiled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mildpath.population.views import fhirpath
from mildpath.population.views.errors import InvalidView

SQL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

# Elements every FHIR element may carry.
_ELEMENT_KEYS = {"id", "extension", "modifierExtension"}
# ViewDefinition is a canonical resource: its metadata elements are accepted and ignored.
_TOP_LEVEL_KEYS = {
    "resourceType",
    "id",
    "meta",
    "implicitRules",
    "language",
    "text",
    "contained",
    "extension",
    "modifierExtension",
    "url",
    "identifier",
    "version",
    "versionAlgorithmString",
    "versionAlgorithmCoding",
    "name",
    "title",
    "status",
    "experimental",
    "date",
    "publisher",
    "contact",
    "description",
    "useContext",
    "jurisdiction",
    "purpose",
    "copyright",
    "copyrightLabel",
    "resource",
    "resourceProfile",
    "fhirVersion",
    "profile",
    "constant",
    "select",
    "where",
}
_SELECT_KEYS = {"column", "select", "forEach", "forEachOrNull", "repeat", "unionAll"} | _ELEMENT_KEYS
_COLUMN_KEYS = {"path", "name", "description", "collection", "type", "tag"} | _ELEMENT_KEYS
_WHERE_KEYS = {"path", "description"} | _ELEMENT_KEYS
_TAG_KEYS = {"name", "value"} | _ELEMENT_KEYS

# value[x] of ViewDefinition.constant: the FHIR primitive types, with the JSON type each must have.
CONSTANT_TYPES: dict[str, tuple[str, type | tuple[type, ...]]] = {
    "valueBase64Binary": ("base64Binary", str),
    "valueBoolean": ("boolean", bool),
    "valueCanonical": ("canonical", str),
    "valueCode": ("code", str),
    "valueDate": ("date", str),
    "valueDateTime": ("dateTime", str),
    "valueDecimal": ("decimal", (int, float)),
    "valueId": ("id", str),
    "valueInstant": ("instant", str),
    "valueInteger": ("integer", int),
    "valueInteger64": ("integer64", (int, str)),
    "valueOid": ("oid", str),
    "valueString": ("string", str),
    "valuePositiveInt": ("positiveInt", int),
    "valueTime": ("time", str),
    "valueUnsignedInt": ("unsignedInt", int),
    "valueUri": ("uri", str),
    "valueUrl": ("url", str),
    "valueUuid": ("uuid", str),
}


@dataclass(frozen=True)
class Column:
    """One output column: ``name``, its FHIRPath, the declared FHIR ``type`` and whether it is a collection."""

    name: str
    path: str
    expr: fhirpath.Node
    type: str | None
    collection: bool
    field: str


@dataclass(frozen=True)
class Select:
    """A selection structure; at most one of ``for_each``/``for_each_or_null``/``repeat`` is set."""

    columns: tuple[Column, ...]
    selects: tuple[Select, ...]
    union_all: tuple[Select, ...]
    for_each: fhirpath.Node | None
    for_each_or_null: fhirpath.Node | None
    repeat: tuple[fhirpath.Node, ...]
    field: str


@dataclass(frozen=True)
class Constant:
    """A named constant: ``fhir_type`` is the primitive type of its ``value[x]``."""

    name: str
    fhir_type: str
    value: Any


@dataclass(frozen=True)
class Where:
    """A filter: resources for which ``path`` is not true produce no rows."""

    path: str
    expr: fhirpath.Node
    field: str


@dataclass(frozen=True)
class ViewDefinition:
    """A parsed, validated ViewDefinition; ``column_names`` are in output order."""

    resource: str
    name: str | None
    selects: tuple[Select, ...]
    constants: tuple[Constant, ...]
    where: tuple[Where, ...]
    column_names: tuple[str, ...]
    source: Mapping[str, Any]


def _check_keys(data: Mapping[str, Any], allowed: set[str], field: str) -> None:
    for key in data:
        if key.startswith("_") and key[1:] in allowed:  # a primitive's id/extension sibling
            continue
        if key not in allowed:
            raise InvalidView(f"unknown element {key!r}", field=field)


def _object(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidView(f"must be a JSON object, not {type(value).__name__}", field=field)
    return value


def _array(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidView(f"must be a JSON array, not {type(value).__name__}", field=field)
    return value


def _parse_column(data: Any, field: str) -> Column:
    data = _object(data, field)
    _check_keys(data, _COLUMN_KEYS, field)
    name = data.get("name")
    if not isinstance(name, str) or not SQL_NAME.match(name):
        raise InvalidView(f"column name {name!r} must match ^[A-Za-z][A-Za-z0-9_]*$", field=f"{field}.name")
    path = data.get("path")
    expr = fhirpath.parse(path, field=f"{field}.path")
    collection = data.get("collection", False)
    if not isinstance(collection, bool):
        raise InvalidView(f"collection must be true or false, not {collection!r}", field=f"{field}.collection")
    col_type = data.get("type")
    if col_type is not None and (not isinstance(col_type, str) or not col_type):
        raise InvalidView(f"type must be a FHIR type name, not {col_type!r}", field=f"{field}.type")
    for index, tag in enumerate(_array(data.get("tag", []), f"{field}.tag")):
        _check_keys(_object(tag, f"{field}.tag[{index}]"), _TAG_KEYS, f"{field}.tag[{index}]")
    return Column(name, str(path), expr, col_type, collection, field)


def _parse_select(data: Any, field: str) -> Select:
    data = _object(data, field)
    _check_keys(data, _SELECT_KEYS, field)
    iterations = [key for key in ("forEach", "forEachOrNull", "repeat") if key in data]
    if len(iterations) > 1:
        raise InvalidView(f"use only one of {' / '.join(iterations)} in one select", field=field)
    if not any(key in data for key in ("column", "select", "unionAll")):
        raise InvalidView("a select needs at least one of column, select or unionAll", field=field)
    columns = tuple(
        _parse_column(c, f"{field}.column[{i}]") for i, c in enumerate(_array(data.get("column", []), field))
    )
    selects = tuple(
        _parse_select(s, f"{field}.select[{i}]") for i, s in enumerate(_array(data.get("select", []), field))
    )
    union_all = tuple(
        _parse_select(s, f"{field}.unionAll[{i}]") for i, s in enumerate(_array(data.get("unionAll", []), field))
    )
    if "unionAll" in data and not union_all:
        raise InvalidView("unionAll must not be empty", field=f"{field}.unionAll")
    for_each = fhirpath.parse(data["forEach"], field=f"{field}.forEach") if "forEach" in data else None
    for_each_or_null = (
        fhirpath.parse(data["forEachOrNull"], field=f"{field}.forEachOrNull") if "forEachOrNull" in data else None
    )
    repeat: tuple[fhirpath.Node, ...] = ()
    if "repeat" in data:
        paths = _array(data["repeat"], f"{field}.repeat")
        if not paths:
            raise InvalidView("repeat needs at least one path", field=f"{field}.repeat")
        repeat = tuple(fhirpath.parse(p, field=f"{field}.repeat[{i}]") for i, p in enumerate(paths))
    return Select(columns, selects, union_all, for_each, for_each_or_null, repeat, field)


def _parse_constant(data: Any, field: str) -> Constant:
    data = _object(data, field)
    values = [key for key in data if key.startswith("value")]
    _check_keys(data, {"name"} | set(CONSTANT_TYPES) | _ELEMENT_KEYS, field)
    name = data.get("name")
    if not isinstance(name, str) or not SQL_NAME.match(name):
        raise InvalidView(f"constant name {name!r} must match ^[A-Za-z][A-Za-z0-9_]*$", field=f"{field}.name")
    if len(values) != 1:
        raise InvalidView(f"constant {name!r} needs exactly one value[x], found {len(values)}", field=field)
    key = values[0]
    fhir_type, json_type = CONSTANT_TYPES[key]
    value = data[key]
    if not isinstance(value, json_type) or (json_type is not bool and isinstance(value, bool)):
        raise InvalidView(f"{key} of constant {name!r} has the wrong JSON type: {value!r}", field=f"{field}.{key}")
    if fhir_type == "integer64" and isinstance(value, str):
        value = int(value)
    return Constant(name, fhir_type, value)


def _columns_of(select: Select, field: str) -> list[str]:
    """Column names a select produces, in order, checking uniqueness and unionAll consistency."""
    names = [column.name for column in select.columns]
    for child in select.selects:
        names.extend(_columns_of(child, child.field))
    if select.union_all:
        branches = [_columns_of(branch, branch.field) for branch in select.union_all]
        for branch, branch_names in zip(select.union_all[1:], branches[1:], strict=True):
            if branch_names != branches[0]:
                raise InvalidView(
                    f"unionAll branches must have the same columns in the same order: {branches[0]} vs {branch_names}",
                    field=branch.field,
                )
        names.extend(branches[0])
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidView(f"column {name!r} is defined more than once", field=field)
        seen.add(name)
    return names


def parse_view(data: Any) -> ViewDefinition:
    """Validate a ViewDefinition given as parsed JSON; raise :class:`InvalidView` naming the first problem."""
    data = _object(data, "ViewDefinition")
    _check_keys(data, _TOP_LEVEL_KEYS, "ViewDefinition")
    if data.get("resourceType", "ViewDefinition") != "ViewDefinition":
        raise InvalidView(f"resourceType must be ViewDefinition, not {data['resourceType']!r}", field="resourceType")
    resource = data.get("resource")
    if not isinstance(resource, str) or not re.fullmatch(r"[A-Z][A-Za-z]+", resource):
        raise InvalidView('a view needs its FHIR resource type, e.g. "resource": "Patient"', field="resource")
    name = data.get("name")
    if name is not None and (not isinstance(name, str) or not SQL_NAME.match(name)):
        raise InvalidView(f"view name {name!r} must match ^[A-Za-z][A-Za-z0-9_]*$", field="name")
    selects = tuple(_parse_select(s, f"select[{i}]") for i, s in enumerate(_array(data.get("select"), "select")))
    if not selects:
        raise InvalidView("a view needs at least one select", field="select")
    constants = tuple(
        _parse_constant(c, f"constant[{i}]") for i, c in enumerate(_array(data.get("constant", []), "constant"))
    )
    constant_names = [c.name for c in constants]
    duplicates = sorted({n for n in constant_names if constant_names.count(n) > 1})
    if duplicates:
        raise InvalidView(f"constant {duplicates[0]!r} is defined more than once", field="constant")
    wheres = []
    for index, item in enumerate(_array(data.get("where", []), "where")):
        field = f"where[{index}]"
        item = _object(item, field)
        _check_keys(item, _WHERE_KEYS, field)
        wheres.append(Where(str(item.get("path")), fhirpath.parse(item.get("path"), field=f"{field}.path"), field))
    root = Select((), selects, (), None, None, (), "ViewDefinition")
    column_names = tuple(_columns_of(root, "select"))
    return ViewDefinition(resource, name, selects, constants, tuple(wheres), column_names, data)
