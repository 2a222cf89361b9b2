"""Load ``content/coverage.yaml``: the coverage statuses a referral may have, each with its source and the date of
the policy decision the reference records (issue 18). Validated once (``lru_cache``); a status without a known
source fails loudly with :class:`~mildpath.content.sources.ContentError`."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import field_validator

from mildpath.content.loader import ContentModel, SourceId, load_content
from mildpath.content.sources import CONTENT_DIR, source

COVERAGE_FILE = CONTENT_DIR / "coverage.yaml"
Status = Literal["medicare_ced", "commercial", "self_pay", "unknown"]


class CoverageFact(ContentModel):
    label: str
    source: SourceId
    policy: str
    reviewed: date | None
    unverified: str

    @property
    def cites(self) -> str:
        """The source as a reader sees it: title, document and section."""
        s = source(self.source)
        return f"{s.title} ({s.document} {s.section})"


class CoverageFacts(ContentModel):
    statuses: dict[Status, CoverageFact]
    studies: dict[str, str]

    @field_validator("statuses")
    @classmethod
    def _every_status(cls, statuses: dict[Status, CoverageFact]) -> dict[Status, CoverageFact]:
        missing = {"medicare_ced", "commercial", "self_pay", "unknown"} - set(statuses)
        if missing:
            raise ValueError(f"no entry for {sorted(missing)}")
        return statuses


def load_coverage() -> CoverageFacts:
    """The shipped coverage facts (validated once: the loader caches shipped files)."""
    return load_content(COVERAGE_FILE, CoverageFacts)
