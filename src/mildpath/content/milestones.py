"""Load ``content/milestones.yaml`` (or a site's copy) into a :class:`~mildpath.domain.recovery.MilestoneCatalog`.

The shipped file is read and validated once (``lru_cache``); a malformed milestone or a citation of an unknown
source fails loudly with :class:`~mildpath.content.sources.ContentError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from mildpath.content.loader import load_built
from mildpath.content.sources import CONTENT_DIR
from mildpath.domain.recovery import MilestoneCatalog, make_milestone_catalog

MILESTONES_FILE = CONTENT_DIR / "milestones.yaml"


def load_milestones(path: Path | str | None = None) -> MilestoneCatalog:
    """The recovery milestones: the shipped ``milestones.yaml`` when ``path`` is ``None``, else a site's file."""
    return load_built(path, make_milestone_catalog, _citations, shipped=MILESTONES_FILE)


def _citations(catalog: MilestoneCatalog) -> Iterator[tuple[str, Sequence[str]]]:
    for spec in (*catalog.milestones, *catalog.follow_ups):
        yield f"milestone {spec.id}", spec.sources
    for name, sources in catalog.setting_sources.items():
        yield f"setting {name}", sources
