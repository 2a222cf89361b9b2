"""A ViewDefinition compiled to one SQL query over a relation of raw FHIR resources.

The query reads a relation with one text column (``resource`` by default) holding one resource's JSON per
row, exactly as NDJSON lines are, and returns the view's rows. Every row depends on one resource only, so the
same SQL runs on a whole export, on a batch of lines, or inside the population engine over its own table.

How the view's structure maps to SQL (the processing model of the specification):

- a select without ``forEach``/``forEachOrNull``/``repeat``/``unionAll`` gives exactly one row: its columns
  are plain projections, and a view made only of those is a plain ``SELECT`` (the fast path);
- otherwise each select builds, per resource, a list of row structs: ``forEach`` maps its body over the
  collection (``%rowIndex`` is the 0-based lambda index), ``forEachOrNull`` maps it over ``[NULL]`` when the
  collection is empty, ``unionAll`` concatenates its branches, nested selects cross-join; one ``unnest``
  turns the list into rows;
- ``repeat`` is unrolled to :data:`REPEAT_DEPTH` levels in depth-first pre-order; data nested deeper raises
  a data error rather than silently dropping rows.

Before any JSON is parsed, rows are narrowed by cheap text tests: the resource type (a prefix test, exact when
the exporter writes ``resourceType`` first, as FHIR JSON does by convention, else a substring test then an exact
check) and, for ``where`` paths that compare an element with a plain string literal, the presence of that
literal as a JSON string (see :func:`literal_prefilter`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from mildpath.population.views import fhirpath as fp
from mildpath.population.views import schema
from mildpath.population.views.errors import InvalidView
from mildpath.population.views.expressions import Context, ExpressionCompiler, Scope, Val
from mildpath.population.views.model import Column, Select, ViewDefinition, parse_view
from mildpath.population.views.sql import SQL_TYPE, Dialect, dialect_named

REPEAT_DEPTH = 32
# Literals whose JSON encoding is the literal itself between quotes, whatever the exporter's escaping style.
_SAFE_LITERAL = re.compile(r"^[A-Za-z0-9 _.:@+\-]+$")
# Functions that keep a path a plain navigation of the resource's own JSON values.
_NAVIGATION_FUNCTIONS = {"where", "first", "last", "single", "ofType", "extension"}


@dataclass(frozen=True)
class OutputColumn:
    """A column of the result: SQL type (``VARCHAR``, ``BIGINT[]``, ``JSON``...) and the declared FHIR type."""

    name: str
    sql_type: str
    fhir_type: str | None
    collection: bool


@dataclass(frozen=True)
class CompiledView:
    """The SQL of one view. Use :meth:`sql` to get a query over a relation of raw resources."""

    view: ViewDefinition
    resource_type: str
    columns: tuple[OutputColumn, ...]
    resource_column: str
    prefilter: str
    where: tuple[str, ...]
    extractions: tuple[tuple[str, str], ...]
    single: tuple[tuple[str, str], ...]
    row_list: str | None
    dialect: Dialect

    def sql(self, source: str = "resources") -> str:
        """The query over ``source`` (a table name or a parenthesised subquery) with the raw text column.

        Shape: the text tests pick the lines of the view's resource type; one multi-path extraction per line
        reads every value the view needs (``_s`` text, ``_j`` JSON); the ``where`` paths filter; the columns
        are projected, through one ``unnest`` when a select produces other than exactly one row. On Spark
        the kept lines are parsed once (``_v``, a VARIANT; a line that is not JSON is dropped) before the
        extraction, and JSON columns come out as JSON text.
        """
        d = self.dialect
        raw = d.ident(self.resource_column)
        extracted = [raw] + [f"{sql} AS {name}" for name, sql in self.extractions]
        document = d.document_column(raw)
        if document is None:
            base = f"(SELECT {', '.join(extracted)} FROM {source} AS _src WHERE {self.prefilter}) AS _base"
        else:
            parsed = f"SELECT {raw}, {document} AS _v FROM {source} AS _src WHERE {self.prefilter}"
            extracted.insert(1, "_v")
            base = f"(SELECT {', '.join(extracted)} FROM ({parsed}) AS _doc WHERE _v IS NOT NULL) AS _base"
        where = f" WHERE {' AND '.join(self.where)}" if self.where else ""
        types = {c.name: c.sql_type for c in self.columns}
        if self.row_list is None:
            single = ", ".join(f"{d.output(expr, types[name])} AS {d.ident(name)}" for name, expr in self.single)
            return f"SELECT {single} FROM {base}{where}"
        single = ", ".join(f"{expr} AS {d.ident(name)}" for name, expr in self.single)
        from_single = {name for name, _ in self.single}
        fields = ", ".join(
            f"{d.output(d.ident(c.name) if c.name in from_single else d.struct_field('_row', c.name), c.sql_type)} "
            f"AS {d.ident(c.name)}"
            for c in self.columns
        )
        inner = f"{single}, " if single else ""
        return f"SELECT {fields} FROM (SELECT {inner}{d.unnest(self.row_list)} AS _row FROM {base}{where}) AS _rows"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class _Rows:
    """Rows of a select for one context: ``fields`` when exactly one row, else ``items`` (a list of structs)."""

    names: tuple[str, ...]
    types: tuple[str, ...]
    fields: tuple[str, ...] | None
    items: str | None = None


_NO_ROWS_YET = _Rows((), (), ())


class _ViewCompiler:
    def __init__(self, view: ViewDefinition, resource_column: str, dialect: Dialect) -> None:
        self.view = view
        self.d = dialect
        self.exprs = ExpressionCompiler({c.name: c for c in view.constants}, dialect)
        self.document = dialect.document(dialect.ident(resource_column))
        self.root_context = self.exprs.open_context(self.document, item=False)
        self.resource_column = resource_column
        root = Val(ftype=view.resource, base=self.document)
        self.root = Scope(this=root, resource=root, row_index="0", field="ViewDefinition")
        self.fhir_types: dict[str, str | None] = {}

    # -- columns and selects -----------------------------------------------------------------------------------
    def column(self, column: Column, scope: Scope) -> tuple[str, str]:
        """(SQL, SQL type) of one column in ``scope``."""
        scope = replace(scope, field=f"{column.field}.path")
        value = self.exprs.compile(column.expr, scope)
        if column.type is not None:
            declared = _fhir_type_name(column.type)
            if declared in schema.PRIMITIVE_REP:
                rep = schema.PRIMITIVE_REP[declared]
            elif schema.is_known_type(declared):
                rep = "json"
            else:
                raise InvalidView(f"unknown FHIR type {column.type!r}", field=f"{column.field}.type")
            self.fhir_types[column.name] = declared
        else:
            rep = value.natural_rep
            self.fhir_types[column.name] = value.ftype
        sql_type = SQL_TYPE[rep]
        if column.collection:
            items = self.exprs.as_list(value, rep)
            return f"coalesce({items}, {self.d.empty_list(sql_type)})", f"{sql_type}[]"
        what = f"column {column.name!r} (path {column.path!r}) returned more than one value; use collection: true"
        sql, is_list = self.exprs.materialize(value, rep)
        if is_list:
            sql = f"CASE WHEN {self.d.length(sql)} > 1 THEN {self.d.error(what)} ELSE {self.d.element(sql, '1')} END"
        if value.empty:
            sql = self.d.null(sql_type)
        return sql, sql_type

    def select(self, select: Select, scope: Scope) -> _Rows:
        items: str | None = None
        x = index = ""
        context: Context | None = None
        if select.for_each is not None or select.for_each_or_null is not None or select.repeat:
            items, element, x, index = self.iteration(select, scope)
            if element.is_path:
                context = self.exprs.open_context(x, item=True)
            scope = Scope(this=element, resource=scope.resource, row_index=self.d.zero_based(index), field=select.field)
        rows = _Rows((), (), ())
        if select.columns:
            compiled = [self.column(c, scope) for c in select.columns]
            rows = _Rows(
                tuple(c.name for c in select.columns), tuple(t for _, t in compiled), tuple(s for s, _ in compiled)
            )
        for child in select.selects:
            rows = self.product(rows, self.select(child, scope))
        if select.union_all:
            rows = self.product(rows, self.union([self.select(b, scope) for b in select.union_all]))
        if items is None:
            return rows
        if context is not None and (context.text_paths or context.json_paths):
            raw = self.exprs.var("raw")
            items = self.d.transform(items, raw, self.d.struct(context.extractions(raw, self.d)))
        body = self.struct(rows) if rows.fields is not None else rows.items
        assert body is not None
        mapped = self.d.transform(items, x, body, index_var=index)
        return _Rows(rows.names, rows.types, None, mapped if rows.fields is not None else self.d.flatten(mapped))

    def top_level_parts(self, selects: tuple[Select, ...]) -> list[_Rows]:
        """The row sets the view cross-joins at resource level.

        A select without forEach/forEachOrNull/repeat is only a cross join of its columns and children, so
        it is opened up: its single-row parts become plain projections next to the one ``unnest``, instead of
        being copied into every row struct.
        """
        parts: list[_Rows] = []
        for select in selects:
            if select.for_each is not None or select.for_each_or_null is not None or select.repeat:
                parts.append(self.select(select, self.root))
                continue
            if select.columns:
                compiled = [self.column(c, self.root) for c in select.columns]
                parts.append(
                    _Rows(
                        tuple(c.name for c in select.columns),
                        tuple(t for _, t in compiled),
                        tuple(sql for sql, _ in compiled),
                    )
                )
            parts.extend(self.top_level_parts(select.selects))
            if select.union_all:
                parts.append(self.union([self.select(b, self.root) for b in select.union_all]))
        return parts

    def iteration(self, select: Select, scope: Scope) -> tuple[str, Val, str, str]:
        """(SQL list of the items, the item as a value, item variable, 1-based index variable)."""
        if select.repeat:
            collection, element_type = self.repeat(select.repeat, scope)
            rep = "json"
        else:
            node = select.for_each if select.for_each is not None else select.for_each_or_null
            assert node is not None
            key = "forEach" if select.for_each is not None else "forEachOrNull"
            value = self.exprs.compile(node, replace(scope, field=f"{select.field}.{key}"))
            rep, element_type = value.natural_rep, value.ftype
            collection = self.exprs.as_list(value, rep)
        if select.for_each_or_null is not None:
            collection = self.d.or_null_item(collection, SQL_TYPE[rep])
        x, index = self.exprs.var("e"), self.exprs.var("i")
        element = Val(ftype=element_type, base=x) if rep == "json" else Val(ftype=element_type, sql=x, rep=rep)
        return collection, element, x, index

    def repeat(self, paths: tuple[fp.Node, ...], scope: Scope) -> tuple[str, str | None]:
        """The nodes reached by ``paths`` applied recursively, in depth-first pre-order, as a JSON list.

        A fold over :data:`REPEAT_DEPTH` levels (``list_reduce``; Spark's ``aggregate``) carries the frontier
        and the nodes found so far; each node keeps its path of 1-based positions, and sorting by that key gives
        pre-order. A frontier still holding nodes after the last level is a data error, never silent loss.
        """
        d = self.d
        first = [self.exprs.compile(p, scope) for p in paths]
        # the node type: what the paths reach where the element table knows them (`answer.item` is not an
        # element of QuestionnaireResponse itself, but every node either path reaches is an item)
        types = {v.ftype for v in first if v.ftype is not None}
        element_type = types.pop() if len(types) == 1 else None

        empty = d.empty_list("JSON")

        def children(node: str) -> str:
            inner = replace(scope, this=Val(ftype=element_type, base=node))
            return d.concat([f"coalesce({self.exprs.json_list(self.exprs.compile(p, inner))}, {empty})" for p in paths])

        c, i = self.exprs.var("c"), self.exprs.var("i")
        top = d.concat([f"coalesce({self.exprs.json_list(v)}, {empty})" for v in first])
        found = d.transform(top, c, d.struct([("k", d.list_of([i])), ("n", c)]), index_var=i)
        start = d.struct([("f", found), ("a", d.empty_like(found))])
        acc, p, c, i = (self.exprs.var(n) for n in ("acc", "p", "c", "i"))
        frontier = d.struct_field(acc, "f")
        key = d.append(d.struct_field(p, "k"), i)
        kids = d.transform(children(d.struct_field(p, "n")), c, d.struct([("k", key), ("n", c)]), index_var=i)
        step = d.struct(
            [("f", d.flatten(d.transform(frontier, p, kids))), ("a", d.concat([d.struct_field(acc, "a"), frontier]))]
        )
        folded = d.fold(REPEAT_DEPTH, start, acc, step)
        state, s = self.exprs.var("state"), self.exprs.var("s")
        nodes = d.transform(d.sort_by(d.struct_field(state, "a"), "k"), s, d.struct_field(s, "n"))
        message = f"repeat nests deeper than {REPEAT_DEPTH} levels"
        checked = f"CASE WHEN {d.length(d.struct_field(state, 'f'))} > 0 THEN {d.error(message)} ELSE {nodes} END"
        return d.element(d.transform(d.list_of([folded]), state, checked), "1"), element_type

    def struct(self, rows: _Rows) -> str:
        assert rows.fields is not None
        return self.d.struct(list(zip(rows.names, rows.fields, strict=True)))

    def as_items(self, rows: _Rows) -> str:
        return self.d.list_of([self.struct(rows)]) if rows.fields is not None else (rows.items or self.d.list_of([]))

    def product(self, left: _Rows, right: _Rows) -> _Rows:
        """Every row of ``left`` joined with every row of ``right`` (columns in that order)."""
        names, types = left.names + right.names, left.types + right.types
        if not left.names and left.fields is not None:
            return right
        if not right.names and right.fields is not None:
            return left
        if left.fields is not None and right.fields is not None:
            return _Rows(names, types, left.fields + right.fields)
        if left.fields is not None:
            r = self.exprs.var("row")
            fields = list(zip(names, left.fields + tuple(self.d.struct_field(r, n) for n in right.names), strict=True))
            return _Rows(
                names, types, None, self.d.transform(right.items or self.d.list_of([]), r, self.d.struct(fields))
            )
        if right.fields is not None:
            r = self.exprs.var("row")
            fields = list(zip(names, tuple(self.d.struct_field(r, n) for n in left.names) + right.fields, strict=True))
            return _Rows(
                names, types, None, self.d.transform(left.items or self.d.list_of([]), r, self.d.struct(fields))
            )
        a, b = self.exprs.var("row"), self.exprs.var("row")
        values = tuple(self.d.struct_field(a, n) for n in left.names) + tuple(
            self.d.struct_field(b, n) for n in right.names
        )
        inner = self.d.transform(
            right.items or self.d.list_of([]), b, self.d.struct(list(zip(names, values, strict=True)))
        )
        return _Rows(names, types, None, self.d.flatten(self.d.transform(left.items or self.d.list_of([]), a, inner)))

    def union(self, branches: list[_Rows]) -> _Rows:
        """unionAll: the rows of every branch; column types are unified as text where branches disagree."""
        names = branches[0].names
        types = tuple(
            branches[0].types[i] if len({b.types[i] for b in branches}) == 1 else "VARCHAR" for i in range(len(names))
        )
        lists = []
        for branch in branches:
            if branch.types != types:
                branch = self.cast_rows(branch, types)
            lists.append(self.as_items(branch))
        return _Rows(names, types, None, self.d.concat(lists))

    def cast_rows(self, rows: _Rows, types: tuple[str, ...]) -> _Rows:
        if rows.fields is not None:
            fields = tuple(
                f if t == want else self.d.cast(f, want, t)
                for f, t, want in zip(rows.fields, rows.types, types, strict=True)
            )
            return _Rows(rows.names, types, fields)
        r = self.exprs.var("row")
        values = [
            (n, self.d.struct_field(r, n) if t == want else self.d.cast(self.d.struct_field(r, n), want, t))
            for n, t, want in zip(rows.names, rows.types, types, strict=True)
        ]
        return _Rows(
            rows.names, types, None, self.d.transform(rows.items or self.d.list_of([]), r, self.d.struct(values))
        )

    # -- filters -----------------------------------------------------------------------------------------
    def where(self) -> list[str]:
        clauses = []
        for where in self.view.where:
            scope = replace(self.root, field=f"{where.field}.path")
            value = self.exprs.compile(where.expr, scope)
            if value.ftype not in (None, "boolean") or value.natural_rep not in ("bool", "json"):
                raise InvalidView(
                    f"where path {where.path!r} must return a boolean, not {value.ftype}", field=f"{where.field}.path"
                )
            clauses.append(f"coalesce({self.exprs.boolean(value, 'where path ' + repr(where.path))}, false)")
        return clauses

    def type_filter(self) -> str:
        t, d = self.view.resource, self.d
        raw = d.ident(self.resource_column)
        exact = f"{d.text_field(raw, '$.resourceType')} = {d.quote(t)}"
        prefix = d.starts_with(raw, d.quote('{"resourceType":"' + t + '"'))
        return f"({prefix} OR ({d.contains(raw, d.quote(chr(34) + t + chr(34)))} AND {exact}))"

    def compile(self) -> CompiledView:
        if self.view.resource not in schema.resource_types():
            raise InvalidView(f"{self.view.resource!r} is not a FHIR resource type", field="resource")
        single = _NO_ROWS_YET
        many: _Rows | None = None
        for part in self.top_level_parts(self.view.selects):
            if part.fields is not None:
                single = self.product(single, part)
            else:
                many = part if many is None else self.product(many, part)
        prefilters = [self.type_filter()]
        literal = literal_prefilter(self.view, self.d, self.d.ident(self.resource_column))
        if literal:
            prefilters.append(literal)
        where = tuple(self.where())
        types = dict(zip(single.names, single.types, strict=True))
        if many is not None:
            types.update(zip(many.names, many.types, strict=True))
        columns = tuple(
            OutputColumn(name, types[name], self.fhir_types.get(name), types[name].endswith("[]"))
            for name in self.view.column_names
        )
        return CompiledView(
            view=self.view,
            resource_type=self.view.resource,
            columns=columns,
            resource_column=self.resource_column,
            prefilter=" AND ".join(prefilters),
            where=where,
            extractions=tuple(self.root_context.extractions(self.document, self.d)),
            single=tuple(zip(single.names, single.fields or (), strict=True)),
            row_list=None if many is None else many.items,
            dialect=self.d,
        )


def _fhir_type_name(name: str) -> str:
    for prefix in ("http://hl7.org/fhir/StructureDefinition/", "FHIR.", "System."):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return {"String": "string", "Boolean": "boolean", "Integer": "integer", "Decimal": "decimal"}.get(name, name)


# -- literal prefilter ---------------------------------------------------------------------------------------
def _is_navigation(node: fp.Node) -> bool:
    """A path that only walks the resource's own JSON values (so its string values appear in the text)."""
    if isinstance(node, fp.Ident | fp.This):
        return True
    if isinstance(node, fp.Member | fp.Index):
        return _is_navigation(node.target)
    if isinstance(node, fp.Call) and node.name in _NAVIGATION_FUNCTIONS:
        return node.target is None or _is_navigation(node.target)
    return False


def _where_requirements(node: fp.Node, constants: dict[str, Any]) -> list[str]:
    """Text that must be present for a navigation's where() filters to keep anything."""
    found: list[str] = []
    while True:
        if isinstance(node, fp.Call) and node.name == "where" and node.args:
            inner = _requirement(node.args[0], constants)
            if inner:
                found.append(inner)
        target = getattr(node, "target", None)
        if target is None:
            return found
        node = target


def _string_value(node: fp.Node, constants: dict[str, Any]) -> str | None:
    if isinstance(node, fp.Literal) and node.kind == "string" and isinstance(node.value, str):
        return node.value
    if isinstance(node, fp.Constant) and isinstance(constants.get(node.name), str):
        return str(constants[node.name])
    return None


def _requirement(node: fp.Node, constants: dict[str, Any]) -> str | None:
    """A boolean formula over ``contains`` tests (placeholders ``\x00lit\x00``) implied by ``node`` being true."""
    if isinstance(node, fp.Binary):
        if node.op == "and":
            parts = [p for p in (_requirement(node.left, constants), _requirement(node.right, constants)) if p]
            return " AND ".join(parts) if parts else None
        if node.op == "or":
            left, right = _requirement(node.left, constants), _requirement(node.right, constants)
            return f"({left} OR {right})" if left and right else None
        if node.op == "=":
            for path, other in ((node.left, node.right), (node.right, node.left)):
                literal = _string_value(other, constants)
                if literal is not None and _is_navigation(path) and _SAFE_LITERAL.match(literal):
                    parts = [f'\x00"{literal}"\x00', *_where_requirements(path, constants)]
                    return " AND ".join(parts)
        return None
    if isinstance(node, fp.Call):
        if node.name == "exists" and (node.target is None or _is_navigation(node.target)):
            parts = _where_requirements(node.target, constants) if node.target is not None else []
            if node.args:
                inner = _requirement(node.args[0], constants)
                if inner:
                    parts.append(inner)
            return " AND ".join(parts) if parts else None
        if node.name == "startsWith" and node.target is not None and _is_navigation(node.target) and node.args:
            prefix = _string_value(node.args[0], constants)
            if prefix is not None and _SAFE_LITERAL.match(prefix):
                return " AND ".join([f'\x00"{prefix}\x00', *_where_requirements(node.target, constants)])
    return None


def literal_prefilter(view: ViewDefinition, dialect: Dialect, raw_column: str) -> str | None:
    """A cheap text test every resource kept by the view's ``where`` paths passes (None when there is none).

    A ``where`` path that is true because ``element = 'text'`` (or ``startsWith('text')``) holds means the
    line contains ``"text"`` (or ``"text``): FHIR JSON writes strings between double quotes and the literal is
    restricted to characters no JSON encoder escapes unasked; a line holding a ``\\u`` escape is parsed anyway,
    in case it spells the literal with escapes. So the test never drops a resource the view keeps.
    """
    constants = {c.name: c.value for c in view.constants}
    parts = [r for r in (_requirement(w.expr, constants) for w in view.where) if r]
    if not parts:
        return None
    formula = " AND ".join(f"({p})" for p in parts)
    pieces = formula.split("\x00")
    # odd pieces are literals: turn each into a contains() test on the raw text
    tests = "".join(
        dialect.contains(raw_column, dialect.quote(piece)) if i % 2 else piece for i, piece in enumerate(pieces)
    )
    # a line with a \u escape might spell a literal with escapes: such a line is always parsed
    return f"({tests} OR {dialect.contains(raw_column, dialect.quote(chr(92) + 'u'))})"


def compile_view(
    view: ViewDefinition | Any, *, resource_column: str = "resource", dialect: str | Dialect | None = None
) -> CompiledView:
    """Compile a ViewDefinition (parsed or as JSON) to SQL; raise :class:`InvalidView` when it is refused.

    ``dialect`` is ``"duckdb"`` (the default), ``"spark"`` or a :class:`~mildpath.population.views.sql.Dialect`.
    A construct the engine cannot run is refused with :class:`InvalidView` naming the engine and the reason.
    """
    parsed = view if isinstance(view, ViewDefinition) else parse_view(view)
    try:
        chosen = dialect_named(dialect)
    except ValueError as exc:
        raise InvalidView(str(exc)) from None
    return _ViewCompiler(parsed, resource_column, chosen).compile()
