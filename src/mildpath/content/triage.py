"""Load ``content/triage.yaml`` (or a site's copy) into validated :class:`~mildpath.domain.triage.TriageRules`.

The shipped file is read and validated once (``lru_cache``); a malformed rule or a citation of an unknown source
fails loudly with :class:`~mildpath.content.sources.ContentError` naming the file and the place in it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from mildpath.content.loader import load_built
from mildpath.content.sources import CONTENT_DIR
from mildpath.domain.triage import TriageRules, make_triage_rules

TRIAGE_FILE = CONTENT_DIR / "triage.yaml"


def load_triage_rules(path: Path | str | None = None) -> TriageRules:
    """The triage rules: the shipped ``triage.yaml`` when ``path`` is ``None``, else a site's own file.

    Raises :class:`ContentError` for an unreadable or invalid file, or a rule, threshold or advice that cites
    no source or an unknown one.
    """
    return load_built(path, make_triage_rules, _citations, shipped=TRIAGE_FILE)


def _citations(rules: TriageRules) -> Iterator[tuple[str, Sequence[str]]]:
    for rule in rules.rules:
        yield f"rule {rule.id}", rule.sources
    for name, sources in rules.threshold_sources.items():
        yield f"threshold {name}", sources
    for level, advice in rules.advice.items():
        yield f"advice {level.value}", advice.sources
    yield "no_warning_sign", rules.no_warning_sign.sources
