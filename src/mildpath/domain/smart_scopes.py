"""SMART on FHIR system scopes (Backend Services), pure: what a scope string grants.

Scope syntax, SMART App Launch 2.x, "Scopes for requesting clinical data"
(https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html):

- v1: ``system/<Type>.read`` (read and search), ``system/<Type>.write``, ``system/<Type>.*``;
- v2: ``system/<Type>.<permissions>`` where the permissions are a subset of ``c r u d s`` in that order
  (``system/*.rs``: read and search every type). v1 ``.read`` is v2 ``.rs``; ``.write`` is ``.cud``.
- ``<Type>`` is a resource type or ``*`` (every type). Granular scopes with a query (``?category=...``) are not
  supported here: they grant nothing (a server must never grant more than was asked).

mildpath serves read and search of every type and create of the requests that enrol a patient: :func:`allows`
answers for an interaction (``read``, ``search``, ``create``...), and
:func:`grant` keeps, of the scopes a client asks for, those its registration covers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["INTERACTIONS", "Scope", "allows", "covered", "grant", "parse", "parse_all"]

#: interaction -> the v2 permission letter it needs
INTERACTIONS: dict[str, str] = {"create": "c", "read": "r", "update": "u", "delete": "d", "search": "s"}
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}
_PATTERN = re.compile(r"^system/(\*|[A-Z][A-Za-z]{1,63})\.([a-z*]+)$")
_ORDER = "cruds"


@dataclass(frozen=True)
class Scope:
    """One parsed system scope: the resource type (``*`` for all) and the permission letters it grants."""

    text: str
    resource_type: str
    permissions: frozenset[str]

    def grants(self, resource_type: str, permission: str) -> bool:
        return self.resource_type in ("*", resource_type) and permission in self.permissions


def parse(text: str) -> Scope | None:
    """The scope, or ``None`` when it is not a system resource scope this parser knows (it then grants nothing)."""
    match = _PATTERN.match(text.strip())
    if match is None:
        return None
    rtype, perms = match.groups()
    if perms in _V1:
        return Scope(text.strip(), rtype, frozenset(_V1[perms]))
    # v2: a non-empty subset of c r u d s, in that order, each at most once.
    if not perms or any(p not in _ORDER for p in perms) or list(perms) != sorted(set(perms), key=_ORDER.index):
        return None
    return Scope(text.strip(), rtype, frozenset(perms))


def parse_all(scopes: str | Iterable[str]) -> list[Scope]:
    """Every known scope of a space-separated string (or a list); unknown ones are dropped."""
    items = scopes.split() if isinstance(scopes, str) else list(scopes)
    return [s for s in (parse(i) for i in items) if s is not None]


def allows(scopes: str | Iterable[str], resource_type: str, interaction: str) -> bool:
    """Whether the scopes let their holder do ``interaction`` (``read``, ``search``...) on ``resource_type``."""
    permission = INTERACTIONS.get(interaction)
    if permission is None:
        return False
    return any(s.grants(resource_type, permission) for s in parse_all(scopes))


def covered(scope: Scope, registered: Iterable[Scope]) -> bool:
    """Whether every permission ``scope`` asks for is granted by the registered scopes (``*`` only by ``*``)."""
    pool = list(registered)
    return all(
        any(r.permissions >= {p} and r.resource_type in ("*", scope.resource_type) for r in pool)
        for p in scope.permissions
    )


def grant(requested: str, registered: str | Iterable[str]) -> list[str]:
    """The requested scopes (in order, without repeats) that the client's registered scopes cover.

    A server may grant fewer scopes than asked (RFC 6749 §3.3); an empty answer means ``invalid_scope``.
    """
    pool = parse_all(registered)
    out: list[str] = []
    for scope in parse_all(requested):
        if scope.text not in out and covered(scope, pool):
            out.append(scope.text)
    return out
