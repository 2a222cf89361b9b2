"""Citations: every rule, threshold, score and patient-facing sentence points at a :class:`Source`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """A place in the shared domain reference (``../shared/domain``) or a publication it cites."""

    id: str
    title: str
    document: str
    section: str = ""
    verified: bool = True

    def cite(self) -> str:
        where = f"{self.document} {self.section}".strip()
        return f"{self.title} ({where})"
