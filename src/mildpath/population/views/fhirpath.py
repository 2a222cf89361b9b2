"""A FHIRPath parser for the subset ViewDefinitions use: text in, a small immutable syntax tree out.

The grammar and operator precedence follow FHIRPath N1 (http://hl7.org/fhirpath/N1/#grammar), highest first:
``.`` and ``[]``; unary ``+``/``-``; ``* / div mod``; ``+ - &``; ``is as``; ``|``; ``< > <= >=``;
``= ~ != !~``; ``in contains``; ``and``; ``or xor``; ``implies``. Quantity literals (``5 'mg'``) and
``$index``/``$total`` are not part of the subset and are refused with a clear message. Whether a function
is supported is decided by the compiler, not here: the parser accepts any ``name(args)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mildpath.population.views.errors import InvalidView


@dataclass(frozen=True)
class Literal:
    """A literal: ``kind`` is string, integer, decimal, boolean, date, dateTime, time or empty (``{}``)."""

    value: str | int | float | bool | None
    kind: str


@dataclass(frozen=True)
class Ident:
    """A bare identifier: a member of the current focus (or the resource type name at the start)."""

    name: str


@dataclass(frozen=True)
class This:
    """``$this``: the focus of the enclosing ``where``/``exists``, or of the column's context."""


@dataclass(frozen=True)
class Constant:
    """``%name``: a view constant or an environment variable (``%resource``, ``%rowIndex``)."""

    name: str


@dataclass(frozen=True)
class Member:
    """``target.name``."""

    target: Node
    name: str


@dataclass(frozen=True)
class Call:
    """``target.name(args)``; ``target`` is None for a function called on the implicit focus."""

    target: Node | None
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Index:
    """``target[index]``."""

    target: Node
    index: Node


@dataclass(frozen=True)
class Unary:
    """``-x`` or ``+x``."""

    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    """``left op right`` for every binary operator, including ``and``/``or``/``is``/``as`` type tests."""

    op: str
    left: Node
    right: Node


Node = Literal | Ident | This | Constant | Member | Call | Index | Unary | Binary

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+|//[^\n]*|/\*.*?\*/)
    |(?P<datetime>@\d{4}(?:-\d{2}(?:-\d{2})?)?(?:T(?:\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?)?(?:Z|[+-]\d{2}:\d{2})?)?)
    |(?P<time>@T\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?)
    |(?P<number>\d+(?:\.\d+)?)
    |(?P<string>'(?:[^'\\]|\\.)*')
    |(?P<delimited>`(?:[^`\\]|\\.)*`)
    |(?P<special>\$this|\$index|\$total)
    |(?P<constant>%(?:[A-Za-z_][A-Za-z0-9_]*|`(?:[^`\\]|\\.)*`|'(?:[^'\\]|\\.)*'))
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op><=|>=|!=|!~|[-+*/&|<>=~.,()\[\]{}])
    """,
    re.VERBOSE | re.DOTALL,
)

_ESCAPES = {"'": "'", '"': '"', "`": "`", "r": "\r", "n": "\n", "t": "\t", "f": "\f", "\\": "\\", "/": "/"}

# Binary operators by precedence level, lowest first (FHIRPath N1 §9).
_LEVELS: tuple[tuple[str, ...], ...] = (
    ("implies",),
    ("or", "xor"),
    ("and",),
    ("in", "contains"),
    ("=", "~", "!=", "!~"),
    ("<=", "<", ">", ">="),
    ("|",),
    ("is", "as"),
    ("+", "-", "&"),
    ("*", "/", "div", "mod"),
)
_WORD_OPERATORS = {"implies", "or", "xor", "and", "in", "contains", "is", "as", "div", "mod"}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def _unescape(body: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _tokenize(text: str, field: str | None) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise InvalidView(
                f"cannot parse FHIRPath {text!r} at position {pos} ({text[pos : pos + 10]!r})", field=field
            )
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(_Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str, field: str | None) -> None:
        self.text = text
        self.field = field
        self.tokens = _tokenize(text, field)
        self.i = 0

    def error(self, message: str) -> InvalidView:
        return InvalidView(f"cannot parse FHIRPath {self.text!r}: {message}", field=self.field)

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def accept(self, text: str) -> bool:
        token = self.tok
        if token.text == text and token.kind in ("op", "ident"):
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            found = self.tok.text or "end of expression"
            raise self.error(f"expected {text!r} at position {self.tok.pos}, found {found!r}")

    def parse(self) -> Node:
        node = self.binary(0)
        if self.tok.kind != "end":
            raise self.error(f"unexpected {self.tok.text!r} at position {self.tok.pos}")
        return node

    def binary(self, level: int) -> Node:
        if level == len(_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while True:
            token = self.tok
            is_op = token.kind == "op" or (token.kind == "ident" and token.text in _WORD_OPERATORS)
            if not (is_op and token.text in _LEVELS[level]):
                return left
            self.take()
            right = self.binary(level + 1)
            left = Binary(token.text, left, right)

    def unary(self) -> Node:
        if self.tok.kind == "op" and self.tok.text in ("+", "-"):
            op = self.take().text
            return Unary(op, self.unary())
        return self.postfix(self.term())

    def postfix(self, node: Node) -> Node:
        while True:
            if self.accept("."):
                name = self.identifier()
                node = Call(node, name, self.arguments()) if self.accept("(") else Member(node, name)
            elif self.accept("["):
                index = self.binary(0)
                self.expect("]")
                node = Index(node, index)
            else:
                return node

    def arguments(self) -> tuple[Node, ...]:
        args: list[Node] = []
        if self.accept(")"):
            return ()
        while True:
            args.append(self.binary(0))
            if self.accept(")"):
                return tuple(args)
            if not self.accept(","):
                found = self.tok.text or "end of expression"
                raise self.error(f"expected ',' or ')' at position {self.tok.pos}, found {found!r}")

    def identifier(self) -> str:
        token = self.take()
        if token.kind == "ident":
            return token.text
        if token.kind == "delimited":
            return _unescape(token.text[1:-1])
        raise self.error(f"expected a name at position {token.pos}, found {token.text or 'end of expression'!r}")

    def term(self) -> Node:
        token = self.tok
        if token.kind == "number":
            self.take()
            if self.tok.kind == "string":
                raise self.error("quantity literals are not supported")
            if "." in token.text:
                return Literal(float(token.text), "decimal")
            return Literal(int(token.text), "integer")
        if token.kind == "string":
            self.take()
            return Literal(_unescape(token.text[1:-1]), "string")
        if token.kind == "datetime":
            self.take()
            value = token.text[1:]
            return Literal(value.rstrip("T"), "dateTime" if "T" in value else "date")
        if token.kind == "time":
            self.take()
            return Literal(token.text[2:], "time")
        if token.kind == "constant":
            self.take()
            name = token.text[1:]
            if name[0] in "`'":
                name = _unescape(name[1:-1])
            return Constant(name)
        if token.kind == "special":
            self.take()
            if token.text != "$this":
                raise self.error(f"{token.text} is not supported")
            return This()
        if token.kind in ("ident", "delimited"):
            if token.kind == "ident" and token.text in ("true", "false"):
                self.take()
                return Literal(token.text == "true", "boolean")
            name = self.identifier()
            if self.accept("("):
                return Call(None, name, self.arguments())
            return Ident(name)
        if self.accept("("):
            inner = self.binary(0)
            self.expect(")")
            return inner
        if self.accept("{"):
            self.expect("}")
            return Literal(None, "empty")
        raise self.error(f"unexpected {token.text or 'end of expression'!r} at position {token.pos}")


def parse(text: object, *, field: str | None = None) -> Node:
    """Parse FHIRPath ``text``; raise :class:`InvalidView` (naming ``field``) when it is not valid."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidView(f"a FHIRPath expression must be a non-empty string, not {text!r}", field=field)
    return _Parser(text, field).parse()
