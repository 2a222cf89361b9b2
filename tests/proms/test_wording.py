"""Questionnaires say what they are (issue 15 §5): without the licensed wording the forms carry a neutral title
everywhere, each stored response records the wording used, and the ODI and ZCQ state their whole-percent forms
with the rule that gives them."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from mildpath.content.instruments import instrument_form
from mildpath.domain.instruments.odi import WHOLE_PERCENT_RULE, odi_whole_percent
from mildpath.domain.instruments.zcq import zcq_percent
from mildpath.fhir.questionnaires import questionnaire
from mildpath.services import proms as svc
from mildpath.services.clock import now, today
from mildpath.settings import Settings
from mildpath.store.proms import PromResponse
from tests.proms.conftest import ODI_3556, ZCQ_FOLLOW_UP

NEUTRAL_ODI = "Back-related disability (ODI-style neutral labels: not the licensed wording)"


def licensed_odi(folder: Path) -> Path:
    (folder / "instruments").mkdir(parents=True, exist_ok=True)
    data = {
        "instrument": "odi",
        "version": "2.1a",
        "licence": "Mapi Research Trust, licence ref. TEST",
        "items": {
            f"odi-{n}": {"text": f"Section {n}", "options": {v: f"statement {v + 1}" for v in range(6)}}
            for n in range(1, 11)
        },
    }
    path = folder / "instruments" / "odi.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("instrument", ["odi", "zcq"])
def test_without_licensed_wording_the_form_does_not_pass_for_the_validated_instrument(instrument):
    form = instrument_form(instrument)
    assert "neutral labels: not the licensed wording" in form.title
    assert form.stored_wording == "neutral"
    fhir = questionnaire(instrument, form)
    assert fhir["title"] == form.title


def test_the_odi_title_is_the_neutral_one_on_the_fhir_questionnaire():
    assert questionnaire("odi")["title"] == NEUTRAL_ODI


def test_over_the_sites_licensed_wording_the_form_takes_the_instruments_name(tmp_path):
    licensed_odi(tmp_path)
    form = svc.form_for("odi", str(tmp_path))
    assert form.title == "Oswestry Disability Index v2.1a" and form.stored_wording == "licensed"


def test_a_response_records_the_wording_it_was_answered_with(db, dr_alice, make_patient, tmp_path):
    neutral_pid, licensed_pid = make_patient(100), make_patient(100)
    data = svc.ResponseIn(instrument="odi", timepoint="3m", answers=ODI_3556)
    neutral = svc.record_response(db, dr_alice.actor, neutral_pid, data, today=today(), now=now())
    assert neutral.wording == "neutral" and neutral.title == NEUTRAL_ODI
    licensed_odi(tmp_path)
    licensed = svc.record_response(
        db, dr_alice.actor, licensed_pid, data, today=today(), now=now(), content_dir=str(tmp_path)
    )
    assert licensed.wording == "licensed" and licensed.title == "Oswestry Disability Index v2.1a"
    assert db.get(PromResponse, neutral.id).wording == "neutral"
    assert db.get(PromResponse, licensed.id).wording == "licensed"


def test_the_odi_stores_the_unrounded_score_and_the_whole_percent_by_the_ao_rule(db, dr_alice, make_patient):
    pid = make_patient(100)
    data = svc.ResponseIn(instrument="odi", timepoint="3m", answers=ODI_3556)
    view = svc.record_response(db, dr_alice.actor, pid, data, today=today(), now=now())
    assert view.scores["value"] == 35.56 and view.scores["exact"] == "320/9"  # contracts §4: two decimals
    assert view.scores["whole_percent"] == 36
    assert view.scores["rounding_rule"] == WHOLE_PERCENT_RULE and "AO" in WHOLE_PERCENT_RULE


@pytest.mark.parametrize(
    ("exact", "whole"),
    [(Fraction(71, 2), 36), (Fraction(69, 2), 35), (Fraction(1600, 45), 36), (Fraction(310, 9), 34), (0, 0)],
    ids=["35.5-up", "34.5-up", "35.56", "34.44-down", "zero"],
)
def test_the_whole_percent_rounds_a_half_up(exact, whole):
    assert odi_whole_percent(Fraction(exact)) == whole


def test_the_zcq_states_its_percentage_conversion(db, dr_alice, make_patient):
    pid = make_patient(100)
    data = svc.ResponseIn(instrument="zcq", timepoint="3m", answers=ZCQ_FOLLOW_UP)
    view = svc.record_response(db, dr_alice.actor, pid, data, today=today(), now=now())
    subs = view.scores["subscales"]
    for name in ("severity", "function", "satisfaction"):
        mean = Fraction(subs[name]["exact"])
        assert subs[name]["percent"] == zcq_percent(name, mean)
    assert "maximum 5 for severity" in view.scores["percent_rule"]
    assert zcq_percent("severity", Fraction(5, 2)) == 50 and zcq_percent("function", Fraction(3, 2)) == 38


def test_the_licensed_wording_setting_names_only_licensed_instruments():
    assert Settings(licensed_wording=" ODI, zcq ,odi").licensed_wording_declared == ("odi", "zcq")
    with pytest.raises(ValueError, match="nprs"):
        Settings(licensed_wording="odi,nprs")
