"""The criteria set as SQL: the ONLY translation of a criteria set's condition trees (issue 9, issue 12).

The population screen evaluates the same :class:`~mildpath.domain.criteria.CriteriaSet` as ``mildpath screen``,
as SQL over flat tables, so that an embedded DuckDB, a Spark cluster or any engine that runs SQL on FHIR views
gives the answers the single-patient engine gives. Three layers, each plain SQL over the one before:

1. **Views** (SQL on FHIR v2 ViewDefinitions, compiled by :mod:`mildpath.population.views`): the shipped flat
   tables of ``content/views/`` (patient, condition, procedure, service request, medication request and
   statement, observation) plus the screen's supplementary views of ``population/screen_views/`` for what the
   FHIR reader uses and the flat tables leave out (abatement period, every verification status, the reasons a
   procedure names, Medication resources and contained medications, observation components, effectiveInstant).
   Each lands in a table ``mp_v_<name>``.
2. **Facts** (:meth:`CompiledScreen.tables`): the views turned into one table of dated facts, ``mp_facts(kind,
   patient_id, record, system, code, status, start_date, end_date, vk, vn, vt, vb)``, exactly as
   :mod:`mildpath.fhir.read` builds :class:`~mildpath.domain.facts.PatientFacts` (same dates, same precedence of
   ``onset``/``recordedDate``, same skipped statuses, the clinician assessment as ``clinician.<code>`` answers,
   the ligamentum flavum thickness in mm), plus ``mp_facts_reason`` (the conditions a procedure names) and
   ``mp_patients``. Values are typed: ``vk`` is ``int``, ``num``, ``bool`` or ``str`` and ``vn``/``vt``/``vb``
   hold the value, so a yes/no never compares with a number (conditions §Check).
3. **Criteria** (:attr:`CompiledScreen.query`): every leaf of every rule (``Present``, ``Compare``, ``Since``) is
   one aggregate per patient over ``mp_facts``; ``All``/``Any``/``Not``/``Coalesce`` are SQL's three-valued
   ``AND``/``OR``/``NOT``/``COALESCE`` on BOOLEAN (TRUE met, FALSE not met, NULL unknown); the status follows
   :func:`mildpath.domain.screening.decide`. Each node also carries its evidence as a list of
   ``{vk, vn, vt, vb, d, r}`` structs chosen as ``explain()`` chooses it.

The as-of date, the value sets and the windows' bounds are constants of the query: the bounds are computed here
with :meth:`~mildpath.domain.conditions.Span.back_from`, so no engine's date arithmetic is involved.

Patients with no fact at all (most of an export) all get the same answer: the query computes it once for a
sentinel patient and gives it to every patient without facts, so the cost of the rules grows with the patients
that have facts, not with the export.

Dialects: :class:`DuckDBSql` and :class:`SparkSql` differ only in how lists, structs and regular expressions are
spelt; everything else is the common subset of the two.

Skipping before parsing: :attr:`CompiledScreen.needles` lists, per resource type, text that any line the facts
can use must contain: a code of a value set the rules use followed by the closing quote of its JSON string
(``M48.062"``; the assessment system's name for the clinician's answers; ``medicationReference"`` for records
that name their medication elsewhere). A line with none of them cannot change any answer and need not be parsed.
This is exact because JSON writes a string between double quotes and no encoder escapes the characters the
codes are made of; a line holding a ``\\u`` escape is always read, in case it spells a code with escapes. A
type whose codes hold other characters is read whole.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from mildpath.content.criteria import ACCENTS_FROM, ACCENTS_TO, INGREDIENT_SYSTEM, load_value_sets, value_sets_used
from mildpath.content.view_definitions import load_view_definition
from mildpath.domain.conditions import (
    All,
    Check,
    Coalesce,
    Compare,
    Node,
    Not,
    Present,
    Select,
    Since,
    Tri,
    Window,
    selections,
)
from mildpath.domain.conditions import Any as AnyOf
from mildpath.domain.criteria import CriteriaSet, Role
from mildpath.domain.selfcheck import CLINICIAN_FIELDS
from mildpath.fhir.codes import ASSESSMENT_SYSTEM, LF_THICKNESS
from mildpath.population.views.sql import quote

# A patient id no FHIR id can be ([A-Za-z0-9\-.]{1,64}): the row that holds the answer for "no facts at all".
SENTINEL = " no facts"
# What the evidence of a node is a list of (see the module docstring).
EVIDENCE_FIELDS: tuple[tuple[str, str, str], ...] = (
    # name, DuckDB type, Spark type
    ("vk", "VARCHAR", "STRING"),
    ("vn", "DOUBLE", "DOUBLE"),
    ("vt", "VARCHAR", "STRING"),
    ("vb", "BOOLEAN", "BOOLEAN"),
    ("d", "DATE", "DATE"),
    ("r", "VARCHAR", "STRING"),
)
# Codes whose JSON text is the code itself between quotes, whatever the exporter (see the module docstring).
_SAFE_CODE = re.compile(r"^[A-Za-z0-9._:\-]+$")
# A line with a \u escape may spell a code with escapes: never skipped.
ESCAPE_NEEDLE = "\\u"
_SKIP_VERIFICATION = ("entered-in-error", "refuted")  # as mildpath.fhir.read
_SKIP_STATUS = "entered-in-error"
_SKIP_OBSERVATION_STATUS = ("entered-in-error", "cancelled")


# --------------------------------------------------------------------------------------------- dialects


class DuckDBSql:
    """How DuckDB spells the few things the two engines spell differently."""

    name = "duckdb"

    def literal(self, text: str) -> str:
        return quote(text)

    def matches(self, text: str, pattern: str) -> str:
        """``text`` matches the regular expression ``pattern`` somewhere (anchor it with ^ and $)."""
        return f"regexp_matches({text}, {self.literal(pattern)})"

    def replace_all(self, text: str, pattern: str, replacement: str) -> str:
        """Every match of the regular expression ``pattern`` in ``text`` replaced."""
        return f"regexp_replace({text}, {self.literal(pattern)}, {self.literal(replacement)}, 'g')"

    def struct(self, fields: Sequence[tuple[str, str]]) -> str:
        return "{" + ", ".join(f"{self.literal(name)}: {value}" for name, value in fields) + "}"

    def list_agg(self, value: str, where: str) -> str:
        """The list of ``value`` over the group's rows where ``where`` holds (NULL or empty when none)."""
        return f"list({value}) FILTER (WHERE {where})"

    def concat(self, lists: Sequence[str]) -> str:
        """The lists one after the other; NULL lists count as empty."""
        return f"flatten([{', '.join(lists)}])"

    def singleton(self, value: str) -> str:
        return f"[{value}]"

    def evidence_type(self) -> str:
        return "STRUCT(" + ", ".join(f"{n} {t}" for n, t, _ in EVIDENCE_FIELDS) + ")[]"

    def null_list(self) -> str:
        return f"CAST(NULL AS {self.evidence_type()})"

    def days(self, day: str) -> str:
        """Whole days from 1 January of year 1 to ``day`` (to sort dates backwards)."""
        return f"date_diff('day', DATE '0001-01-01', {day})"

    def names_of(self, name: str) -> str:
        """``|a|b|``: the distinct values of ``name`` in the group, for a ``LIKE '%|a|%'`` test."""
        return f"'|' || string_agg(DISTINCT {name}, '|') || '|'"


class SparkSql(DuckDBSql):
    """Spark SQL (3.5 and 4.x) spellings; backslashes in literals are escaped as Spark reads them."""

    name = "spark"

    def literal(self, text: str) -> str:
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def matches(self, text: str, pattern: str) -> str:
        return f"({text} RLIKE {self.literal(pattern)})"

    def replace_all(self, text: str, pattern: str, replacement: str) -> str:
        return f"regexp_replace({text}, {self.literal(pattern)}, {self.literal(replacement)})"

    def struct(self, fields: Sequence[tuple[str, str]]) -> str:
        return "named_struct(" + ", ".join(f"{self.literal(name)}, {value}" for name, value in fields) + ")"

    def list_agg(self, value: str, where: str) -> str:
        return f"collect_list({value}) FILTER (WHERE {where})"

    def concat(self, lists: Sequence[str]) -> str:
        return f"flatten(filter(array({', '.join(lists)}), x -> x IS NOT NULL))"

    def singleton(self, value: str) -> str:
        return f"array({value})"

    def evidence_type(self) -> str:
        return "ARRAY<STRUCT<" + ", ".join(f"{n}: {t}" for n, _, t in EVIDENCE_FIELDS) + ">>"

    def days(self, day: str) -> str:
        return f"datediff({day}, DATE '0001-01-01')"

    def names_of(self, name: str) -> str:
        return f"'|' || concat_ws('|', collect_set({name})) || '|'"


Dialect = DuckDBSql
DIALECTS: dict[str, DuckDBSql] = {"duckdb": DuckDBSql(), "spark": SparkSql()}


# --------------------------------------------------------------------------------------------- views


@dataclass(frozen=True)
class ViewTable:
    """One view the screen reads: its table name, resource type and ViewDefinition (JSON)."""

    table: str
    resource_type: str
    view: dict[str, Any] = field(hash=False, compare=False)
    origin: str


# (table suffix, where the ViewDefinition lives) per resource type. "content" views are the shipped flat tables;
# "screen" views are this package's supplementary views (population/screen_views/).
_VIEWS: dict[str, tuple[tuple[str, str], ...]] = {
    "Patient": (("patient", "content"),),
    "Condition": (("condition", "content"), ("condition_detail", "screen")),
    "Procedure": (("procedure", "content"), ("procedure_reason", "screen")),
    "ServiceRequest": (("service_request", "content"), ("service_request_detail", "screen")),
    "MedicationRequest": (("medication_request", "content"), ("medication_request_detail", "screen")),
    "MedicationStatement": (("medication_statement", "content"), ("medication_statement_detail", "screen")),
    "Medication": (("medication", "screen"),),
    "Observation": (("observation", "content"), ("observation_detail", "screen")),
}
ALL_RESOURCE_TYPES: tuple[str, ...] = tuple(_VIEWS)


@cache
def _screen_view_text(name: str) -> str:
    return resources.files("mildpath.population").joinpath("screen_views", f"{name}.json").read_text("utf-8")


def view_tables() -> tuple[ViewTable, ...]:
    """Every view the screen can read, content views first within each resource type."""
    out: list[ViewTable] = []
    for rtype, names in _VIEWS.items():
        for name, origin in names:
            if origin == "content":
                view = load_view_definition(name)
                where = f"content/views/{name}.json"
            else:
                view = json.loads(_screen_view_text(name))
                where = f"population/screen_views/{name}.json"
            out.append(ViewTable(f"mp_v_{name}", rtype, view, where))
    return tuple(out)


# --------------------------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class CriterionColumns:
    """Where a criterion's answer is in the query's rows: status text and evidence list."""

    id: str
    role: Role
    status: str
    evidence: str
    rule: Node | None = field(default=None, compare=False, hash=False)

    @property
    def assessed(self) -> str | None:
        """The column telling whether an exclusion was assessed (any record its rule reads); None otherwise."""
        return f"{self.status[:-2]}_a" if self.role is Role.EXCLUSION else None


@dataclass(frozen=True)
class CompiledScreen:
    """A criteria set compiled for one as-of date and one dialect (see the module docstring)."""

    criteria_set: CriteriaSet
    as_of: dt.date
    dialect: str
    resource_types: tuple[str, ...]
    needles: dict[str, tuple[str, ...] | None]
    valueset_rows: tuple[tuple[str, str, str], ...]
    tables: tuple[tuple[str, str], ...]
    query: str
    stages: tuple[tuple[str, str], ...]
    final: str
    criteria: tuple[CriterionColumns, ...]

    @property
    def views(self) -> tuple[ViewTable, ...]:
        """The views of every table the facts read (a type not read still gets its, empty, tables)."""
        return view_tables()

    def statements(self) -> Iterator[str]:
        """The whole screen as SQL text with comments, for a reader or another engine (``view export``)."""
        yield f"-- mildpath population screen: {self.criteria_set.label}, as of {self.as_of}, {self.dialect} SQL"
        yield "-- inputs: one table mp_v_<name> per view, and mp_vs(name, system, code) with the value sets"
        for name, sql in self.tables:
            yield f"CREATE TABLE {name} AS {sql};"
        yield self.query + ";"


# --------------------------------------------------------------------------------------------- compiling


def compile_screen(criteria_set: CriteriaSet, as_of: dt.date, dialect: str = "duckdb") -> CompiledScreen:
    """Compile ``criteria_set`` for ``as_of`` into SQL of ``dialect`` (``duckdb`` or ``spark``)."""
    d = DIALECTS[dialect]
    compiler = _RuleCompiler(d, as_of)
    criteria = []
    for i, criterion in enumerate(criteria_set.criteria):
        name = compiler.node(criterion.rule)
        criteria.append(CriterionColumns(criterion.id, criterion.role, f"c{i}_s", f"c{i}_e", criterion.rule))
        compiler.outputs.append((criteria[-1], name))
    vs = load_value_sets()
    rows: list[tuple[str, str, str]] = []
    for name in value_sets_used(criteria_set):
        for system, code in sorted(vs[name].codes):
            rows.append((name, system, code))
    selects = [s for c in criteria_set.criteria for s in selections(c.rule)]
    types = _resource_types(selects)
    return CompiledScreen(
        criteria_set=criteria_set,
        as_of=as_of,
        dialect=dialect,
        resource_types=types,
        needles=_needles(selects, types),
        valueset_rows=tuple(sorted(set(rows))),
        tables=_fact_tables(d),
        query=compiler.query(),
        stages=tuple(compiler.stages()),
        final=compiler.final(),
        criteria=tuple(criteria),
    )


def _resource_types(selects: Sequence[Select]) -> tuple[str, ...]:
    types = {"Patient"}
    for s in selects:
        if s.kind == "diagnosis" or s.reason_value_set is not None:
            types.add("Condition")
        if s.kind == "procedure":
            types |= {"Procedure", "ServiceRequest"}
        if s.kind == "medication":
            types |= {"MedicationRequest", "MedicationStatement", "Medication"}
        if s.kind == "observation" or (s.kind == "answer" and any(f.startswith("clinician.") for f in s.fields)):
            types.add("Observation")
    return tuple(t for t in ALL_RESOURCE_TYPES if t in types)


def _needles(selects: Sequence[Select], types: Sequence[str]) -> dict[str, tuple[str, ...] | None]:
    """Per resource type, the text a useful line must hold; None: read every line (see the module docstring)."""
    codes: dict[str, set[str]] = {t: set() for t in types}
    extra: dict[str, set[str]] = {t: set() for t in types}
    for s in selects:
        targets = {
            "diagnosis": ("Condition",),
            "procedure": ("Procedure", "ServiceRequest"),
            "medication": ("MedicationRequest", "MedicationStatement", "Medication"),
            "observation": ("Observation",),
            "answer": (),
        }[s.kind]
        for t in targets:
            codes[t] |= {code for _, code in s.codes}
        if s.reason_value_set is not None:
            codes["Condition"] |= {code for _, code in s.reason_codes}
        if s.kind == "answer" and any(f.startswith("clinician.") for f in s.fields):
            # The clinician assessment: Observations coded in mildpath's assessment system (its URL ends so).
            extra["Observation"].add(ASSESSMENT_SYSTEM.rsplit("/", 1)[-1] + '"')
    for t in ("MedicationRequest", "MedicationStatement"):
        if t in extra:
            extra[t].add('medicationReference"')  # the code is in a Medication resource or a contained one
    named = any(system == INGREDIENT_SYSTEM for s in selects if s.kind == "medication" for system, _ in s.codes)
    out: dict[str, tuple[str, ...] | None] = {}
    for t in types:
        if named and t in ("MedicationRequest", "MedicationStatement"):
            out[t] = None  # an ingredient named in free text, in any case or accent: every line is read
            continue
        if t == "Patient" or any(not _SAFE_CODE.match(c) for c in codes[t]):
            out[t] = None
            continue
        # `CODE"` rather than `"CODE"`: the same lines pass (every `"CODE"` holds `CODE"`), and a needle that
        # does not start with the most common character of JSON is found about twice as fast.
        out[t] = tuple(sorted(f'{c}"' for c in codes[t]) + sorted(extra[t]) + [ESCAPE_NEEDLE])
    return out


# --------------------------------------------------------------------------------------------- facts


def fhir_date(d: DuckDBSql, text: str) -> str:
    """SQL for the calendar date written in a FHIR date/dateTime/instant text, as ``mildpath.fhir.read._date``:
    ``YYYY`` is 1 January, ``YYYY-MM`` the first of the month, otherwise the first ten characters; else NULL."""
    t = f"trim({text})"
    return (
        f"CASE WHEN {text} IS NULL THEN CAST(NULL AS DATE) "
        f"WHEN {d.matches(t, '^[0-9]{4}$')} THEN TRY_CAST({t} || '-01-01' AS DATE) "
        f"WHEN {d.matches(t, '^[0-9]{4}-[0-9]{2}$')} THEN TRY_CAST({t} || '-01' AS DATE) "
        f"WHEN {d.matches(t, '^[0-9]{4}-[0-9]{2}-[0-9]{2}')} THEN TRY_CAST(substr({t}, 1, 10) AS DATE) "
        f"ELSE CAST(NULL AS DATE) END"
    )


def _in(d: DuckDBSql, values: Sequence[str]) -> str:
    return "(" + ", ".join(d.literal(v) for v in values) + ")"


def _fact_tables(d: DuckDBSql) -> tuple[tuple[str, str], ...]:
    """``(name, SELECT)`` in dependency order: mp_codes, mp_patients, mp_facts, mp_facts_reason."""

    def D(x: str) -> str:  # noqa: N802 - reads like the reader's _date
        return fhir_date(d, x)

    no_num, no_bool = "CAST(NULL AS DOUBLE)", "CAST(NULL AS BOOLEAN)"
    coded = f"'str' AS vk, {no_num} AS vn, {{code}} AS vt, {no_bool} AS vb"
    not_eie = f"({{s}} IS NULL OR {{s}} <> {d.literal(_SKIP_STATUS)})"

    diagnoses = (
        f"SELECT 'diagnosis' AS kind, c.patient_id, 'Condition/' || c.condition_id AS record, c.system, c.code, "
        f"c.clinical_status AS status, coalesce({D('c.onset_date')}, {D('c.onset_start')}, {D('c.recorded_date')}) "
        f"AS start_date, coalesce({D('c.abatement_date')}, {D('x.abatement_end')}) AS end_date, "
        f"{coded.format(code='c.code')} "
        "FROM mp_v_condition c JOIN mp_codes k ON k.system = c.system AND k.code = c.code "
        "LEFT JOIN (SELECT condition_id, patient_id, max(abatement_end) AS abatement_end, "
        f"max(CASE WHEN verification_code IN {_in(d, _SKIP_VERIFICATION)} THEN 1 ELSE 0 END) AS skip "
        "FROM mp_v_condition_detail GROUP BY condition_id, patient_id) x "
        "ON x.condition_id = c.condition_id AND x.patient_id = c.patient_id "
        "WHERE c.patient_id IS NOT NULL AND coalesce(x.skip, 0) = 0"
    )
    performed = f"coalesce({D('p.performed_date')}, {D('p.performed_start')})"
    procedures = (
        f"SELECT 'procedure' AS kind, p.patient_id, 'Procedure/' || p.procedure_id AS record, p.system, p.code, "
        f"p.status, {performed} AS start_date, coalesce({D('p.performed_end')}, {performed}) AS end_date, "
        f"{coded.format(code='p.code')} "
        "FROM mp_v_procedure p JOIN mp_codes k ON k.system = p.system AND k.code = p.code "
        f"WHERE p.patient_id IS NOT NULL AND {not_eie.format(s='p.status')}"
    )
    occurrence = f"coalesce({D('s.occurrence_date')}, {D('s.occurrence_start')}, {D('s.authored_on')})"
    requests = (
        f"SELECT 'procedure' AS kind, s.patient_id, 'ServiceRequest/' || s.service_request_id AS record, s.system, "
        f"s.code, s.status, {occurrence} AS start_date, coalesce({D('o.occurrence_end')}, {occurrence}) AS end_date, "
        f"{coded.format(code='s.code')} "
        "FROM mp_v_service_request s JOIN mp_codes k ON k.system = s.system AND k.code = s.code "
        "LEFT JOIN (SELECT service_request_id, patient_id, max(occurrence_end) AS occurrence_end "
        "FROM mp_v_service_request_detail WHERE kind = 'occurrence' GROUP BY service_request_id, patient_id) o "
        "ON o.service_request_id = s.service_request_id AND o.patient_id = s.patient_id "
        f"WHERE s.patient_id IS NOT NULL AND {not_eie.format(s='s.status')}"
    )
    medications = [
        _medication_facts(
            d,
            "MedicationRequest",
            "medication_request",
            start=f"coalesce({D('m.validity_start')}, {D('m.authored_on')})",
            end=D("m.validity_end"),
            dates=("validity_start", "authored_on", "validity_end"),
        ),
        _medication_facts(
            d,
            "MedicationStatement",
            "medication_statement",
            start=f"coalesce({D('m.effective_date')}, {D('m.effective_start')}, {D('m.date_asserted')})",
            end=D("m.effective_end"),
            dates=("effective_date", "effective_start", "date_asserted", "effective_end"),
        ),
    ]
    observations, answers = _observation_facts(d, D)
    facts = " UNION ALL ".join(f"({q})" for q in [diagnoses, procedures, requests, *medications, observations, answers])
    reasons = " UNION ALL ".join(
        [
            "SELECT r.patient_id, 'Procedure/' || r.procedure_id AS record, r.system, r.code "
            "FROM mp_v_procedure_reason r WHERE r.code IS NOT NULL",
            "SELECT r.patient_id, 'Procedure/' || r.procedure_id AS record, c.system, c.code "
            "FROM mp_v_procedure_reason r JOIN mp_v_condition c "
            "ON c.condition_id = r.condition_id AND c.patient_id = r.patient_id WHERE c.code IS NOT NULL",
            "SELECT r.patient_id, 'ServiceRequest/' || r.service_request_id AS record, r.system, r.code "
            "FROM mp_v_service_request_detail r WHERE r.kind = 'reason' AND r.code IS NOT NULL",
            "SELECT r.patient_id, 'ServiceRequest/' || r.service_request_id AS record, c.system, c.code "
            "FROM mp_v_service_request_detail r JOIN mp_v_condition c "
            "ON c.condition_id = r.condition_id AND c.patient_id = r.patient_id "
            "WHERE r.kind = 'reason' AND c.code IS NOT NULL",
        ]
    )
    return (
        ("mp_codes", "SELECT DISTINCT system, code FROM mp_vs"),
        (
            "mp_patients",
            # One row per patient id, with what screening reads of the Patient resource itself (birth date for
            # the age caution; deceased[x], contracts §3 as amended).
            f"SELECT patient_id, min({D('CAST(birth_date AS STRING)')}) AS birth_date, "
            "bool_or(deceased) AS deceased, "
            f"min({D('CAST(deceased_date AS STRING)')}) AS deceased_on, "
            "bool_or(deceased_date IS NOT NULL AND trim(CAST(deceased_date AS STRING)) <> '') AS deceased_written "
            "FROM mp_v_patient WHERE patient_id IS NOT NULL GROUP BY patient_id",
        ),
        ("mp_facts", facts),
        ("mp_facts_reason", reasons),
    )


def _medication_facts(d: DuckDBSql, rtype: str, name: str, *, start: str, end: str, dates: tuple[str, ...]) -> str:
    """Codes written in the record, or, when it has none, those of the Medication it references (a resource
    in the export, or one contained in the record: ``#id``), as the reader resolves them."""
    key = f"{name}_id"
    coded = (
        f"SELECT 'medication' AS kind, m.patient_id, '{rtype}/' || m.{key} AS record, m.system, m.code, m.status, "
        f"{start} AS start_date, {end} AS end_date, "
        "'str' AS vk, CAST(NULL AS DOUBLE) AS vn, m.code AS vt, CAST(NULL AS BOOLEAN) AS vb "
        f"FROM mp_v_{name} m JOIN mp_codes k ON k.system = m.system AND k.code = m.code "
        f"WHERE m.patient_id IS NOT NULL AND (m.status IS NULL OR m.status <> {d.literal(_SKIP_STATUS)})"
    )
    columns = ", ".join(f"max({c}) AS {c}" for c in dates)
    uncoded = (
        f"SELECT {key}, patient_id, max(status) AS status, {columns} FROM mp_v_{name} "
        f"WHERE patient_id IS NOT NULL GROUP BY {key}, patient_id HAVING count(code) = 0"
    )
    referenced = (
        f"SELECT DISTINCT x.{key}, x.patient_id, g.system, g.code FROM mp_v_{name}_detail x "
        "JOIN mp_v_medication g ON g.medication_id = x.medication_key "
        "WHERE x.medication_reference NOT LIKE '#%' AND g.code IS NOT NULL "
        f"UNION SELECT DISTINCT x.{key}, x.patient_id, x.system, x.code FROM mp_v_{name}_detail x "
        "WHERE x.medication_reference = '#' || x.contained_id AND x.code IS NOT NULL"
    )
    by_reference = (
        f"SELECT 'medication' AS kind, m.patient_id, '{rtype}/' || m.{key} AS record, g.system, g.code, m.status, "
        f"{start} AS start_date, {end} AS end_date, "
        "'str' AS vk, CAST(NULL AS DOUBLE) AS vn, g.code AS vt, CAST(NULL AS BOOLEAN) AS vb "
        f"FROM ({uncoded}) m JOIN ({referenced}) g ON g.{key} = m.{key} AND g.patient_id = m.patient_id "
        "JOIN mp_codes k ON k.system = g.system AND k.code = g.code "
        f"WHERE m.status IS NULL OR m.status <> {d.literal(_SKIP_STATUS)}"
    )
    # Ingredients named in a coding's display or in the concept's text (clinical reference §4.4), as
    # mildpath.fhir.read does: one fact per ingredient name, coded in the ingredient-name system.
    texts = (
        f"SELECT {key}, patient_id, display AS t FROM mp_v_{name} WHERE patient_id IS NOT NULL AND display IS NOT NULL "
        f"UNION ALL SELECT {key}, patient_id, medication_text AS t FROM mp_v_{name}_detail "
        "WHERE patient_id IS NOT NULL AND medication_text IS NOT NULL"
    )
    # Each distinct text is folded once and tested against the names (a join no hash can serve: kept small),
    # then joined back to its records by the text itself.
    words = f"SELECT t, {name_words_sql(d, 't')} AS w FROM (SELECT DISTINCT t FROM ({texts}) u) v"
    matched = (
        f"SELECT n.t, k.system, k.code FROM ({words}) n JOIN mp_codes k "
        f"ON k.system = {d.literal(INGREDIENT_SYSTEM)} AND instr(n.w, ' ' || k.code || ' ') > 0"
    )
    named = f"SELECT DISTINCT x.{key}, x.patient_id, g.system, g.code FROM ({texts}) x JOIN ({matched}) g ON g.t = x.t"
    records = (
        f"SELECT {key}, patient_id, max(status) AS status, {columns} FROM mp_v_{name} "
        f"WHERE patient_id IS NOT NULL GROUP BY {key}, patient_id"
    )
    by_name = (
        f"SELECT 'medication' AS kind, m.patient_id, '{rtype}/' || m.{key} AS record, g.system, g.code, m.status, "
        f"{start} AS start_date, {end} AS end_date, "
        "'str' AS vk, CAST(NULL AS DOUBLE) AS vn, g.code AS vt, CAST(NULL AS BOOLEAN) AS vb "
        f"FROM ({records}) m JOIN ({named}) g ON g.{key} = m.{key} AND g.patient_id = m.patient_id "
        f"WHERE m.status IS NULL OR m.status <> {d.literal(_SKIP_STATUS)}"
    )
    return f"{coded} UNION ALL {by_reference} UNION ALL {by_name}"


def name_words_sql(d: DuckDBSql, text: str) -> str:
    """SQL for :func:`mildpath.content.criteria.name_words`: lower case, accents folded by the same table,
    every run of other characters one space, padded with spaces."""
    folded = f"translate(lower({text}), {d.literal(ACCENTS_FROM)}, {d.literal(ACCENTS_TO)})"
    return f"(' ' || trim({d.replace_all(folded, '[^a-z0-9]+', ' ')}) || ' ')"


def _observation_facts(d: DuckDBSql, D: Any) -> tuple[str, str]:  # noqa: N803
    """Observation facts and clinician-assessment answers, from the observation and its components."""
    values = "value_quantity, unit, unit_code, value_code, value_string, value_integer, value_boolean"
    when = f"coalesce({D('h.effective_date')}, {D('h.effective_start')}, {D('h.effective_instant')}, {D('h.issued')})"
    header = (
        "SELECT o.observation_id, o.patient_id, max(o.status) AS status, max(o.effective_date) AS effective_date, "
        "max(o.effective_start) AS effective_start, max(x.effective_instant) AS effective_instant, "
        "max(o.issued) AS issued FROM mp_v_observation o LEFT JOIN mp_v_observation_detail x "
        "ON x.observation_id = o.observation_id AND x.patient_id = o.patient_id "
        "WHERE o.patient_id IS NOT NULL GROUP BY o.observation_id, o.patient_id"
    )
    parts_sql = (
        f"SELECT observation_id, patient_id, system, code, {values} FROM mp_v_observation "
        f"UNION ALL SELECT observation_id, patient_id, system, code, {values} FROM mp_v_observation_detail "
        "WHERE code IS NOT NULL"
    )
    parts = (
        f"SELECT p.*, h.status, {when} AS start_date FROM ({parts_sql}) p JOIN ({header}) h "
        "ON h.observation_id = p.observation_id AND h.patient_id = p.patient_id "
        f"WHERE p.code IS NOT NULL AND (h.status IS NULL OR h.status NOT IN {_in(d, _SKIP_OBSERVATION_STATUS)})"
    )
    lf_system, lf_code = LF_THICKNESS
    is_lf = f"(p.system = {d.literal(lf_system)} AND p.code = {d.literal(lf_code)})"
    unit = "trim(coalesce(nullif(p.unit_code, ''), nullif(p.unit, ''), 'mm'))"
    factor = f"(CASE {unit} WHEN 'mm' THEN 1.0 WHEN 'cm' THEN 10.0 END)"

    def value_columns(lf: bool) -> str:
        quantity_kind = f"CASE WHEN {is_lf} AND {factor} IS NULL THEN NULL ELSE 'num' END" if lf else "'num'"
        quantity = f"CASE WHEN {is_lf} THEN round(p.value_quantity * {factor}, 3) ELSE p.value_quantity END"
        other = "p.value_quantity IS NULL AND p.value_integer IS NULL"
        return (
            f"CASE WHEN p.value_quantity IS NOT NULL THEN {quantity_kind} WHEN p.value_integer IS NOT NULL THEN 'int' "
            "WHEN p.value_boolean IS NOT NULL THEN 'bool' WHEN p.value_string IS NOT NULL THEN 'str' "
            "WHEN p.value_code IS NOT NULL THEN 'str' END AS vk, "
            f"CASE WHEN p.value_quantity IS NOT NULL THEN {quantity if lf else 'p.value_quantity'} "
            "WHEN p.value_integer IS NOT NULL THEN CAST(p.value_integer AS DOUBLE) END AS vn, "
            f"CASE WHEN {other} AND p.value_boolean IS NULL THEN coalesce(p.value_string, p.value_code) END AS vt, "
            f"CASE WHEN {other} THEN p.value_boolean END AS vb"
        )

    assessment = d.literal(ASSESSMENT_SYSTEM)
    observations = (
        "SELECT 'observation' AS kind, p.patient_id, 'Observation/' || p.observation_id AS record, p.system, p.code, "
        f"p.status, p.start_date, p.start_date AS end_date, {value_columns(True)} "
        f"FROM ({parts}) p JOIN mp_codes k ON k.system = p.system AND k.code = p.code WHERE p.system <> {assessment}"
    )
    fields = sorted(CLINICIAN_FIELDS)
    answers = (
        "SELECT kind, patient_id, record, system, code, status, start_date, end_date, vk, vn, vt, vb FROM ("
        "SELECT 'answer' AS kind, p.patient_id, 'Observation/' || p.observation_id AS record, '' AS system, "
        "'clinician.' || p.code AS code, CAST(NULL AS STRING) AS status, p.start_date, p.start_date AS end_date, "
        f"{value_columns(False)} FROM ({parts}) p WHERE p.system = {assessment} AND p.code IN {_in(d, fields)}"
        ") a WHERE vk IS NOT NULL"
    )
    return observations, answers


# --------------------------------------------------------------------------------------------- rules


@dataclass
class _Leaf:
    """A leaf: its aggregates over the patient's facts (``(alias, SQL)``), and its answer from them."""

    name: str
    kind: str
    aggregates: list[tuple[str, str]]
    status: str
    evidence: str


class _RuleCompiler:
    """Condition trees -> one query (see the module docstring). Equal nodes are compiled once.

    Every leaf is a few aggregates of one pass over ``mp_fx``: the facts, one row per value set each belongs to
    (``vs``), with the value sets of the conditions a record names as its reason (``reasons``) and, per
    ``Present.after`` anchor, the patient's earliest matching date (a window). Composite nodes are computed
    in layers by height, each layer reading the previous one.
    """

    def __init__(self, dialect: DuckDBSql, as_of: dt.date) -> None:
        self.d = dialect
        self.as_of = as_of
        self.names: dict[Node, str] = {}
        self.leaves: list[_Leaf] = []
        self.anchors: dict[Select, str] = {}
        self.layers: list[list[tuple[str, str, str]]] = []  # per height: (name, status sql, evidence sql)
        self.heights: dict[str, int] = {}
        self.outputs: list[tuple[CriterionColumns, str]] = []

    # -- building blocks ---------------------------------------------------------------------------
    def date(self, day: dt.date) -> str:
        return f"DATE '{day.isoformat()}'"

    def tri(self, value: Tri) -> str:
        return {Tri.MET: "TRUE", Tri.NOT_MET: "FALSE", Tri.UNKNOWN: "CAST(NULL AS BOOLEAN)"}[value]

    def evidence(self) -> str:
        """The fact row's evidence struct (a column of ``mp_fx``, built once per fact)."""
        return "f.ev"

    def evidence_struct(self) -> str:
        fields = [("vk", "vk"), ("vn", "vn"), ("vt", "vt"), ("vb", "vb"), ("d", "start_date"), ("r", "record")]
        return self.d.struct([(name, f"f.{column}") for name, column in fields])

    def check(self, check: Check, alias: str) -> str:
        """TRUE/FALSE/NULL: the value in ``alias`` (a fact row or an evidence struct) against ``check``
        (conditions §Check: a missing value or one of another type is unknown)."""
        op = {"==": "=", "!=": "<>"}.get(check.op, check.op)
        value = check.value
        if isinstance(value, bool):
            return f"(CASE WHEN {alias}.vk = 'bool' THEN {alias}.vb {op} {'TRUE' if value else 'FALSE'} END)"
        if isinstance(value, int | float):
            return f"(CASE WHEN {alias}.vk IN ('int', 'num') THEN {alias}.vn {op} {float(value)!r} END)"
        return f"(CASE WHEN {alias}.vk = 'str' THEN {alias}.vt {op} {self.d.literal(str(value))} END)"

    def selected(self, select: Select) -> str:
        """The fact row ``f`` is one ``select`` matches and is visible (the as-of rule: a fact dated after the
        as-of date does not exist)."""
        d = self.d
        where = [
            f"f.kind = {d.literal(select.kind)}",
            f"(f.start_date IS NULL OR f.start_date <= {self.date(self.as_of)})",
        ]
        if select.kind == "answer":
            where.append(f"f.code IN {_in(d, select.fields)}")
        else:
            where.append(f"f.vs = {d.literal(select.value_set or '')}")
        if select.statuses is not None:
            where.append(f"(f.status IS NULL OR f.status IN {_in(d, select.statuses)})")
        if select.reason_value_set is not None:
            where.append(f"f.reasons LIKE {d.literal('%|' + select.reason_value_set + '|%')}")
        return "(" + " AND ".join(where) + ")"

    def anchor(self, select: Select) -> str:
        """The column holding the patient's earliest dated fact of ``select`` (for ``Present.after``)."""
        if select not in self.anchors:
            self.anchors[select] = f"a{len(self.anchors)}"
        return f"f.{self.anchors[select]}"

    def window(self, window: Window) -> str:
        """The fact row ``f`` is dated and in ``window`` (conditions §Window)."""
        start = "f.start_date"
        parts = [f"{start} IS NOT NULL"]
        if window.older_than is not None:
            parts.append(f"{start} < {self.date(window.older_than.back_from(self.as_of))}")
        if window.within_last is not None:
            low = self.date(window.within_last.back_from(self.as_of))
            if window.match == "overlap":
                parts.append(f"{start} <= {self.date(self.as_of)}")
                parts.append(f"(f.end_date IS NULL OR f.end_date >= {low})")
            else:
                parts.append(f"{start} >= {low}")
        return "(" + " AND ".join(parts) + ")"

    # -- nodes -------------------------------------------------------------------------------------
    def node(self, node: Node) -> str:
        """The column stem (``n<i>``) whose ``_s`` (BOOLEAN) and ``_e`` (evidence) hold this node's answer."""
        if node in self.names:
            return self.names[node]
        children = [] if isinstance(node, Present | Compare | Since) else [self.node(c) for c in node.children()]
        name = f"n{len(self.names)}"  # after the children: a name is never reused
        if isinstance(node, Present):
            self.leaves.append(self.present(name, node))
            self.heights[name] = 0
        elif isinstance(node, Compare):
            self.leaves.append(self.compare(name, node))
            self.heights[name] = 0
        elif isinstance(node, Since):
            self.leaves.append(self.since(name, node))
            self.heights[name] = 0
        else:
            height = 1 + max(self.heights[c] for c in children)
            self.heights[name] = height
            while len(self.layers) < height:
                self.layers.append([])
            status, evidence = self.logic(node, children)
            self.layers[height - 1].append((name, status, evidence))
        self.names[node] = name
        return name

    def logic(self, node: Node, kids: list[str]) -> tuple[str, str]:
        d = self.d

        def met(k: str) -> str:
            return f"coalesce({k}_s, FALSE)"

        def not_met(k: str) -> str:
            return f"coalesce(NOT {k}_s, FALSE)"

        every = d.concat([f"{k}_e" for k in kids])
        if isinstance(node, All):
            status = "(" + " AND ".join(f"{k}_s" for k in kids) + ")"
            chosen = d.concat([f"CASE WHEN {not_met(k)} THEN {k}_e END" for k in kids])
            return status, f"CASE WHEN coalesce(NOT {status}, FALSE) THEN {chosen} ELSE {every} END"
        if isinstance(node, AnyOf):
            status = "(" + " OR ".join(f"{k}_s" for k in kids) + ")"
            chosen = d.concat([f"CASE WHEN {met(k)} THEN {k}_e END" for k in kids])
            return status, f"CASE WHEN coalesce({status}, FALSE) THEN {chosen} ELSE {every} END"
        if isinstance(node, Not):
            return f"(NOT {kids[0]}_s)", f"{kids[0]}_e"
        if isinstance(node, Coalesce):
            status = "coalesce(" + ", ".join(f"{k}_s" for k in kids) + ")"
            branches = " ".join(f"WHEN {k}_s IS NOT NULL THEN {k}_e" for k in kids)
            return status, f"CASE {branches} ELSE {every} END"
        raise TypeError(f"no SQL for condition node {type(node).__name__}")

    def present(self, name: str, node: Present) -> _Leaf:
        d = self.d
        candidate = self.selected(node.select)
        if node.where is not None:
            candidate += f" AND coalesce({self.check(node.where, 'f')}, FALSE)"
        if node.within is None and node.after is None:
            qualifies, undated = candidate, "FALSE"
        else:
            parts = [candidate, "f.start_date IS NOT NULL"]
            if node.within is not None:
                parts.append(self.window(node.within))
            if node.after is not None:
                anchor = self.anchor(node.after)
                parts.append(f"{anchor} IS NOT NULL AND f.start_date >= {anchor}")
            qualifies, undated = " AND ".join(parts), f"{candidate} AND f.start_date IS NULL"
        aggregates = [
            (f"{name}_nf", f"count_if({qualifies})"),
            (f"{name}_nu", f"count_if({undated})"),
            (f"{name}_ef", d.list_agg(self.evidence(), qualifies)),
            (f"{name}_eu", d.list_agg(self.evidence(), undated)),
        ]
        found, pending = f"coalesce({name}_nf, 0) > 0", f"coalesce({name}_nu, 0) > 0"
        status = (
            f"CASE WHEN {found} THEN {self.tri(node.if_found)} WHEN {pending} THEN CAST(NULL AS BOOLEAN) "
            f"ELSE {self.tri(node.if_none)} END"
        )
        evidence = f"CASE WHEN {found} THEN {name}_ef WHEN {pending} THEN {name}_eu ELSE {d.null_list()} END"
        return _Leaf(name, node.select.kind, aggregates, status, evidence)

    def picked(self, name: str, kind: str, how: str, key: list[str], where: str) -> _Leaf:
        """One fact per patient, the greatest (``max_by``) or smallest (``min_by``) by ``key``; ties go by
        record and code, so that every engine picks the same one."""
        d = self.d
        key = [*key, "f.record", "coalesce(f.system, '')", "f.code"]
        struct_key = d.struct([(f"k{i}", k) for i, k in enumerate(key)])
        aggregates = [(f"{name}_p", f"{how}({self.evidence()}, {struct_key}) FILTER (WHERE {where})")]
        evidence = f"CASE WHEN {name}_p IS NULL THEN {d.null_list()} ELSE {d.singleton(f'{name}_p')} END"
        return _Leaf(name, kind, aggregates, "", evidence)

    def compare(self, name: str, node: Compare) -> _Leaf:
        where = [self.selected(node.select), "f.vk IS NOT NULL"]
        if node.within is not None:
            where.append(self.window(node.within))
        if node.pick != "latest":
            where.append("f.vk IN ('int', 'num')")
        # The order of conditions.Compare: latest = greatest (date, value); max = greatest (value, date);
        # min = smallest value, then the later date. Undated facts rank first (date.min). Values rank numbers
        # < yes/no < text, as conditions._sort_key does.
        day = "coalesce(f.start_date, DATE '0001-01-01')"
        rank = "CASE f.vk WHEN 'str' THEN 2 WHEN 'bool' THEN 1 ELSE 0 END"
        number = "CASE WHEN f.vk = 'bool' THEN CASE WHEN f.vb THEN 1.0 ELSE 0.0 END ELSE coalesce(f.vn, 0.0) END"
        text = "coalesce(f.vt, '')"
        kind = node.select.kind
        if node.pick == "latest":
            leaf = self.picked(name, kind, "max_by", [day, rank, number, text], " AND ".join(where))
        elif node.pick == "max":
            leaf = self.picked(name, kind, "max_by", ["f.vn", day], " AND ".join(where))
        else:
            leaf = self.picked(name, kind, "min_by", ["f.vn", f"-{self.d.days(day)}"], " AND ".join(where))
        leaf.status = (
            f"CASE WHEN {name}_p IS NULL THEN CAST(NULL AS BOOLEAN) ELSE {self.check(node.test, f'{name}_p')} END"
        )
        return leaf

    def since(self, name: str, node: Since) -> _Leaf:
        where = f"{self.selected(node.select)} AND f.start_date IS NOT NULL"
        leaf = self.picked(name, node.select.kind, "min_by", ["f.start_date"], where)
        bound = self.date(node.at_least.back_from(self.as_of))
        leaf.status = (
            f"CASE WHEN {name}_p IS NULL THEN CAST(NULL AS BOOLEAN) WHEN {name}_p.d <= {bound} THEN TRUE ELSE FALSE END"
        )
        return leaf

    # -- the query ---------------------------------------------------------------------------------
    def stages(self) -> list[tuple[str, str]]:
        """The query's steps as ``(name, SELECT)``, each reading the ones before (the CTEs of :meth:`query`)."""
        d = self.d
        reasons = (
            f"SELECT r.patient_id, r.record, {d.names_of('v.name')} AS reasons FROM mp_facts_reason r "
            "JOIN mp_vs v ON v.system = r.system AND v.code = r.code GROUP BY r.patient_id, r.record"
        )
        base = (
            "SELECT f.*, v.name AS vs, rr.reasons FROM mp_facts f "
            "LEFT JOIN mp_vs v ON v.system = f.system AND v.code = f.code "
            f"LEFT JOIN ({reasons}) rr ON rr.patient_id = f.patient_id AND rr.record = f.record "
            "WHERE f.patient_id IS NOT NULL"
        )
        windows = "".join(
            f", min(CASE WHEN {self.selected(select)} AND f.start_date IS NOT NULL THEN f.start_date END) "
            f"OVER (PARTITION BY f.patient_id) AS {column}"
            for select, column in self.anchors.items()
        )
        out = [("mp_fx", f"SELECT f.*, {self.evidence_struct()} AS ev{windows} FROM ({base}) f")]
        out.append(("mp_assessed", self.assessed()))
        # One aggregate pass per kind of fact, over that kind's facts only (most facts are observations that
        # one or two leaves read); each has a row for the sentinel (aggregates over no row at all).
        kinds = list(dict.fromkeys(leaf.kind for leaf in self.leaves))
        joins, picks = [], []
        for kind in kinds:
            mine = [leaf for leaf in self.leaves if leaf.kind == kind]
            aggregates = ", ".join(f"{sql} AS {alias}" for leaf in mine for alias, sql in leaf.aggregates)
            table = f"mp_leaves_{kind}"
            out.append(
                (
                    table,
                    f"SELECT f.patient_id, {aggregates} FROM mp_fx f WHERE f.kind = {d.literal(kind)} "
                    f"GROUP BY f.patient_id UNION ALL SELECT {d.literal(SENTINEL)} AS patient_id, {aggregates} "
                    "FROM mp_fx f WHERE FALSE",
                )
            )
            joins.append(f"LEFT JOIN {table} ON {table}.patient_id = a.patient_id")
            picks += [f"{table}.{alias}" for leaf in mine for alias, _ in leaf.aggregates]
        active = f"SELECT DISTINCT patient_id FROM mp_fx UNION SELECT {d.literal(SENTINEL)} AS patient_id"
        out.append(("mp_leaves", f"SELECT a.patient_id, {', '.join(picks)} FROM ({active}) a {' '.join(joins)}"))
        columns = ", ".join(f"{x.status} AS {x.name}_s, {x.evidence} AS {x.name}_e" for x in self.leaves)
        out.append(("mp_layer0", f"SELECT patient_id, {columns} FROM mp_leaves"))
        for i, layer in enumerate(self.layers, start=1):
            columns = ", ".join(f"{status} AS {name}_s, {evidence} AS {name}_e" for name, status, evidence in layer)
            out.append((f"mp_layer{i}", f"SELECT *, {columns} FROM mp_layer{i - 1}"))
        last = f"mp_layer{len(self.layers)}"
        outs = []
        for crit, name in self.outputs:
            outs.append(
                f"CASE WHEN {name}_s THEN 'met' WHEN NOT {name}_s THEN 'not_met' ELSE 'unknown' END AS {crit.status}"
            )
            outs.append(f"{name}_e AS {crit.evidence}")
        out.append(("mp_scored", f"SELECT patient_id, {self.status()} AS status, {', '.join(outs)} FROM {last}"))
        return out

    def final(self) -> str:
        """One row per patient: their own answer, or the sentinel's (no facts at all); a deceased patient is
        ``not_candidate`` whatever the criteria say (contracts §3 as amended). Beside it: ``birth_date`` (for
        the age caution), ``deceased`` and, per exclusion, whether any record its rule reads exists
        (``<criterion>_a``, for ``not_assessed``)."""
        result = [*(c for crit, _ in self.outputs for c in (crit.status, crit.evidence))]
        picks = ", ".join(f"CASE WHEN s.patient_id IS NULL THEN z.{c} ELSE s.{c} END AS {c}" for c in result)
        deceased = (
            f"CASE WHEN p.deceased_on IS NOT NULL THEN p.deceased_on <= {self.date(self.as_of)} "
            "WHEN coalesce(p.deceased, FALSE) OR coalesce(p.deceased_written, FALSE) THEN TRUE ELSE FALSE END"
        )
        status = f"CASE WHEN {deceased} THEN 'not_candidate' WHEN s.patient_id IS NULL THEN z.status ELSE s.status END"
        assessed = ", ".join(f"coalesce(x.{column}, FALSE) AS {column}" for column in self.assessed_columns())
        return (
            f"SELECT p.patient_id, {status} AS status, {picks}, p.birth_date AS birth_date, {deceased} AS deceased"
            f"{', ' + assessed if assessed else ''} FROM mp_patients p "
            "LEFT JOIN mp_scored s ON s.patient_id = p.patient_id "
            "LEFT JOIN mp_assessed x ON x.patient_id = p.patient_id "
            f"CROSS JOIN (SELECT * FROM mp_scored WHERE patient_id = {self.d.literal(SENTINEL)}) z "
            "ORDER BY p.patient_id"
        )

    def assessed_columns(self) -> list[str]:
        """``c<i>_a`` for every exclusion: its rule reads some record of the patient (either way)."""
        return [f"{crit.status[:-2]}_a" for crit, _ in self.outputs if crit.role is Role.EXCLUSION]

    def assessed(self) -> str:
        """Per patient, whether any record an exclusion's rule reads exists (conditions.selections)."""
        columns = []
        for crit, _ in self.outputs:
            if crit.role is not Role.EXCLUSION:
                continue
            # An exclusion without a rule (a question for the clinician) reads no record: never assessed.
            selects = list(dict.fromkeys(selections(crit.rule))) if crit.rule is not None else []
            test = " OR ".join(self.selected(s) for s in selects) or "FALSE"
            columns.append(f"count_if({test}) > 0 AS {crit.status[:-2]}_a")
        body = ", ".join(columns) if columns else "TRUE AS any_a"
        return f"SELECT f.patient_id, {body} FROM mp_fx f GROUP BY f.patient_id"

    def query(self) -> str:
        return "WITH " + ", ".join(f"{name} AS ({sql})" for name, sql in self.stages()) + " " + self.final()

    def status(self) -> str:
        """The precedence of :func:`mildpath.domain.screening.decide` over the criteria's BOOLEAN answers."""
        by_role: dict[Role, list[str]] = {role: [] for role in Role}
        for crit, name in self.outputs:
            by_role[crit.role].append(f"{name}_s")

        def any_of(items: list[str]) -> str:
            return "(" + " OR ".join(items) + ")" if items else "FALSE"

        red = any_of([f"coalesce({s}, FALSE)" for s in by_role[Role.RED_FLAG]])
        closed = [f"NOT coalesce({s}, FALSE)" for s in by_role[Role.GATE]]
        failed = [f"coalesce(NOT {s}, FALSE)" for s in by_role[Role.INCLUSION]]
        failed += [f"coalesce({s}, FALSE)" for s in by_role[Role.EXCLUSION]]
        unknown = [f"{s} IS NULL" for role in (Role.INCLUSION, Role.EXCLUSION, Role.RED_FLAG) for s in by_role[role]]
        return (
            f"CASE WHEN {red} THEN 'urgent_referral' WHEN {any_of(closed + failed)} THEN 'not_candidate' "
            f"WHEN {any_of(unknown)} THEN 'needs_more_information' ELSE 'likely_candidate' END"
        )
