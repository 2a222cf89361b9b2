"""A criteria set's code lists without a terminology server: FHIR R4 ValueSets and plain rows for SQL joins.

The code lists live in ``content/criteria/valuesets.yaml`` (:func:`~mildpath.content.criteria.load_value_sets`);
a criteria set uses some of them (:func:`~mildpath.content.criteria.value_sets_used`). Here they leave mildpath in
two shapes that need no terminology service:

- **FHIR R4 ValueSet resources** with an enumerated ``compose`` (one ``include`` per code system, every code
  listed, the members of included lists already merged in), so an engine tests membership by system and code.
  ``url`` is mildpath's canonical (``https://mildpath.org/fhir/ValueSet/<name>``, as the screening
  RiskAssessment cites it); ``version`` is the criteria set's ``name@version``, so ``url|version`` names the
  lists exactly as one criteria set version uses them, and ``useContext`` names that set in mildpath's
  criteria-set code system. A list the clinical reference does not confirm (``verified: false``) has
  ``status: draft`` and says UNVERIFIED in its description; code notes travel in the R4 extension
  ``valueset-concept-comments``. Only elements R4 and R4B share are written (contracts §5).
- **Rows** ``(valueset, system, code, display)``, one per code: a CSV, a Parquet file or a DuckDB table that SQL
  joins on ``system`` and ``code`` (exact strings). The population screen's own input ``mp_vs(name, system,
  code)`` is these rows without ``display``.

Every ValueSet cites the sources of its list (``content/sources``) in its description.
"""

from __future__ import annotations

import csv
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mildpath.content.criteria import ValueSet, load_value_sets, value_sets_used
from mildpath.content.sources import source
from mildpath.domain.criteria import CriteriaSet
from mildpath.domain.errors import InvalidInput
from mildpath.fhir.codes import CRITERIA_SET_SYSTEM
from mildpath.fhir.write import value_set_url

if TYPE_CHECKING:
    import duckdb

COLUMNS = ("valueset", "system", "code", "display")
CONCEPT_COMMENTS = "http://hl7.org/fhir/StructureDefinition/valueset-concept-comments"
USAGE_CONTEXT_TYPE = "http://terminology.hl7.org/CodeSystem/usage-context-type"
PUBLISHER = "mildpath"


@dataclass(frozen=True, order=True)
class ValueSetRow:
    """One code of one value set, as SQL joins it."""

    valueset: str
    system: str
    code: str
    display: str

    def as_tuple(self) -> tuple[str, str, str, str]:
        return (self.valueset, self.system, self.code, self.display)


def _used(criteria_set: CriteriaSet) -> list[ValueSet]:
    value_sets = load_value_sets()
    return [value_sets[name] for name in value_sets_used(criteria_set)]


def computable_name(name: str) -> str:
    """``lumbar-stenosis`` -> ``LumbarStenosis`` (FHIR's ``name``: a letter first, then letters, digits, _)."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
    joined = "".join(w[:1].upper() + w[1:] for w in words) or "ValueSet"
    return joined if joined[0].isalpha() else "V" + joined


def _description(vs: ValueSet, criteria_set: CriteriaSet) -> str:
    lines = [f"{vs.title}: the codes criteria set {criteria_set.label} of mildpath matches (exact system and code)."]
    if not vs.verified:
        lines.append("UNVERIFIED: the clinical reference does not confirm this code list; review it before use.")
    lines.append("Sources: " + "; ".join(f"{sid}: {source(sid).cite()}" for sid in vs.sources) + ".")
    return "\n\n".join(lines)


def _narrative(vs: ValueSet, criteria_set: CriteriaSet) -> dict[str, str]:
    rows = "".join(
        f"<tr><td>{html.escape(e.system)}</td><td>{html.escape(e.code)}</td><td>{html.escape(e.display)}</td></tr>"
        for e in vs.entries
    )
    label = "" if vs.verified else " (UNVERIFIED)"
    div = (
        f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{html.escape(vs.title)}{label}, '
        f"criteria set {html.escape(criteria_set.label)}</p>"
        f"<table><tr><th>System</th><th>Code</th><th>Display</th></tr>{rows}</table></div>"
    )
    return {"status": "generated", "div": div}


def value_set_resource(vs: ValueSet, criteria_set: CriteriaSet) -> dict[str, Any]:
    """One code list as a FHIR R4 ValueSet (enumerated compose; see the module docstring)."""
    includes: dict[str, list[dict[str, Any]]] = {}
    for entry in vs.entries:
        concept: dict[str, Any] = {"code": entry.code}
        if entry.display:
            concept["display"] = entry.display
        if entry.note:
            concept["extension"] = [{"url": CONCEPT_COMMENTS, "valueString": entry.note}]
        includes.setdefault(entry.system, []).append(concept)
    return {
        "resourceType": "ValueSet",
        "id": vs.name,
        "text": _narrative(vs, criteria_set),
        "url": value_set_url(vs.name),
        "version": criteria_set.label,
        "name": computable_name(vs.name),
        "title": vs.title,
        "status": "active" if vs.verified else "draft",
        "experimental": False,
        "publisher": PUBLISHER,
        "description": _description(vs, criteria_set),
        "useContext": [
            {
                "code": {"system": USAGE_CONTEXT_TYPE, "code": "program", "display": "Program"},
                "valueCodeableConcept": {
                    "coding": [{"system": CRITERIA_SET_SYSTEM, "code": criteria_set.label}],
                    "text": f"mildpath criteria set {criteria_set.label}",
                },
            }
        ],
        "compose": {"include": [{"system": system, "concept": concepts} for system, concepts in includes.items()]},
    }


def value_set_resources(criteria_set: CriteriaSet) -> list[dict[str, Any]]:
    """Every code list the criteria set's rules use, as ValueSets, in the order the rules first use them."""
    return [value_set_resource(vs, criteria_set) for vs in _used(criteria_set)]


def bundle_id(criteria_set: CriteriaSet) -> str:
    """A FHIR id for the set's ValueSet Bundle: ``mild-default-1.0.0-valuesets``."""
    return re.sub(r"[^A-Za-z0-9.\-]", "-", criteria_set.label)[:53] + "-valuesets"


def value_set_bundle(criteria_set: CriteriaSet) -> dict[str, Any]:
    """The ValueSets of :func:`value_set_resources` as one FHIR R4 Bundle of type ``collection``."""
    return {
        "resourceType": "Bundle",
        "id": bundle_id(criteria_set),
        "type": "collection",
        "entry": [{"fullUrl": r["url"], "resource": r} for r in value_set_resources(criteria_set)],
    }


def value_set_rows(criteria_set: CriteriaSet) -> list[ValueSetRow]:
    """One row per code of every code list the set uses, sorted by value set, system and code."""
    rows = {ValueSetRow(vs.name, e.system, e.code, e.display) for vs in _used(criteria_set) for e in vs.entries}
    return sorted(rows)


def write_value_set_rows(rows: list[ValueSetRow], path: Path | str) -> Path:
    """Write rows as ``.csv`` (a header row, UTF-8) or ``.parquet`` (all columns text), by the file name."""
    target = Path(path)
    if target.name.endswith(".csv"):
        with target.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows(r.as_tuple() for r in rows)
        return target
    if target.name.endswith(".parquet"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({name: pa.array([getattr(r, name) for r in rows], pa.string()) for name in COLUMNS})
        pq.write_table(table, str(target))
        return target
    raise InvalidInput(f"{target}: write value set rows to a .csv or .parquet file", field="out", value=str(target))


def create_value_set_table(
    con: duckdb.DuckDBPyConnection, rows: list[ValueSetRow], table: str = "mp_valuesets"
) -> None:
    """Create (or replace) a DuckDB table ``table(valueset, system, code, display)`` holding ``rows``."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table):
        raise InvalidInput(f"{table!r} is not a plain SQL table name", field="table", value=table)
    columns = ", ".join(f"{c} VARCHAR" for c in COLUMNS)
    con.execute(f"CREATE OR REPLACE TABLE {table} ({columns})")
    if rows:
        con.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?)", [r.as_tuple() for r in rows])
