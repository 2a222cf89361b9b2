"""The recovery plan's headline in the page's language (issue 15 §3).

The headline is rebuilt here from the day number with the catalogue; the milestones come from the services
already worded in the page's language (``content/milestones.yaml``'s ``title_es`` / ``text_es``)."""

from __future__ import annotations

from datetime import date

from mildpath.domain.recovery import day_number
from mildpath.web.i18n import gettext, ngettext


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

