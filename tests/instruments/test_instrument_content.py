"""Instrument wording: every shipped file loads and matches the scoring structure; a site's licensed wording
loads from its own file (the format in docs/questionnaires.md), and broken files are refused with the place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mildpath.content.instruments import instrument_form, instrument_forms, load_site_wording
from mildpath.content.sources import bibliography
from mildpath.domain.errors import InvalidInput
from mildpath.domain.instruments import INSTRUMENTS

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "questionnaires.md"


def test_every_instrument_file_loads_with_the_items_of_its_scoring_structure() -> None:
    forms = instrument_forms()
    assert list(forms) == ["odi", "zcq", "nprs", "walking"]
    for iid, form in forms.items():
        assert [i.id for i in form.items] == [i.id for i in INSTRUMENTS[iid].items]
        assert form.sources and all(s in bibliography() for s in form.sources)
        assert form.wording == "mildpath"


def test_choice_items_label_every_answer_value() -> None:
    for iid in ("odi", "zcq"):
        for item in instrument_form(iid).items:
            assert tuple(o.value for o in item.options) == INSTRUMENTS[iid].item(item.id).allowed


def test_licensed_instruments_are_flagged_and_ship_only_short_labels() -> None:
    for iid in ("odi", "zcq"):
        form = instrument_form(iid)
        assert form.licensed
        assert all(len(item.label) <= 60 for item in form.items)
        assert all(len(option.label) <= 40 for item in form.items for option in item.options)
    assert not instrument_form("nprs").licensed


def _yaml_blocks() -> list[dict]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)]


def test_the_documented_complete_example_loads(tmp_path: Path) -> None:
    complete = next(b for b in _yaml_blocks() if b["instrument"] == "nprs")
    path = tmp_path / "nprs.yaml"
    path.write_text(yaml.safe_dump(complete), encoding="utf-8")
    form = instrument_form("nprs", load_site_wording(path))
    assert form.wording == "site" and form.title == "Pain today"
    assert form.item("nprs-back").label == "Rate your back pain today."
    assert [o.value for o in form.item("nprs-leg").options] == [0, 10]


def odi_wording(**changes: object) -> dict:
    data: dict = {
        "instrument": "odi",
        "version": "2.1a",
        "licence": "Mapi Research Trust, licence ref. TEST",
        "items": {
            f"odi-{n}": {"text": f"Section {n}", "options": {v: f"statement {v + 1}" for v in range(6)}}
            for n in range(1, 11)
        },
    }
    data.update(changes)
    return data


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "site-odi.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_a_site_loads_the_licensed_odi_wording(tmp_path: Path) -> None:
    form = instrument_form("odi", load_site_wording(write(tmp_path, odi_wording())))
    assert form.wording == "site" and form.licence == "Mapi Research Trust, licence ref. TEST"
    assert form.item("odi-4").label == "Section 4"
    assert form.item("odi-4").options[5].label == "statement 6"


def _without_option(data: dict) -> dict:
    del data["items"]["odi-4"]["options"][5]
    return data


def _without_item(data: dict) -> dict:
    del data["items"]["odi-10"]
    return data


@pytest.mark.parametrize(
    ("data", "place"),
    [
        (odi_wording(licence=""), "licence"),
        (odi_wording(version="2.0"), "version"),
        (odi_wording(instrument="sf36"), "instrument"),
        (odi_wording(colour="blue"), "colour"),
        (_without_option(odi_wording()), "items.odi-4.options"),
        (_without_item(odi_wording()), "items.odi-10.text"),
        (odi_wording(items={**odi_wording()["items"], "odi-11": {"text": "x"}}), "items.odi-11"),
    ],
    ids=[
        "no-licence",
        "wrong-version",
        "unknown-instrument",
        "unknown-key",
        "missing-option",
        "missing-item",
        "unknown-item",
    ],
)
def test_a_broken_site_wording_file_is_refused_naming_the_place(tmp_path: Path, data: dict, place: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_site_wording(write(tmp_path, data))
    assert place in caught.value.message and "site-odi.yaml" in caught.value.message


def test_an_unreadable_site_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("items: [unclosed", encoding="utf-8")
    with pytest.raises(InvalidInput):
        load_site_wording(path)
    with pytest.raises(InvalidInput):
        load_site_wording(tmp_path / "absent.yaml")


def test_site_wording_for_another_instrument_is_refused(tmp_path: Path) -> None:
    wording = load_site_wording(write(tmp_path, odi_wording()))
    with pytest.raises(InvalidInput):
        instrument_form("zcq", wording)
