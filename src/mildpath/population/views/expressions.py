"""FHIRPath (the ViewDefinition subset) compiled to SQL expressions over raw FHIR JSON.

A compiled value (:class:`Val`) is one of two forms:

- a **path**: a JSON context (``base``, SQL of one JSON value, or of a JSON list when ``base_list``) plus JSON
  path steps such as ``.name`` ``[*]`` ``.given``. The FHIR element table makes steps exact at compile time
  (``name`` repeats, so ``[*]``), so ``Patient.name.given`` is ``$.name`` taken from the resource's one
  multi-path extraction (see :class:`Context`), then ``json_extract_string(names, '$[*].given[*]')`` on that
  small text: no per-item lambdas, and one parse of the resource for all the view's columns.
- **SQL**: an expression already evaluated to a scalar or a list in one representation (``rep``):
  ``json``, ``str`` (VARCHAR), ``bool``, ``int`` (BIGINT) or ``dec`` (DOUBLE).

An empty FHIRPath collection is SQL NULL (scalar) or an empty/NULL list. Elements the table does not know are
still evaluated exactly, by schema-free navigation that tests each JSON value for an array at run time.

Semantics kept from FHIRPath N1, with the deviations noted where they are made:

- operators on a collection of more than one item raise a data error at run time (singleton evaluation);
  ``=``/``!=`` compare whole collections, in order;
- ``and``/``or``/``xor``/``implies``/``not()`` use FHIRPath's three-valued logic, which is SQL's;
- dates, dateTimes, instants and times compare as ISO text: exact for values of equal precision and offset.
  FHIRPath answers empty for different precisions; this compares the text (documented deviation);
- a string never equals a number or a boolean (FHIRPath has no implicit conversion between them);
- ``getResourceKey()`` is the resource ``id``; ``getReferenceKey([Type])`` is the id part of
  ``Type/id``, ``base/Type/id``, ``Type/id/_history/v`` or ``urn:uuid:id`` (a urn:uuid matches any type:
  it cannot be resolved without the Bundle that made it, and Bulk exports write them for the patient).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from mildpath.population.views import boundaries, schema
from mildpath.population.views import fhirpath as fp
from mildpath.population.views.errors import InvalidView
from mildpath.population.views.model import Constant
from mildpath.population.views.sql import SQL_TYPE, Dialect

# FHIRPath System types and FHIR primitives, as the FHIR primitive names used in the element table.
_SYSTEM_TYPES = {
    "String": "string",
    "Boolean": "boolean",
    "Integer": "integer",
    "Decimal": "decimal",
    "Date": "date",
    "DateTime": "dateTime",
    "Time": "time",
}
# FHIR type specialisations that ofType(T) accepts for T.
_SUBTYPES = {
    "string": {"code", "id", "markdown"},
    "uri": {"url", "canonical", "oid", "uuid"},
    "integer": {"positiveInt", "unsignedInt"},
    "Quantity": {"Age", "Count", "Distance", "Duration", "SimpleQuantity", "MoneyQuantity"},
}
# JSON types a value of an (unknown) element can have for ofType(T) on schema-free data.
_JSON_TYPES = {"bool": ("BOOLEAN",), "int": ("BIGINT", "UBIGINT"), "dec": ("DOUBLE", "BIGINT", "UBIGINT")}
_REFERENCE_ID = r"([A-Za-z0-9.\-]{1,64})(?:/_history/[A-Za-z0-9.\-]{1,64})?$"


@dataclass(frozen=True)
class Val:
    """A compiled FHIRPath value (see the module docstring for the two forms)."""

    ftype: str | None
    base: str | None = None
    base_list: bool = False
    steps: tuple[str, ...] = ()
    choice: tuple[str, tuple[tuple[str, str], ...]] | None = None
    sql: str | None = None
    rep: str = "json"
    multi: bool = False
    member_of: tuple[Val, str] | None = None
    empty: bool = False

    @property
    def is_path(self) -> bool:
        return self.base is not None

    @property
    def many(self) -> bool:
        """True when the value may hold more than one item."""
        if self.empty:
            return False
        if self.is_path:
            return self.base_list or "[*]" in self.steps
        return self.multi

    @property
    def natural_rep(self) -> str:
        """The representation values of this type are held in."""
        if self.ftype is not None:
            return schema.PRIMITIVE_REP.get(self.ftype, "json")
        return "json" if self.is_path else self.rep


@dataclass
class Context:
    """A JSON value read in one parse: every wildcard-free path the view takes from it is collected here.

    The resource itself is one (its lists become the columns ``_s``/``_j``); so is each item a forEach
    iterates (the item variable becomes a struct of the two lists). ``text`` paths come back as VARCHAR
    (strings unquoted, objects and arrays as JSON text, numbers and booleans as their literal); ``json`` paths
    as JSON. So a view reads each resource with one or two parses instead of one per column.
    """

    strings: str
    jsons: str
    strings_name: str
    jsons_name: str
    is_item: bool
    text_paths: list[str] = field(default_factory=list)
    json_paths: list[str] = field(default_factory=list)

    def text(self, path: str, dialect: Dialect) -> str:
        if path not in self.text_paths:
            self.text_paths.append(path)
        return dialect.element(self.strings, str(self.text_paths.index(path) + 1))

    def json(self, path: str, dialect: Dialect) -> str:
        if path not in self.json_paths:
            self.json_paths.append(path)
        return dialect.element(self.jsons, str(self.json_paths.index(path) + 1))

    def container(self, path: str, dialect: Dialect) -> str:
        """The object or array at ``path``: JSON text where the dialect reads objects as text, else JSON."""
        return self.text(path, dialect) if dialect.objects_as_text else self.json(path, dialect)

    def extractions(self, raw: str, dialect: Dialect) -> list[tuple[str, str]]:
        """(name, SQL) of the extraction lists to compute from the raw JSON ``raw``."""
        out = []
        if self.text_paths:
            out.append((self.strings_name, dialect.json_extract_string_many(raw, self.text_paths)))
        if self.json_paths:
            out.append((self.jsons_name, dialect.json_extract_many(raw, self.json_paths)))
        return out


def empty(ftype: str | None = None) -> Val:
    """The empty collection."""
    return Val(ftype=ftype, sql="NULL", rep="json", empty=True)


@dataclass(frozen=True)
class Scope:
    """What ``$this``, ``%resource`` and ``%rowIndex`` mean where an expression is compiled."""

    this: Val
    resource: Val
    row_index: str
    field: str


@dataclass
class ExpressionCompiler:
    """Compiles FHIRPath syntax trees of one view; ``constants`` are the view's ``constant`` entries."""

    constants: dict[str, Constant]
    dialect: Dialect = field(default_factory=Dialect)
    contexts: dict[str, Context] = field(default_factory=dict)
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    # -- plumbing ----------------------------------------------------------------------------------------
    def var(self, prefix: str = "x") -> str:
        """A lambda variable name unique in this view."""
        return f"_{prefix}{next(self._counter)}"

    def invalid(self, scope: Scope, message: str) -> InvalidView:
        return InvalidView(message, field=scope.field)

    def convert(self, sql: str, from_rep: str, to_rep: str, is_list: bool) -> str:
        """Convert SQL values (a scalar or a list) between representations."""
        d = self.dialect
        if from_rep == to_rep:
            return sql
        if to_rep == "json":
            if is_list:
                x = self.var()
                return d.transform(sql, x, d.to_json(x))
            return d.to_json(sql)
        if from_rep == "json" and to_rep == "str":
            if is_list:
                x = self.var()
                return d.transform(sql, x, d.json_to_string(x))
            return d.json_to_string(sql)
        sql_type = SQL_TYPE[to_rep] + ("[]" if is_list else "")
        if to_rep == "str" or (from_rep, to_rep) == ("int", "dec"):
            return d.cast(sql, sql_type, SQL_TYPE[from_rep] + ("[]" if is_list else ""))
        return d.try_cast(sql, sql_type)

    def expand_choice(self, v: Val) -> Val:
        """A choice element (``value[x]``) used without ofType(): whichever alternative is present."""
        assert v.choice is not None
        name, alternatives = v.choice
        parent = replace(v, choice=None)
        options = [replace(parent, steps=parent.steps + (f".{name}{suffix}",), ftype=t) for suffix, t in alternatives]
        types = {t for _, t in alternatives}
        ftype = types.pop() if len(types) == 1 else None
        if not parent.many:
            return Val(ftype=ftype, sql="coalesce(" + ", ".join(self.json_scalar(o) for o in options) + ")")
        return Val(ftype=ftype, sql=self.dialect.concat([self.json_list(o) for o in options]), multi=True)

    def materialize(self, v: Val, rep: str) -> tuple[str, bool]:
        """SQL of ``v`` in ``rep``; the flag says whether it is a list."""
        d = self.dialect
        if v.empty:
            return d.null(SQL_TYPE[rep]), False
        if v.choice is not None:
            v = self.expand_choice(v)
        if not v.is_path:
            return self.convert(v.sql or "NULL", v.rep, rep, v.multi), v.multi
        assert v.base is not None
        if not v.base_list and v.base in self.contexts:
            return self.from_context(v, rep)
        path = "$" + "".join(v.steps)
        wildcard = "[*]" in v.steps
        if not v.steps:
            return self.convert(v.base, "json", rep, v.base_list), v.base_list
        extract = d.json_extract_string if rep == "str" else d.json_extract
        text_rep = "str" if rep == "str" else "json"
        if not v.base_list:
            return self.convert(extract(v.base, path), text_rep, rep, wildcard), wildcard
        x = self.var()
        inner = extract(x, path)
        if wildcard:
            items = d.flatten(d.transform(v.base, x, inner))
        else:
            y = self.var()
            items = d.filter(d.transform(v.base, x, inner), y, f"{y} IS NOT NULL")
        return self.convert(items, text_rep, rep, True), True

    def open_context(self, base: str, *, item: bool) -> Context:
        """Make ``base`` (the resource column, or a forEach item variable) an extraction context."""
        if item:
            d = self.dialect
            context = Context(d.struct_field(base, "s"), d.struct_field(base, "j"), "s", "j", is_item=True)
        else:
            context = Context("_s", "_j", "_s", "_j", is_item=False)
        self.contexts[base] = context
        return context

    def from_context(self, v: Val, rep: str) -> tuple[str, bool]:
        """A path on an extraction context: the part before the first ``[*]`` comes from its one parse."""
        assert v.base is not None
        d = self.dialect
        context = self.contexts[v.base]
        steps = v.steps
        if not steps and not context.is_item:
            return self.convert(v.base, "json", rep, False), False  # the resource's own text
        exact = d.decimal_text_exact or v.ftype != "decimal"
        if "[*]" in steps:
            first = steps.index("[*]")
            array = context.container("$" + "".join(steps[:first]), d)
            rest = "$" + "".join(steps[first:])
            if rep == "str" and exact:
                return d.json_extract_string(array, rest), True
            return self.convert(d.json_extract(array, rest), "json", rep, True), True
        path = "$" + "".join(steps)
        if rep == "str" and not exact:
            return d.decimal_text(context.json(path, d)), False
        if rep in ("str", "bool", "int", "dec"):
            # the text of a number or boolean casts exactly; strings come unquoted
            return self.convert(context.text(path, d), "str", rep, False), False
        if v.ftype is not None and v.ftype not in schema.PRIMITIVE_REP:
            # an object or array: its text is JSON text
            if d.objects_as_text:
                return d.parse_json(context.text(path, d)), False
            return context.json(path, d), False
        return context.json(path, d), False

    def as_list(self, v: Val, rep: str) -> str:
        """``v`` as a SQL list in ``rep`` (NULL or [] when empty)."""
        sql, is_list = self.materialize(v, rep)
        return sql if is_list else self.dialect.non_null_list(sql, self.var())

    def json_list(self, v: Val) -> str:
        return self.as_list(v, "json")

    def json_scalar(self, v: Val) -> str:
        return self.materialize(v, "json")[0]

    def scalar(self, v: Val, rep: str, what: str) -> str:
        """``v`` as one SQL value; a collection of several items is a data error (singleton evaluation)."""
        sql, is_list = self.materialize(v, rep)
        if not is_list:
            return sql
        d = self.dialect
        return (
            f"CASE WHEN {d.length(sql)} > 1 THEN {d.error(what + ' returned more than one value')} "
            f"ELSE {d.element(sql, '1')} END"
        )

    def boolean(self, v: Val, what: str) -> str:
        """``v`` in a boolean context: a boolean, or true for any other single item (FHIRPath §4.5)."""
        if v.empty:
            return self.dialect.null("BOOLEAN")
        rep = v.natural_rep
        if rep == "bool":
            return self.scalar(v, "bool", what)
        if rep == "json":
            s = self.scalar(v, "json", what)
            return f"coalesce({self.dialect.try_cast(s, 'BOOLEAN')}, CASE WHEN {s} IS NOT NULL THEN true END)"
        s = self.scalar(v, rep, what)
        return f"CASE WHEN {s} IS NOT NULL THEN true END"

    # -- navigation ----------------------------------------------------------------------------------------
    def navigate(self, v: Val, name: str) -> Val:
        """``v.name``: exact JSON path steps when the element table knows the element, else schema-free."""
        if v.empty:
            return empty()
        if v.choice is not None:
            v = self.expand_choice(v)
        if v.is_path:
            element = schema.element(v.ftype, name)
            if element is not None:
                if element.choices:
                    return replace(v, choice=(name, element.choices), ftype=None, member_of=None)
                steps = v.steps + (f".{name}",) + (("[*]",) if element.is_array else ())
                return replace(v, steps=steps, ftype=element.type, member_of=None)
        elif v.rep != "json":
            return empty()  # a primitive value has no child elements in this subset
        d = self.dialect
        items = self.json_list(v)
        x, y = self.var(), self.var()
        member = "$" + d.member_step(name)
        child_type = d.json_type(x, member)
        children = (
            f"CASE WHEN {child_type} = 'ARRAY' THEN {d.json_extract(x, member + '[*]')} "
            f"WHEN {child_type} = 'NULL' THEN {d.empty_list('JSON')} "
            f"ELSE {d.non_null_list(d.json_extract(x, member), y)} END"
        )
        return Val(ftype=None, sql=d.flatten(d.transform(items, x, children)), multi=True, member_of=(v, name))

    def of_type(self, v: Val, type_name: str) -> Val:
        """``v.ofType(T)``: selects a choice alternative (``value.ofType(Quantity)`` is ``valueQuantity``)."""
        t = _SYSTEM_TYPES.get(type_name, type_name)
        if v.empty:
            return empty(t)
        if v.choice is not None:
            name, alternatives = v.choice
            for suffix, alt_type in alternatives:
                if suffix.lower() == t.lower():
                    return replace(v, choice=None, steps=v.steps + (f".{name}{suffix}",), ftype=alt_type)
            return empty(t)
        if v.member_of is not None:
            parent, name = v.member_of
            found = self.navigate(parent, name + t[0].upper() + t[1:])
            return replace(found, ftype=t, member_of=None)
        if v.ftype in ("Resource", "DomainResource") and schema.is_resource(t):
            x = self.var()
            kind = f"{self.dialect.json_extract_string(x, '$.resourceType')} = {self.dialect.quote(t)}"
            return Val(ftype=t, base=self.dialect.filter(self.json_list(v), x, kind), base_list=True)
        if v.ftype is not None:
            if v.ftype == t or v.ftype in _SUBTYPES.get(t, ()) or (t == "Resource" and schema.is_resource(v.ftype)):
                return v if v.ftype == t else replace(v, ftype=v.ftype)
            return empty(t)
        d = self.dialect
        x = self.var()
        if schema.is_resource(t):
            predicate = f"{d.json_extract_string(x, '$.resourceType')} = {d.quote(t)}"
        else:
            rep = schema.PRIMITIVE_REP.get(t)
            json_types = _JSON_TYPES.get(rep or "", ("VARCHAR",) if rep == "str" else ("OBJECT",))
            predicate = f"{d.json_type(x)} IN ({', '.join(d.quote(j) for j in json_types)})"
        return Val(ftype=t, sql=d.filter(self.json_list(v), x, predicate), multi=True)

    def pick(self, v: Val, index_sql: str, static: int | None) -> Val:
        """``v[index]`` (0-based); a literal index on the last repeating step stays a JSON path step."""
        if v.empty:
            return v
        if v.choice is not None:
            v = self.expand_choice(v)
        if static is not None and v.is_path and not v.base_list and v.steps.count("[*]") == 1 and v.steps[-1] == "[*]":
            return replace(v, steps=v.steps[:-1] + (f"[{static}]",))
        one_based = str(static + 1) if static is not None else f"({index_sql}) + 1"
        if not v.many and static is not None:
            return v if static == 0 else empty(v.ftype)
        return self._element(v, one_based)

    def _element(self, v: Val, one_based: str) -> Val:
        """Item ``one_based`` (SQL; negative counts from the end) of ``v``."""
        rep = v.natural_rep
        value = self.dialect.element(self.as_list(v, rep), one_based)
        if rep == "json":
            return Val(ftype=v.ftype, base=value)
        return Val(ftype=v.ftype, sql=value, rep=rep)

    # -- compile -----------------------------------------------------------------------------------------
    def compile(self, node: fp.Node, scope: Scope) -> Val:
        """Compile one FHIRPath node in ``scope``."""
        if isinstance(node, fp.Literal):
            return self.literal(node)
        if isinstance(node, fp.This):
            return scope.this
        if isinstance(node, fp.Ident):
            this = scope.this
            if this is scope.resource and node.name == this.ftype:
                return this  # `Patient.name` on a Patient: the type name selects the resource itself
            return self.navigate(this, node.name)
        if isinstance(node, fp.Constant):
            return self.constant(node.name, scope)
        if isinstance(node, fp.Member):
            return self.navigate(self.compile(node.target, scope), node.name)
        if isinstance(node, fp.Index):
            target = self.compile(node.target, scope)
            static = self.static_int(node.index)
            if static is not None:
                return self.pick(target, str(static), static)
            index = self.scalar(self.compile(node.index, scope), "int", "an index")
            return self.pick(target, index, None)
        if isinstance(node, fp.Call):
            return self.call(node, scope)
        if isinstance(node, fp.Unary):
            operand = self.compile(node.operand, scope)
            if node.op == "+":
                return operand
            rep = "int" if operand.natural_rep == "int" else "dec"
            return Val(
                ftype="integer" if rep == "int" else "decimal", sql=f"(-{self.scalar(operand, rep, '-')})", rep=rep
            )
        assert isinstance(node, fp.Binary)
        return self.binary(node, scope)

    def static_int(self, node: fp.Node) -> int | None:
        """The value of an integer literal or integer constant, else None."""
        if isinstance(node, fp.Literal) and node.kind == "integer" and isinstance(node.value, int):
            return node.value
        if isinstance(node, fp.Constant) and node.name in self.constants:
            constant = self.constants[node.name]
            if schema.PRIMITIVE_REP.get(constant.fhir_type) == "int":
                return int(constant.value)
        if isinstance(node, fp.Unary) and node.op == "-":
            inner = self.static_int(node.operand)
            return None if inner is None else -inner
        return None

    def literal(self, node: fp.Literal) -> Val:
        if node.kind == "empty":
            return empty()
        return self.typed_literal(
            node.value, {"date": "date", "dateTime": "dateTime", "time": "time"}.get(node.kind, node.kind)
        )

    def typed_literal(self, value: object, fhir_type: str) -> Val:
        rep = schema.PRIMITIVE_REP.get(fhir_type, "str")
        if rep == "bool":
            sql = "true" if value else "false"
        elif rep == "int":
            sql = str(int(value))  # type: ignore[call-overload]
        elif rep == "dec":
            sql = f"CAST({float(value)!r} AS DOUBLE)"  # type: ignore[arg-type]
        else:
            sql = self.dialect.quote(str(value))
        return Val(ftype=fhir_type, sql=sql, rep=rep)

    def constant(self, name: str, scope: Scope) -> Val:
        if name == "rowIndex":
            return Val(ftype="integer", sql=scope.row_index, rep="int")
        if name in ("resource", "rootResource"):
            return scope.resource
        if name not in self.constants:
            raise self.invalid(scope, f"%{name} is not a constant of this view")
        constant = self.constants[name]
        return self.typed_literal(constant.value, constant.fhir_type)

    def type_name(self, node: fp.Node, scope: Scope) -> str:
        """The type named by a type specifier argument (``Quantity``, ``FHIR.Quantity``, ``System.String``)."""
        if isinstance(node, fp.Ident):
            return node.name
        qualified = isinstance(node, fp.Member) and isinstance(node.target, fp.Ident)
        if qualified and node.target.name in ("FHIR", "System"):  # type: ignore[union-attr]
            return node.name  # type: ignore[union-attr]
        raise self.invalid(scope, "expected a type name")

    def string_argument(self, node: fp.Node, scope: Scope, function: str) -> str:
        """A string literal or string constant argument, as SQL text."""
        value = self.compile(node, scope)
        if value.is_path or value.natural_rep != "str" or value.sql is None:
            raise self.invalid(scope, f"{function}() needs a string literal or constant argument")
        return value.sql

    # -- functions ---------------------------------------------------------------------------------------
    def call(self, node: fp.Call, scope: Scope) -> Val:
        handler = _FUNCTIONS.get(node.name)
        if handler is None:
            raise self.invalid(scope, f"FHIRPath function {node.name}() is not supported by this runner")
        arity, fn = handler
        if not arity[0] <= len(node.args) <= arity[1]:
            raise self.invalid(scope, f"{node.name}() takes {arity[0]}..{arity[1]} arguments, not {len(node.args)}")
        target = scope.this if node.target is None else self.compile(node.target, scope)
        return fn(self, target, node.args, scope)

    def where(self, v: Val, criteria: fp.Node, scope: Scope) -> Val:
        if v.empty:
            return v
        if v.choice is not None:
            v = self.expand_choice(v)
        rep = v.natural_rep
        items = self.as_list(v, rep)
        x = self.var()
        element = Val(ftype=v.ftype, base=x) if rep == "json" else Val(ftype=v.ftype, sql=x, rep=rep)
        condition = self.boolean(self.compile(criteria, replace(scope, this=element)), "where() criteria")
        kept = self.dialect.filter(items, x, f"coalesce({condition}, false)")
        if rep == "json":
            return Val(ftype=v.ftype, base=kept, base_list=True)
        return Val(ftype=v.ftype, sql=kept, rep=rep, multi=True)

    def exists(self, v: Val) -> str:
        d = self.dialect
        if v.empty:
            return "false"
        if v.choice is not None:
            v = self.expand_choice(v)
        if not v.many:
            return f"({self.materialize(v, v.natural_rep)[0]} IS NOT NULL)"
        if v.is_path and not v.base_list and v.steps.count("[*]") == 1 and v.steps[-1] == "[*]":
            assert v.base is not None
            parent = "$" + "".join(v.steps[:-1])
            if v.base in self.contexts:
                array = self.contexts[v.base].container(parent, d)
                return f"(coalesce({d.json_array_length(array, '$')}, 0) > 0)"
            return f"(coalesce({d.json_array_length(v.base, parent)}, 0) > 0)"
        return f"({d.length(self.materialize(v, v.natural_rep)[0])} > 0)"

    def reference_key(self, v: Val, type_name: str | None) -> Val:
        """Keys of the references in ``v``; the common ``Type/id`` shape is cut without a regular expression."""
        d = self.dialect
        pattern = "(?:^|/)" + (type_name or "[A-Z][A-Za-z]+") + "/" + _REFERENCE_ID

        def key(ref: str) -> str:
            slow = f"nullif({d.regexp_extract(ref, pattern, 1)}, '')"
            urn = f"WHEN {d.starts_with(ref, d.quote('urn:uuid:'))} THEN substr({ref}, 10)"
            if type_name is None:
                return f"CASE {urn} ELSE {slow} END"
            start = len(type_name) + 2
            rest = f"substr({ref}, {start})"
            return (
                f"CASE WHEN {d.starts_with(ref, d.quote(type_name + '/'))} AND NOT {d.contains(rest, d.quote('/'))} "
                f"THEN nullif({rest}, '') {urn} ELSE {slow} END"
            )

        refs = self.navigate(v, "reference")
        if not refs.many:
            return Val(ftype="string", sql=key(self.materialize(refs, "str")[0]), rep="str")
        x, y = self.var(), self.var()
        keys = d.filter(d.transform(self.as_list(refs, "str"), x, key(x)), y, f"{y} IS NOT NULL")
        return Val(ftype="string", sql=keys, rep="str", multi=True)

    # -- operators ---------------------------------------------------------------------------------------
    def binary(self, node: fp.Binary, scope: Scope) -> Val:
        op = node.op
        if op in ("is", "as"):
            target = self.compile(node.left, scope)
            typed = self.of_type(target, self.type_name(node.right, scope))
            if op == "as":
                return typed
            return Val(ftype="boolean", sql=self.exists(typed), rep="bool")
        left, right = self.compile(node.left, scope), self.compile(node.right, scope)
        if op in ("and", "or", "xor", "implies"):
            a, b = self.boolean(left, f"left of {op}"), self.boolean(right, f"right of {op}")
            sql = {
                "and": f"({a} AND {b})",
                "or": f"({a} OR {b})",
                "xor": f"({a} <> {b})",
                "implies": f"((NOT {a}) OR {b})",
            }[op]
            return Val(ftype="boolean", sql=sql, rep="bool")
        if op in ("=", "!=", "<", "<=", ">", ">="):
            return self.compare(op, left, right)
        if op in ("+", "-", "*", "/", "div", "mod", "&"):
            return self.arithmetic(op, left, right)
        if op == "|":
            rep = _common_rep(left, right)
            items = self.dialect.distinct(self.dialect.concat([self.as_list(left, rep), self.as_list(right, rep)]), rep)
            ftype = left.ftype if left.ftype == right.ftype else None
            return (
                Val(ftype=ftype, sql=items, rep=rep, multi=True)
                if rep != "json"
                else Val(ftype=ftype, base=items, base_list=True)
            )
        if op in ("in", "contains"):
            item, collection = (left, right) if op == "in" else (right, left)
            if item.empty:
                return Val(ftype="boolean", sql=self.dialect.null("BOOLEAN"), rep="bool")
            rep = _common_rep(item, collection)
            value = self.scalar(item, rep, f"left of {op}")
            items = self.as_list(collection, rep)
            sql = f"coalesce({self.dialect.list_contains(items, value, rep)}, false)"
            return Val(ftype="boolean", sql=f"CASE WHEN {value} IS NULL THEN NULL ELSE {sql} END", rep="bool")
        raise self.invalid(scope, f"FHIRPath operator {op!r} is not supported by this runner")

    def compare(self, op: str, left: Val, right: Val) -> Val:
        if left.empty or right.empty:
            return Val(ftype="boolean", sql=self.dialect.null("BOOLEAN"), rep="bool")
        rep = _common_rep(left, right)
        kinds = {left.natural_rep, right.natural_rep}
        if "str" in kinds and kinds & {"int", "dec", "bool"} and op in ("=", "!="):
            a, b = self.scalar(left, left.natural_rep, f"left of {op}"), self.scalar(right, right.natural_rep, op)
            answer = "false" if op == "=" else "true"
            return Val(
                ftype="boolean", sql=f"CASE WHEN {a} IS NULL OR {b} IS NULL THEN NULL ELSE {answer} END", rep="bool"
            )
        if op in ("=", "!=") and (left.many or right.many):
            d = self.dialect
            a, b = self.as_list(left, rep), self.as_list(right, rep)
            sql = f"CASE WHEN {d.length(a)} = 0 OR {d.length(b)} = 0 THEN NULL ELSE {d.list_equal(a, b, rep)} END"
        else:
            a, b = self.scalar(left, rep, f"left of {op}"), self.scalar(right, rep, f"right of {op}")
            sql = self.dialect.compare(a, "=" if op == "!=" else op, b, rep)
        if op == "!=":
            sql = f"(NOT {sql})"
        return Val(ftype="boolean", sql=sql, rep="bool")

    def arithmetic(self, op: str, left: Val, right: Val) -> Val:
        d = self.dialect
        if op == "&":
            a, b = self.scalar(left, "str", "left of &"), self.scalar(right, "str", "right of &")
            return Val(ftype="string", sql=f"(coalesce({a}, '') || coalesce({b}, ''))", rep="str")
        reps = {left.natural_rep, right.natural_rep}
        if op == "+" and "str" in reps and reps <= {"str", "json"}:
            a, b = self.scalar(left, "str", "left of +"), self.scalar(right, "str", "right of +")
            return Val(ftype="string", sql=f"({a} || {b})", rep="str")
        rep = "int" if reps == {"int"} and op not in ("/",) else "dec"
        a, b = self.scalar(left, rep, f"left of {op}"), self.scalar(right, rep, f"right of {op}")
        if op == "/":
            sql = d.divide(a, b)
        elif op == "div":
            sql, rep = d.int_divide(a, b), "int"
        elif op == "mod":
            sql = d.modulo(a, b)
        else:
            sql = f"({a} {op} {b})"
        return Val(ftype="integer" if rep == "int" else "decimal", sql=sql, rep=rep)


def _common_rep(left: Val, right: Val) -> str:
    a, b = left.natural_rep, right.natural_rep
    if a == b:
        return a
    if a == "json":
        return b
    if b == "json":
        return a
    if {a, b} == {"int", "dec"}:
        return "dec"
    return "str"


# -- the function table: name -> ((min args, max args), handler) -------------------------------------------
Handler = Callable[[ExpressionCompiler, Val, tuple[fp.Node, ...], Scope], Val]


def _bool(sql: str) -> Val:
    return Val(ftype="boolean", sql=sql, rep="bool")


def _fn_exists(c: ExpressionCompiler, v: Val, args: tuple[fp.Node, ...], scope: Scope) -> Val:
    return _bool(c.exists(c.where(v, args[0], scope) if args else v))


def _fn_empty(c: ExpressionCompiler, v: Val, args: tuple[fp.Node, ...], scope: Scope) -> Val:
    return _bool(f"(NOT {c.exists(v)})")


def _fn_first(c: ExpressionCompiler, v: Val, args: tuple[fp.Node, ...], scope: Scope) -> Val:
    return c.pick(v, "0", 0)


def _fn_last(c: ExpressionCompiler, v: Val, args: tuple[fp.Node, ...], scope: Scope) -> Val:
    return c._element(v, "-1") if v.many else v


def _fn_single(c: ExpressionCompiler, v: Val, args: tuple[fp.Node, ...], scope: Scope) -> Val:
    rep = v.natural_rep
    value = c.scalar(v, rep, "single()")
    return Val(ftype=v.ftype, base=value) if rep == "json" else Val(ftype=v.ftype, sql=value, rep=rep)


def _fn_count(c: ExpressionCompiler, v: Val, args: tuple[fp.Node, ...], scope: Scope) -> Val:
    if v.empty:
        return Val(ftype="integer", sql="0", rep="int")
    return Val(ftype="integer", sql=c.dialect.length(c.as_list(v, v.natural_rep)), rep="int")


def _fn_where(c: ExpressionCompiler, v: Val, args: tuple[fp.Node, ...], scope: Scope) -> Val:
    return c.where(v, args[0], scope)


def _fn_of_type(c: ExpressionCompiler, v: Val, args: tuple[fp.Node, ...], scope: Scope) -> Val:
    return c.of_type(v, c.type_name(args[0], scope))


def _fn_extension(c: ExpressionCompiler, v: Val, args: tuple[fp.Node, ...], scope: Scope) -> Val:
    url = c.string_argument(args[0], scope, "extension")
    extensions = c.navigate(v, "extension")
    items = c.json_list(extensions)
    x = c.var()
    kept = c.dialect.filter(items, x, f"{c.dialect.json_extract_string(x, '$.url')} = {url}")
    return Val(ftype="Extension", base=kept, base_list=True)


def _fn_join(c: ExpressionCompiler, v: Val, args: tuple[fp.Node, ...], scope: Scope) -> Val:
    separator = c.string_argument(args[0], scope, "join") if args else "''"
    if v.empty:
        return Val(ftype="string", sql="''", rep="str")
    return Val(ftype="string", sql=c.dialect.join(c.as_list(v, "str"), separator), rep="str")


def _fn_not(c: ExpressionCompiler, v: Val, args: tuple[fp.Node, ...], scope: Scope) -> Val:
    return _bool(f"(NOT {c.boolean(v, 'not()')})")


def _fn_resource_key(c: ExpressionCompiler, v: Val, args: tuple[fp.Node, ...], scope: Scope) -> Val:
    if not schema.is_resource(v.ftype):
        raise c.invalid(scope, "getResourceKey() applies to a resource")
    key = c.navigate(v, "id")
    return Val(ftype="string", sql=c.materialize(key, "str")[0], rep="str") if not key.many else key


def _fn_reference_key(c: ExpressionCompiler, v: Val, args: tuple[fp.Node, ...], scope: Scope) -> Val:
    type_name = c.type_name(args[0], scope) if args else None
    if type_name is not None and not schema.is_resource(type_name):
        raise c.invalid(scope, f"getReferenceKey({type_name}): {type_name} is not a resource type")
    return c.reference_key(v, type_name)


def _boundary(high: bool) -> Handler:
    """lowBoundary() / highBoundary() of a decimal, date, dateTime or time (see :mod:`boundaries`)."""

    def handler(c: ExpressionCompiler, v: Val, args: tuple[fp.Node, ...], scope: Scope) -> Val:
        name = "highBoundary" if high else "lowBoundary"
        if args:
            raise c.invalid(scope, f"{name}(precision) is not supported; use {name}()")
        if v.empty:
            return v
        kind = v.ftype if v.ftype in ("decimal", "date", "dateTime", "time", "instant") else None
        if kind is None:
            raise c.invalid(scope, f"{name}() applies to a decimal, date, dateTime or time, not {v.ftype}")
        d = c.dialect
        text = c.scalar(v, "str", f"{name}()")
        if kind == "decimal":
            return Val(ftype="decimal", sql=boundaries.decimal_boundary(d, text, high), rep="dec")
        builder = {"date": boundaries.date_boundary, "time": boundaries.time_boundary}.get(
            kind, boundaries.datetime_boundary
        )
        return Val(ftype=kind, sql=builder(d, text, high), rep="str")

    return handler


def _string_fn(spell: Callable[[Dialect, str, list[str]], str], result_type: str = "string") -> Handler:
    """A function of one string and optional string arguments, spelt by ``spell(dialect, s, args)``."""

    def handler(c: ExpressionCompiler, v: Val, args: tuple[fp.Node, ...], scope: Scope) -> Val:
        if v.empty:
            return empty(result_type)
        s = c.scalar(v, "str", "a string function")
        values = [c.scalar(c.compile(a, scope), "str", "an argument") for a in args]
        rep = schema.PRIMITIVE_REP[result_type]
        return Val(ftype=result_type, sql=spell(c.dialect, s, values), rep=rep)

    return handler


_FUNCTIONS: dict[str, tuple[tuple[int, int], Handler]] = {
    "exists": ((0, 1), _fn_exists),
    "empty": ((0, 0), _fn_empty),
    "first": ((0, 0), _fn_first),
    "last": ((0, 0), _fn_last),
    "single": ((0, 0), _fn_single),
    "count": ((0, 0), _fn_count),
    "where": ((1, 1), _fn_where),
    "ofType": ((1, 1), _fn_of_type),
    "extension": ((1, 1), _fn_extension),
    "join": ((0, 1), _fn_join),
    "not": ((0, 0), _fn_not),
    "getResourceKey": ((0, 0), _fn_resource_key),
    "getReferenceKey": ((0, 1), _fn_reference_key),
    "lowBoundary": ((0, 1), _boundary(high=False)),
    "highBoundary": ((0, 1), _boundary(high=True)),
    "lower": ((0, 0), _string_fn(lambda d, s, a: f"lower({s})")),
    "upper": ((0, 0), _string_fn(lambda d, s, a: f"upper({s})")),
    "startsWith": ((1, 1), _string_fn(lambda d, s, a: d.starts_with(s, a[0]), "boolean")),
    "endsWith": ((1, 1), _string_fn(lambda d, s, a: d.ends_with(s, a[0]), "boolean")),
    "contains": ((1, 1), _string_fn(lambda d, s, a: d.contains(s, a[0]), "boolean")),
    "length": ((0, 0), _string_fn(lambda d, s, a: f"length({s})", "integer")),
    "toString": ((0, 0), _string_fn(lambda d, s, a: s)),
}
