"""The recovery plan in the page's language: the headline and the milestones' wording (issue 15 §3).

The services give the plan in English (the domain's wording); the headline is rebuilt here from the day number
with the catalogue, and milestone titles and texts come from ``content/milestones.yaml``'s ``title_es`` /
``text_es`` when the page is in Spanish (a milestone without them keeps its English)."""

from __future__ import annotations

from datetime import date
from typing import Any

from mildpath.content.milestones import milestone_wording
from mildpath.domain.recovery import day_number
from mildpath.web.i18n import current_language, gettext, ngettext


def headline(procedure_date: date, today: date) -> str:
    n = day_number(procedure_date, today)
    if n == 0:
        return gettext("Today is the day of your procedure (day 0)")
    if n > 0:
        return gettext("Today is day %(n)s after your procedure") % {"n": n}
    if n == -1:
        return gettext("Your procedure is tomorrow")
    return gettext("Your procedure is in %(n)s days") % {"n": -n}


def weeks_text(weeks: int) -> str:
    return ngettext("%(num)s week", "%(num)s weeks", weeks) % {"num": weeks}


def wording(view: Any) -> dict[str, tuple[str, str]]:
    """``{milestone id: (title, text)}`` for ``view``'s milestones in the page's language, settings filled in."""
    found = milestone_wording(current_language())
    fill = {"no_lifting_weeks_text": weeks_text(view.no_lifting_weeks), "no_lifting_weeks": view.no_lifting_weeks}
    return {key: (title.format(**fill), text.format(**fill)) for key, (title, text) in found.items()}
