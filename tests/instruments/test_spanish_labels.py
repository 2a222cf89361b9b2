"""Issue 15 §3/§5: the questionnaires have Spanish neutral labels of our own, complete, and the Spanish titles
say they are not the licensed wording; a response collected with the licensed wording keeps the instrument's name."""

from __future__ import annotations

import pytest

from mildpath.content.instruments import instrument_form, titled_form
from mildpath.domain.instruments import INSTRUMENTS


@pytest.mark.parametrize("instrument", list(INSTRUMENTS))
def test_every_label_of_every_instrument_has_its_own_spanish(instrument):
    english, spanish = instrument_form(instrument), instrument_form(instrument, language="es")
    assert spanish.language == "es" and spanish.title != english.title
    assert [i.id for i in spanish.items] == [i.id for i in english.items]
    for en_item, es_item in zip(english.items, spanish.items, strict=True):
        assert es_item.label and es_item.label != en_item.label, en_item.id
        for en_opt, es_opt in zip(en_item.options, es_item.options, strict=True):
            assert es_opt.value == en_opt.value
            assert es_opt.label != en_opt.label or en_opt.label.isdigit() or en_opt.label == "No", en_opt.label


@pytest.mark.parametrize("instrument", ["odi", "zcq"])
def test_the_licensed_instruments_spanish_titles_say_they_are_not_the_licensed_wording(instrument):
    spanish = instrument_form(instrument, language="es")
    assert "no es el texto con licencia" in spanish.title
    assert titled_form(instrument, "licensed", "es").title == instrument_form(instrument).licensed_title


def test_an_unknown_language_falls_back_to_english():
    assert instrument_form("odi", language="fr").title == instrument_form("odi").title
