"""Build ``fhir_schema.json``: the element table the view compiler uses to turn FHIRPath into JSON paths.

Run ``python -m mildpath.population.views.schema_build`` after upgrading ``fhir.resources``; a test checks
that the shipped file matches what this module builds.

For every FHIR type (resources, data types and backbone elements, named by their ``fhir.resources`` class
name, e.g. ``PatientContact``) the table maps each element to ``"Type"`` (0..1), ``"Type*"`` (0..*) or, for a
choice element such as ``value[x]``, a dict from the JSON suffix to the type (``{"Quantity": "Quantity"}``).

Source: ``fhir.resources`` R4B models (FHIR 4.3, the closest proxy of R4 that the package ships, see
contracts §5), with elements and types that exist only in its R5 models added after them, so that views
written for R5 data (the official SQL on FHIR suite is R4 *and* R5) still compile to exact JSON paths.
Elements absent from both fall back to schema-free evaluation in the compiler, so the table only decides
speed, never whether a view runs.
"""

from __future__ import annotations

import json
import typing
from typing import Any

from mildpath.population.views.schema import SCHEMA_FILE

# fhir.resources annotates primitives with a marker class per FHIR primitive type.
_PRIMITIVE_MARKERS = {
    "String": "string",
    "Code": "code",
    "Uri": "uri",
    "Id": "id",
    "DateTime": "dateTime",
    "Markdown": "markdown",
    "Canonical": "canonical",
    "PositiveInt": "positiveInt",
    "Decimal": "decimal",
    "Date": "date",
    "Integer": "integer",
    "Integer64": "integer64",
    "UnsignedInt": "unsignedInt",
    "Instant": "instant",
    "Time": "time",
    "Url": "url",
    "Base64Binary": "base64Binary",
    "Oid": "oid",
    "UuidVersion": "uuid",
    "Uuid": "uuid",
    "Xhtml": "xhtml",
    "Boolean": "boolean",
}


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """Strip ``Optional``/``Union[..., None]`` and ``List``; return (inner annotation, is_array)."""
    is_array = False
    while True:
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
            non_none = [a for a in args if a is not type(None)]
            annotation = non_none[0]
        elif origin in (list, typing.List):  # noqa: UP006 - typing.List is what the models use
            is_array = True
            annotation = args[0]
        else:
            return annotation, is_array


def _type_name(annotation: Any) -> str | None:
    """The FHIR type name of an unwrapped annotation, or None for fields that are not FHIR elements."""
    if typing.get_origin(annotation) is typing.Annotated:
        found = None
        for meta in typing.get_args(annotation)[1:]:
            found = _PRIMITIVE_MARKERS.get(type(meta).__name__, found)
        return found
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    name = getattr(annotation, "__name__", "")
    if name.endswith("Type") and getattr(annotation, "__module__", "") == "abc":
        base = name[: -len("Type")]
        return None if base == "FHIRPrimitiveExtension" else base
    return None


def _elements(model: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field_name, field in model.model_fields.items():
        extra = field.json_schema_extra or {}
        if not isinstance(extra, dict) or not extra.get("element_property"):
            continue
        inner, is_array = _unwrap(field.annotation)
        type_name = _type_name(inner)
        if type_name is None:
            continue
        key = field.alias or field_name
        choice = extra.get("one_of_many")
        if isinstance(choice, str) and key.startswith(choice) and key != choice:
            out.setdefault(choice, {})[key[len(choice) :]] = type_name
        else:
            out[key] = type_name + ("*" if is_array else "")
    return out


def _collect(package: str) -> tuple[dict[str, dict[str, Any]], list[str]]:
    import importlib

    fhirtypes = importlib.import_module(f"{package}.fhirtypes")
    types: dict[str, dict[str, Any]] = {}
    resources: list[str] = []
    for attr in sorted(dir(fhirtypes)):
        if not attr.endswith("Type") or attr.startswith("_"):
            continue
        try:
            model = getattr(fhirtypes, attr).get_model_klass()
        except AttributeError:  # primitive type markers have no model class
            continue
        name = attr[: -len("Type")]
        if getattr(model, "__name__", None) != name:
            continue
        types[name] = _elements(model)
        mro = {cls.__name__ for cls in model.__mro__}
        if "Resource" in mro and name not in {"Resource", "DomainResource"} and "resourceType" not in types[name]:
            resources.append(name)
    return types, resources


def build() -> dict[str, Any]:
    """The element table: R4B first, R5-only types and elements added after."""
    types, resources = _collect("fhir.resources.R4B")
    r5_types, r5_resources = _collect("fhir.resources")
    for name, elements in r5_types.items():
        target = types.setdefault(name, {})
        for key, value in elements.items():
            if key not in target:
                target[key] = value
            elif isinstance(value, dict) and isinstance(target[key], dict):
                for suffix, type_name in value.items():
                    target[key].setdefault(suffix, type_name)
    all_resources = sorted(set(resources) | set(r5_resources))
    return {
        "_provenance": (
            f"Generated by mildpath.population.views.schema_build from fhir.resources {fhir_resources_version()} "
            "R4B (FHIR 4.3) models, R5-only elements added after; do not edit by hand."
        ),
        "resources": all_resources,
        "types": {name: types[name] for name in sorted(types)},
    }


def fhir_resources_version() -> str:
    """The installed fhir.resources version (without importing its models)."""
    from importlib.metadata import version

    return version("fhir.resources")


def render(schema: dict[str, Any]) -> str:
    """The file text: one type per line keeps diffs readable."""
    lines = ["{"]
    lines.append(f' "_provenance": {json.dumps(schema["_provenance"])},')
    lines.append(f' "resources": {json.dumps(schema["resources"], separators=(",", ":"))},')
    lines.append(' "types": {')
    items = list(schema["types"].items())
    for index, (name, elements) in enumerate(items):
        comma = "," if index < len(items) - 1 else ""
        lines.append(f"  {json.dumps(name)}: {json.dumps(elements, separators=(',', ':'))}{comma}")
    lines.append(" }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Write the element table next to this module."""
    SCHEMA_FILE.write_text(render(build()), encoding="utf-8")


if __name__ == "__main__":
    main()
