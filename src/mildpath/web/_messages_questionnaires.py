"""Interface strings of the questionnaire, outcomes and procedure pages that come in English from content or
services (timepoint labels of ``content/schedule.yaml``, the trend charts' measures, short labels), marked here so
that ``make i18n`` extracts them; templates translate them where they are shown (``_(tp.label)``)."""

from __future__ import annotations

from mildpath.web.i18n import N_

TIMEPOINTS = (
    N_("Before the procedure"),
    N_("6 weeks"),
    N_("3 months"),
    N_("6 months"),
    N_("12 months"),
    N_("24 months"),
)
CHART_LABELS = (N_("Before"), N_("6 wk"), N_("3 mo"), N_("6 mo"), N_("12 mo"), N_("24 mo"))
MEASURES = (
    N_("Symptom severity (1-5)"),
    N_("Physical function (1-4)"),
    N_("Satisfaction (1-4)"),
    N_("Back pain (0-10)"),
    N_("Leg pain (0-10)"),
    N_("Minutes walked (up to 30)"),
    N_("Back pain"),
    N_("Leg pain"),
)
SHORT_TITLES = (N_("Walking"),)
OUTCOMES = (  # services/outcomes.py: MEASURE_INFO labels and units, DEFINITIONS
    N_("Oswestry Disability Index"),
    N_("Back pain (NPRS)"),
    N_("Leg pain (NPRS)"),
    N_("ZCQ symptom severity"),
    N_("ZCQ physical function"),
    N_("ZCQ satisfaction"),
    N_("Walking tolerance"),
    N_("points"),
    N_("Higher is better"),
    N_("Lower is better"),
    N_("ODI improved by 10 points or more"),
    N_("ODI improved by 30%% or more"),
    N_("Back pain improved by 2 points or 30%%"),
    N_("Leg pain improved by 2 points or 30%%"),
    N_("ZCQ composite (severity and function improved, satisfied)"),
)
