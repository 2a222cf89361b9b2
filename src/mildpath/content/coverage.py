"""Load ``content/coverage.yaml``: the coverage statuses a referral may have, each with its source and the date of
the policy decision the reference records (issue 18). Validated once (``lru_cache``); a status without a known
source fails loudly with :class:`~mildpath.content.sources.ContentError`."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from mildpath.content.sources import CONTENT_DIR, ContentError, check_cited, load_yaml_model, source

COVERAGE_FILE = CONTENT_DIR / "coverage.yaml"
Status = Literal["medicare_ced", "commercial", "self_pay", "unknown"]


class CoverageFact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    label: str
    source: str
    policy: str
    reviewed: date | None
    unverified: str

    @property
    def cites(self) -> str:
        """The source as a reader sees it: title, document and section."""
        s = source(self.source)
        return f"{s.title} ({s.document} {s.section})"


class CoverageFacts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    statuses: dict[Status, CoverageFact]
    studies: dict[str, str]


def _build(data: dict[str, object]) -> CoverageFacts:
    try:
        facts = CoverageFacts.model_validate(data)
    except ValidationError as exc:
        raise ContentError(f"coverage.yaml: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from exc
    missing = {"medicare_ced", "commercial", "self_pay", "unknown"} - set(facts.statuses)
    if missing:
        raise ContentError(f"coverage.yaml: no entry for {sorted(missing)}")
    return facts


@lru_cache(maxsize=1)
def load_coverage() -> CoverageFacts:
    facts = load_yaml_model(COVERAGE_FILE, _build)
    for name, fact in facts.statuses.items():
        check_cited([fact.source], f"coverage.yaml: {name}")
    return facts
