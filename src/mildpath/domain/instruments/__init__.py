"""Patient-reported outcome instruments: exact scoring, change, responders (clinical reference §2).

The public API; everything else in this package is detail::

    score_odi(answers) -> Score                              ODI v2.1a, two decimals, band
    score_zcq(severity, function, satisfaction=None) -> Score   ZCQ subscale means
    score_nprs(back, leg) -> Score                           NPRS 0-10 per region
    score_walking(minutes) -> Score                          walking tolerance, capped at 30 minutes
    score(instrument_id, answers) -> Score                   any of the above, from {item id: answer}
    responders(baseline, follow_up, thresholds) -> tuple[ResponderCall, ...]
    score_odi_array(responses) -> (scores, answered)         vectorised ODI for analytics
    odi_responder_array(baseline, follow_up, points=, relative=)  vectorised ODI responders (exact)

Invalid answers raise :class:`~mildpath.domain.errors.InvalidAnswer` naming the item.
"""

from __future__ import annotations

from collections.abc import Mapping

from mildpath.domain.errors import InvalidAnswer
from mildpath.domain.instruments.base import Answer, Instrument, Item, RawAnswer, RawAnswers, Score, Subscale
from mildpath.domain.instruments.change import (
    Change,
    ResponderCall,
    ResponderThresholds,
    improvement,
    responders,
    score_change,
)
from mildpath.domain.instruments.nprs import NPRS, WALKING, score_nprs, score_walking
from mildpath.domain.instruments.odi import BANDS, ODI, odi_band, score_odi
from mildpath.domain.instruments.zcq import ZCQ, score_zcq, score_zcq_items

#: Every instrument by id, in the order forms show them.
INSTRUMENTS: dict[str, Instrument] = {i.id: i for i in (ODI, ZCQ, NPRS, WALKING)}


def score(instrument_id: str, answers: Mapping[str, RawAnswer], *, after_treatment: bool | None = None) -> Score:
    """Score any instrument from a mapping of item id to answer (the shape a stored or FHIR response has).

    ``after_treatment`` matters for ZCQ only (see :func:`score_zcq`). An unknown instrument id raises
    :class:`~mildpath.domain.errors.InvalidAnswer` with ``field`` set to that id.
    """
    if instrument_id == "odi":
        return score_odi(answers)
    if instrument_id == "zcq":
        return score_zcq_items(answers, after_treatment=after_treatment)
    if instrument_id in ("nprs", "walking"):
        instrument = INSTRUMENTS[instrument_id]
        known = {item.id for item in instrument.items}
        for key in answers:
            if key not in known:
                raise InvalidAnswer(str(key), answers[key], f"{key}: not an item of {instrument_id}")
        if instrument_id == "nprs":
            return score_nprs(answers.get("nprs-back"), answers.get("nprs-leg"))
        return score_walking(answers.get("walking-minutes"))
    raise InvalidAnswer(instrument_id, None, f"{instrument_id}: unknown instrument")


__all__ = [
    "BANDS",
    "INSTRUMENTS",
    "NPRS",
    "ODI",
    "WALKING",
    "ZCQ",
    "Answer",
    "Change",
    "Instrument",
    "Item",
    "RawAnswer",
    "RawAnswers",
    "ResponderCall",
    "ResponderThresholds",
    "Score",
    "Subscale",
    "improvement",
    "odi_band",
    "odi_band_codes",
    "odi_responder_array",
    "responder_array",
    "responders",
    "score",
    "score_change",
    "score_nprs",
    "score_odi",
    "score_odi_array",
    "score_walking",
    "score_zcq",
    "score_zcq_items",
]


_VECTORISED = {'odi_band_codes', 'odi_responder_array', 'responder_array', 'score_odi_array'}


def __getattr__(name: str) -> object:
    """The numpy-backed analytics helpers load on first use, so importing the domain stays light."""
    if name in _VECTORISED:
        from mildpath.domain.instruments import vectorised

        return getattr(vectorised, name)
    raise AttributeError(name)
