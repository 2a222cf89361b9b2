"""The SQL dialects: every engine-specific spelling the view compiler emits, in one place.

The compiler (:mod:`compiler`, :mod:`expressions`, :mod:`boundaries`) builds SQL only through a :class:`Dialect`;
an engine needs a subclass, not a second compiler. Two are shipped and tested: :class:`Dialect` (DuckDB, the
embedded default) and :class:`SparkDialect` (Spark SQL 4.x, local or cluster). Methods take and return SQL text,
except JSON paths (``$.name[*].given``), which are Python strings the dialect spells itself.

Types are *logical* names in the compiler and in :class:`~mildpath.population.views.compiler.OutputColumn`
(``VARCHAR``, ``BIGINT``, ``DOUBLE``, ``BOOLEAN``, ``JSON``, and ``T[]`` for lists); :meth:`Dialect.type_sql`
spells them for the engine. How the two dialects differ:

======================================  =============================================================
DuckDB (:class:`Dialect`)               Spark SQL (:class:`SparkDialect`)
======================================  =============================================================
JSON values: the ``JSON`` type (text)   ``VARIANT``: each line is parsed once (``try_parse_json``)
``json_extract(j, '$.a[*].b')``         ``try_variant_get`` per wildcard-free segment, ``transform`` and
                                        ``flatten`` across each ``[*]`` (variant paths have no wildcard)
``json_extract_string(j, path)``        ``try_variant_get(v, path, 'string')``
``json_type(j, path)``                  ``schema_of_variant`` mapped to DuckDB's names (DECIMAL is DOUBLE)
``list_transform(l, lambda x, i: e)``   ``transform(l, (x, i) -> e)``: Spark's index is 0-based
``list_filter`` / ``len`` / ``l[i]``    ``filter`` / ``size`` / ``try_element_at`` (0 is no item)
``flatten`` / ``list_concat``           the same, with NULL lists dropped first (Spark answers NULL)
``list_reduce`` / ``range`` /           ``aggregate`` / ``sequence`` / ``array_sort`` with a comparator
``list_sort``                           (a VARIANT cannot be ordered)
``list_distinct`` / ``list_contains`` / on JSON: compared as JSON text (a VARIANT has no equality)
``=`` on JSON
``{'a': x}`` / ``s."a"`` / ``unnest``   ``named_struct('a', x)`` / ``s.`a``` / ``explode``
``error('...')``                        ``raise_error('...')``
``'it''s'``, ``"name"``                 ``'it\\'s'`` (backslash escapes), ```name```
``strftime(d, '%Y-%m-%d')``             ``date_format(d, 'yyyy-MM-dd')``
======================================  =============================================================

Every view of the official suite (shareable and experimental) and every shipped view compiles to both and gives
the same rows. Two things needed care rather than refusal: a VARIANT has no equality or order (JSON values are
compared as JSON text, repeat's pre-order sorts by its key with a comparator), and it keeps ``1.0`` as a decimal
of scale 0, so a decimal's text is rebuilt as DuckDB writes it (:meth:`SparkDialect.decimal_text`), which keeps
``lowBoundary()`` of decimals exact. A dialect that cannot spell a construct refuses it at compile time with
:class:`~mildpath.population.views.errors.InvalidView` naming the engine (never wrong rows); an unknown dialect
name is refused the same way.
"""

from __future__ import annotations

import itertools
import re

# Logical SQL types of the value representations used by the compiler.
SQL_TYPE = {"str": "VARCHAR", "bool": "BOOLEAN", "int": "BIGINT", "dec": "DOUBLE", "json": "JSON"}

# Every runtime error a compiled view can raise starts with this marker, so the runner tells a data error
# required by the specification (exit 2) from an engine failure (exit 1).
ERROR_MARKER = "[view]"


def quote(text: str) -> str:
    """A DuckDB (and standard SQL) string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A DuckDB (and standard SQL) quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


class Dialect:
    """DuckDB spellings (the default engine). Methods return SQL text; arguments are SQL text."""

    name = "duckdb"
    #: Objects and arrays are read as JSON text in the one multi-path extraction (DuckDB parses text fast);
    #: when False they are read as JSON values (Spark's VARIANT).
    objects_as_text = True
    #: Decimals read as text keep their written precision (``1.0`` stays ``1.0``); when False the compiler
    #: reads a decimal's text through :meth:`decimal_text`.
    decimal_text_exact = True

    # -- literals, names, types ------------------------------------------------------------------------
    def quote(self, text: str) -> str:
        return quote(text)

    def ident(self, name: str) -> str:
        return ident(name)

    def type_sql(self, logical: str) -> str:
        """The engine's spelling of a logical type (``VARCHAR``, ``JSON[]``...)."""
        return logical

    def cast(self, value: str, logical: str, source: str | None = None) -> str:
        """``value`` as ``logical``; ``source`` (its logical type, when known) lets a dialect keep JSON text."""
        return f"CAST({value} AS {self.type_sql(logical)})"

    def try_cast(self, value: str, logical: str) -> str:
        return f"TRY_CAST({value} AS {self.type_sql(logical)})"

    def null(self, logical: str) -> str:
        return f"CAST(NULL AS {self.type_sql(logical)})"

    def empty_list(self, element: str) -> str:
        """An empty list of ``element`` (a logical type)."""
        return f"CAST([] AS {self.type_sql(element + '[]')})"

    # -- the raw line ----------------------------------------------------------------------------------
    def document_column(self, raw: str) -> str | None:
        """SQL that parses the raw line once, selected as ``_v`` before extraction; None: read the text."""
        return None

    def document(self, raw: str) -> str:
        """The resource as a JSON value, given the raw text column."""
        return raw

    def text_field(self, raw: str, path: str) -> str:
        """A string field of the raw text (before any parse), e.g. ``$.resourceType``."""
        return self.json_extract_string(raw, path)

    def output(self, value: str, logical: str) -> str:
        """A result column as the engine hands it out (JSON as JSON text on every engine)."""
        return value

    # -- JSON ------------------------------------------------------------------------------------------
    def member_step(self, name: str) -> str:
        """The JSON path step of an object member: ``.name``, quoted when it is not an identifier."""
        return f".{name}" if name.isidentifier() else '."' + name.replace('"', '\\"') + '"'

    def json_extract(self, base: str, path: str) -> str:
        """The JSON at ``path`` (NULL when absent); a JSON[] list when the path has ``[*]``."""
        return f"json_extract({base}, {self.quote(path)})"

    def json_extract_string(self, base: str, path: str) -> str:
        """Like :meth:`json_extract`, strings unquoted (VARCHAR or VARCHAR[])."""
        return f"json_extract_string({base}, {self.quote(path)})"

    def json_extract_string_many(self, base: str, paths: list[str]) -> str:
        """Several wildcard-free paths in one parse: a VARCHAR[] in the order of ``paths``."""
        return f"json_extract_string({base}, [{', '.join(self.quote(p) for p in paths)}])"

    def json_extract_many(self, base: str, paths: list[str]) -> str:
        """Several wildcard-free paths in one parse: a JSON[] in the order of ``paths``."""
        return f"json_extract({base}, [{', '.join(self.quote(p) for p in paths)}])"

    def json_type(self, base: str, path: str = "$") -> str:
        """The JSON type name at ``path``: OBJECT, ARRAY, VARCHAR, BOOLEAN, BIGINT, UBIGINT, DOUBLE, NULL."""
        return f"json_type({base}, {self.quote(path)})"

    def json_array_length(self, base: str, path: str) -> str:
        """Items of the array at ``path`` (0 or NULL when it is not an array)."""
        return f"json_array_length({base}, {self.quote(path)})"

    def json_to_string(self, json_value: str) -> str:
        """A JSON scalar as text (strings unquoted)."""
        return f"json_extract_string({json_value}, '$')"

    def decimal_text(self, json_value: str) -> str:
        """A JSON number as the text DuckDB gives it (``1.0`` -> ``1.0``, ``1.50`` -> ``1.5``, ``5`` -> ``5``)."""
        return self.json_to_string(json_value)

    def to_json(self, value: str) -> str:
        """A SQL scalar as a JSON value."""
        return f"to_json({value})"

    def parse_json(self, text: str) -> str:
        """JSON text (from the text extraction) as a JSON value."""
        return f"CAST({text} AS JSON)"

    # -- lists -----------------------------------------------------------------------------------------
    def transform(self, items: str, var: str, body: str, index_var: str | None = None) -> str:
        """``body`` for each item; ``index_var`` is the 1-based position in DuckDB (see :meth:`zero_based`)."""
        params = f"{var}, {index_var}" if index_var else var
        return f"list_transform({items}, lambda {params}: {body})"

    def zero_based(self, index_var: str) -> str:
        """The 0-based position from a :meth:`transform` index variable."""
        return f"({index_var} - 1)"

    def filter(self, items: str, var: str, predicate: str) -> str:
        return f"list_filter({items}, lambda {var}: {predicate})"

    def flatten(self, items: str) -> str:
        """A list of lists as one list; NULL inner lists count as empty."""
        return f"flatten({items})"

    def concat(self, lists: list[str]) -> str:
        """The lists one after the other; NULL lists count as empty."""
        return lists[0] if len(lists) == 1 else "list_concat(" + ", ".join(lists) + ")"

    def append(self, items: str, value: str) -> str:
        return f"list_append({items}, {value})"

    def empty_like(self, items: str) -> str:
        """An empty list of the type of ``items``."""
        return "[]"

    def length(self, items: str) -> str:
        """Number of items; 0 for NULL."""
        return f"coalesce(len({items}), 0)"

    def element(self, items: str, index_1based: str) -> str:
        """Item ``index_1based`` (negative counts from the end); NULL when there is none."""
        return f"({items})[{index_1based}]"

    def list_of(self, items: list[str]) -> str:
        return "[" + ", ".join(items) + "]"

    def non_null_list(self, value: str, var: str) -> str:
        """``[value]``, or an empty list when value is NULL."""
        return f"list_filter([{value}], lambda {var}: {var} IS NOT NULL)"

    def distinct(self, items: str, rep: str = "str") -> str:
        return f"list_distinct({items})"

    def list_contains(self, items: str, value: str, rep: str = "str") -> str:
        return f"list_contains({items}, {value})"

    def compare(self, left: str, op: str, right: str, rep: str = "str") -> str:
        """``left op right`` for two scalars of representation ``rep``."""
        return f"({left} {op} {right})"

    def list_equal(self, left: str, right: str, rep: str = "str") -> str:
        """``left = right`` for two lists of representation ``rep`` (same items in the same order)."""
        return f"({left} = {right})"

    def join(self, items: str, separator: str) -> str:
        return f"coalesce(array_to_string({items}, {separator}), '')"

    def or_null_item(self, items: str, element: str) -> str:
        """``items``, or a list of one NULL of ``element`` (logical type) when it is empty (forEachOrNull)."""
        return f"coalesce(nullif({items}, []), [{self.null(element)}])"

    def struct(self, fields: list[tuple[str, str]]) -> str:
        return "{" + ", ".join(f"{self.quote(name)}: {value}" for name, value in fields) + "}"

    def struct_field(self, struct: str, name: str) -> str:
        return f"{struct}.{self.ident(name)}"

    def unnest(self, items: str) -> str:
        """One row per item of ``items`` (in the SELECT list)."""
        return f"unnest({items})"

    def fold(self, count: int, start: str, acc: str, step: str) -> str:
        """``step`` applied ``count`` times to ``start`` (``acc`` names the state in ``step``)."""
        level = acc + "_level"
        return f"list_reduce(range({count}), lambda {acc}, {level}: {step}, {start})"

    def sort_by(self, items: str, key: str) -> str:
        """The structs of ``items`` in ascending order of their field ``key`` (keys are distinct)."""
        return f"list_sort({items})"

    # -- scalars ---------------------------------------------------------------------------------------
    def error(self, message: str) -> str:
        """Raise a data error at run time (only for the rows that reach it)."""
        return f"error({self.quote(ERROR_MARKER + ' ' + message)})"

    def contains(self, text: str, needle: str) -> str:
        return f"contains({text}, {needle})"

    def starts_with(self, text: str, prefix: str) -> str:
        return f"starts_with({text}, {prefix})"

    def ends_with(self, text: str, suffix: str) -> str:
        return f"suffix({text}, {suffix})"

    def regexp_extract(self, text: str, pattern: str, group: int) -> str:
        """Group ``group`` of the first match of the regular expression ``pattern`` (Python text); '' if none."""
        return f"regexp_extract({text}, {self.quote(pattern)}, {group})"

    def date_text(self, date: str) -> str:
        """A DATE as ``YYYY-MM-DD`` text."""
        return f"strftime({date}, '%Y-%m-%d')"

    def int_divide(self, left: str, right: str) -> str:
        return f"CAST(trunc({left} / nullif({right}, 0)) AS BIGINT)"

    def divide(self, left: str, right: str) -> str:
        return f"(CAST({left} AS DOUBLE) / nullif({right}, 0))"

    def modulo(self, left: str, right: str) -> str:
        return f"({left} % nullif({right}, 0))"


# Spark's names of the logical types.
_SPARK_TYPES = {"VARCHAR": "STRING", "JSON": "VARIANT", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "BOOLEAN": "BOOLEAN"}
# schema_of_variant's leading word -> DuckDB's json_type name (the compiler tests these).
_SPARK_JSON_TYPES = (
    ("OBJECT", "OBJECT"),
    ("ARRAY", "ARRAY"),
    ("STRING", "VARCHAR"),
    ("BOOLEAN", "BOOLEAN"),
    ("TINYINT", "BIGINT"),
    ("SMALLINT", "BIGINT"),
    ("INT", "BIGINT"),
    ("BIGINT", "BIGINT"),
    ("DECIMAL", "DOUBLE"),
    ("FLOAT", "DOUBLE"),
    ("DOUBLE", "DOUBLE"),
    ("VOID", "NULL"),
)


class SparkDialect(Dialect):
    """Spark SQL 4.x (``VARIANT``, ``try_variant_get``, ``try_parse_json``); see the module docstring.

    One instance per compiled view: it numbers the lambda variables it adds itself.
    """

    name = "spark"
    objects_as_text = False
    # A VARIANT keeps 1.0 as DECIMAL(1,0) (text "1") but 5 as BIGINT: see decimal_text().
    decimal_text_exact = False

    def __init__(self) -> None:
        self._counter = itertools.count()

    def _var(self) -> str:
        return f"_k{next(self._counter)}"

    # -- literals, names, types ------------------------------------------------------------------------
    def quote(self, text: str) -> str:
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def ident(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def type_sql(self, logical: str) -> str:
        if logical.endswith("[]"):
            return f"ARRAY<{self.type_sql(logical[:-2])}>"
        return _SPARK_TYPES.get(logical, logical)

    def cast(self, value: str, logical: str, source: str | None = None) -> str:
        if source == "JSON" and logical == "VARCHAR":
            return f"to_json({value})"  # DuckDB's CAST(JSON AS VARCHAR) keeps the JSON text
        if logical == "JSON":
            return f"CAST({value} AS VARIANT)"
        return f"CAST({value} AS {self.type_sql(logical)})"

    def try_cast(self, value: str, logical: str) -> str:
        return f"try_cast({value} AS {self.type_sql(logical)})"

    def empty_list(self, element: str) -> str:
        return f"CAST(array() AS {self.type_sql(element + '[]')})"

    # -- the raw line ----------------------------------------------------------------------------------
    def document_column(self, raw: str) -> str | None:
        return f"try_parse_json({raw})"

    def document(self, raw: str) -> str:
        return "_v"

    def text_field(self, raw: str, path: str) -> str:
        return f"get_json_object({raw}, {self.quote(path)})"

    def output(self, value: str, logical: str) -> str:
        if logical == "JSON":
            return f"to_json({value})"
        if logical == "JSON[]":
            x = self._var()
            return f"transform({value}, {x} -> to_json({x}))"
        return value

    # -- JSON ------------------------------------------------------------------------------------------
    def member_step(self, name: str) -> str:
        return f".{name}" if name.isidentifier() else "['" + name.replace("'", "\\'") + "']"

    def _get(self, base: str, path: str, as_type: str | None) -> str:
        if path == "$" and as_type is None:
            return base
        typed = f", {self.quote(as_type)}" if as_type else ""
        return f"try_variant_get({base}, {self.quote(path)}{typed})"

    def _extract(self, base: str, path: str, as_type: str | None) -> str:
        """A variant path with ``[*]`` steps: segments between wildcards are variant paths; each wildcard
        maps the rest over the array's items (items without the rest are dropped, as DuckDB does)."""
        segments = path.split("[*]")
        if len(segments) == 1:
            return self._get(base, path, as_type)
        items = self._get(base, segments[0] or "$", "array<variant>")
        empty = self.empty_list("JSON")
        items = f"coalesce({items}, {empty})"
        for middle in segments[1:-1]:
            x = self._var()
            inner = f"coalesce({self._get(x, '$' + middle, 'array<variant>')}, {empty})"
            items = f"flatten(transform({items}, {x} -> {inner}))"
        last = segments[-1]
        if not last and as_type is None:
            return items
        x, y = self._var(), self._var()
        mapped = f"transform({items}, {x} -> {self._get(x, '$' + last, as_type)})"
        return f"filter({mapped}, {y} -> {y} IS NOT NULL)" if last else mapped

    def json_extract(self, base: str, path: str) -> str:
        return self._extract(base, path, None)

    def json_extract_string(self, base: str, path: str) -> str:
        return self._extract(base, path, "string")

    def json_extract_string_many(self, base: str, paths: list[str]) -> str:
        return "array(" + ", ".join(self._get(base, p, "string") for p in paths) + ")"

    def json_extract_many(self, base: str, paths: list[str]) -> str:
        return "array(" + ", ".join(self._get(base, p, None) for p in paths) + ")"

    def json_type(self, base: str, path: str = "$") -> str:
        schema = f"schema_of_variant({self._get(base, path, None)})"
        cases = " ".join(
            f"WHEN {schema} LIKE {self.quote(spark + '%')} THEN {self.quote(duck)}"
            for spark, duck in sorted(_SPARK_JSON_TYPES, key=lambda pair: -len(pair[0]))
        )
        return f"CASE {cases} END"

    def json_array_length(self, base: str, path: str) -> str:
        return f"size({self._get(base, path, 'array<variant>')})"

    def json_to_string(self, json_value: str) -> str:
        return self.decimal_text(json_value)

    def decimal_text(self, json_value: str) -> str:
        # A number written with a point but stored with scale 0 (1.0, 2.00) gets its ".0" back, as DuckDB's
        # parser writes it; other values are their text (strings unquoted, objects as JSON text).
        text = f"try_variant_get({json_value}, '$', 'string')"
        whole = f"schema_of_variant({json_value}) LIKE 'DECIMAL(%,0)'"
        return f"CASE WHEN {whole} THEN {text} || '.0' ELSE {text} END"

    def to_json(self, value: str) -> str:
        return f"CAST({value} AS VARIANT)"

    def parse_json(self, text: str) -> str:
        return f"try_parse_json({text})"

    # -- lists -----------------------------------------------------------------------------------------
    def transform(self, items: str, var: str, body: str, index_var: str | None = None) -> str:
        params = f"({var}, {index_var})" if index_var else var
        return f"transform({items}, {params} -> {body})"

    def zero_based(self, index_var: str) -> str:
        return index_var

    def filter(self, items: str, var: str, predicate: str) -> str:
        return f"filter({items}, {var} -> {predicate})"

    def flatten(self, items: str) -> str:
        x = self._var()
        return f"flatten(filter({items}, {x} -> {x} IS NOT NULL))"

    def concat(self, lists: list[str]) -> str:
        if len(lists) == 1:
            return lists[0]
        return self.flatten("array(" + ", ".join(lists) + ")")

    def append(self, items: str, value: str) -> str:
        return f"concat({items}, array({value}))"

    def empty_like(self, items: str) -> str:
        x = self._var()
        return f"filter({items}, {x} -> false)"

    def length(self, items: str) -> str:
        return f"coalesce(size({items}), 0)"

    def element(self, items: str, index_1based: str) -> str:
        if re.fullmatch(r"-?[1-9][0-9]*", index_1based):
            return f"try_element_at({items}, {index_1based})"
        index = f"({index_1based})"
        return f"CASE WHEN {index} = 0 THEN NULL ELSE try_element_at({items}, CAST({index} AS INT)) END"

    def list_of(self, items: list[str]) -> str:
        return "array(" + ", ".join(items) + ")"

    def non_null_list(self, value: str, var: str) -> str:
        return f"filter(array({value}), {var} -> {var} IS NOT NULL)"

    def _as_text(self, items: str) -> str:
        x = self._var()
        return f"transform({items}, {x} -> to_json({x}))"

    def distinct(self, items: str, rep: str = "str") -> str:
        if rep != "json":
            return f"array_distinct({items})"
        x = self._var()
        return f"transform(array_distinct({self._as_text(items)}), {x} -> parse_json({x}))"

    def list_contains(self, items: str, value: str, rep: str = "str") -> str:
        if rep != "json":
            return f"array_contains({items}, {value})"
        x = self._var()
        return f"exists({items}, {x} -> to_json({x}) = to_json({value}))"

    def compare(self, left: str, op: str, right: str, rep: str = "str") -> str:
        if rep != "json":
            return f"({left} {op} {right})"
        return f"(to_json({left}) {op} to_json({right}))"

    def list_equal(self, left: str, right: str, rep: str = "str") -> str:
        if rep != "json":
            return f"({left} = {right})"
        return f"({self._as_text(left)} = {self._as_text(right)})"

    def join(self, items: str, separator: str) -> str:
        return f"coalesce(array_join({items}, {separator}), '')"

    def or_null_item(self, items: str, element: str) -> str:
        return f"CASE WHEN coalesce(size({items}), 0) > 0 THEN {items} ELSE array({self.null(element)}) END"

    def struct(self, fields: list[tuple[str, str]]) -> str:
        return "named_struct(" + ", ".join(f"{self.quote(name)}, {value}" for name, value in fields) + ")"

    def unnest(self, items: str) -> str:
        return f"explode({items})"

    def fold(self, count: int, start: str, acc: str, step: str) -> str:
        level = acc + "_level"
        return f"aggregate(sequence(0, {count - 1}), {start}, ({acc}, {level}) -> {step})"

    def sort_by(self, items: str, key: str) -> str:
        a, b = self._var(), self._var()
        ka, kb = self.struct_field(a, key), self.struct_field(b, key)
        return f"array_sort({items}, ({a}, {b}) -> CASE WHEN {ka} < {kb} THEN -1 WHEN {ka} > {kb} THEN 1 ELSE 0 END)"

    # -- scalars ---------------------------------------------------------------------------------------
    def error(self, message: str) -> str:
        return f"raise_error({self.quote(ERROR_MARKER + ' ' + message)})"

    def contains(self, text: str, needle: str) -> str:
        return f"contains({text}, {needle})"

    def starts_with(self, text: str, prefix: str) -> str:
        return f"startswith({text}, {prefix})"

    def ends_with(self, text: str, suffix: str) -> str:
        return f"endswith({text}, {suffix})"

    def date_text(self, date: str) -> str:
        return f"date_format({date}, 'yyyy-MM-dd')"

    def int_divide(self, left: str, right: str) -> str:
        return f"CAST({left} / nullif({right}, 0) AS BIGINT)"


DIALECTS: dict[str, type[Dialect]] = {"duckdb": Dialect, "spark": SparkDialect}


def dialect_named(dialect: str | Dialect | None) -> Dialect:
    """A fresh dialect for ``duckdb`` (the default) or ``spark``, or the instance given."""
    if isinstance(dialect, Dialect):
        return dialect
    name = dialect or "duckdb"
    if name not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {name!r}: use {' or '.join(DIALECTS)}")
    return DIALECTS[name]()
