"""Load ``content/milestones.yaml`` (or a site's copy) into a :class:`~mildpath.domain.recovery.MilestoneCatalog`.

The shipped file is read and validated once (``lru_cache``); a malformed milestone or a citation of an unknown
source fails loudly with :class:`~mildpath.content.sources.ContentError`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from mildpath.content.sources import CONTENT_DIR, check_cited, load_yaml_model
from mildpath.domain.recovery import MilestoneCatalog, make_milestone_catalog

MILESTONES_FILE = CONTENT_DIR / "milestones.yaml"


def load_milestones(path: Path | str | None = None) -> MilestoneCatalog:
    """The recovery milestones: the shipped ``milestones.yaml`` when ``path`` is ``None``, else a site's file."""
    if path is None:
        return _shipped()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _shipped() -> MilestoneCatalog:
    return _load(MILESTONES_FILE)


def _load(path: Path) -> MilestoneCatalog:
    catalog = load_yaml_model(path, make_milestone_catalog)
    for spec in (*catalog.milestones, *catalog.follow_ups):
        check_cited(spec.sources, f"{path.name}: milestone {spec.id}")
    for name, sources in catalog.setting_sources.items():
        check_cited(sources, f"{path.name}: setting {name}")
    return catalog


def milestone_wording(language: str, path: Path | str | None = None) -> dict[str, tuple[str, str]]:
    """``{milestone id: (title, text)}`` in ``language`` from the ``title_<lang>`` / ``text_<lang>`` fields of the
    file (milestones and follow-ups); empty for English, the language the file is written in. Settings in braces
    stay for the caller to fill, as in the English wording."""
    if language == "en":
        return {}
    return dict(_wording(language, str(path or MILESTONES_FILE)))


@lru_cache(maxsize=8)
def _wording(language: str, path: str) -> tuple[tuple[str, tuple[str, str]], ...]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    out = []
    for item in (*(data.get("milestones") or ()), *(data.get("follow_ups") or ())):
        title, text = item.get(f"title_{language}"), item.get(f"text_{language}")
        if isinstance(item.get("id"), str) and isinstance(title, str) and isinstance(text, str):
            out.append((item["id"], (" ".join(title.split()), " ".join(text.split()))))
    return tuple(out)
