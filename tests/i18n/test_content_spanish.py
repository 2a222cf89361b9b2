"""Content a patient reads has its Spanish beside the English (issue 15 §3): every triage reason and advice,
every recovery milestone and follow-up, every self-check question, answer and guidance, every criterion's patient
wording; and that Spanish reads "fairly easily" or easier (Fernández Huerta >= 70,
the bar of the interface catalogue), measured over the whole of each file's Spanish."""

from __future__ import annotations

import pytest

from mildpath.content.criteria import load_criteria_set, load_forms
from mildpath.content.milestones import load_milestones
from mildpath.content.triage import load_triage_rules
from tests.i18n.test_readability import MIN_FERNANDEZ_HUERTA_ES


def _triage_spanish() -> dict[str, str]:
    rules = load_triage_rules()
    texts = {f"rules[{r.id}]": r.reason_es for r in rules.rules}
    texts |= {f"advice.{level.value}": s.text_es for level, s in rules.advice.items()}
    texts["no_warning_sign"] = rules.no_warning_sign.text_es
    return texts


def _milestones_spanish() -> dict[str, str]:
    catalog = load_milestones()
    out = {}
    for spec in (*catalog.milestones, *catalog.follow_ups):
        title, text = spec.wording("es") if "es" in spec.translations else ("", "")
        out[spec.id] = f"{title}. {text}".strip(". ") if title else ""
    return out


def _forms_spanish() -> dict[str, str]:
    """Each self-check text in Spanish, or "" where the Spanish form shows the English."""
    en, es = load_forms("en"), load_forms("es")
    out = {"title": es.self_check_title, "intro": es.self_check_intro}
    for name, question in es.self_check.items():
        out[name] = question.text
        for value, label in question.options.items():
            out[f"{name}.{value}"] = label
    for kind, text in (*es.guidance.items(), *(("note." + k, v) for k, v in es.notes.items())):
        out[f"{kind}.title"], out[f"{kind}.text"] = text.title, text.text
    english = {"title": en.self_check_title, "intro": en.self_check_intro}
    english |= {n: q.text for n, q in en.self_check.items()}
    english |= {f"{n}.{v}": label for n, q in en.self_check.items() for v, label in q.options.items()}
    english |= {f"{k}.title": t.title for k, t in en.guidance.items()}
    english |= {f"{k}.text": t.text for k, t in en.guidance.items()}
    english |= {f"note.{k}.title": t.title for k, t in en.notes.items()}
    english |= {f"note.{k}.text": t.text for k, t in en.notes.items()}
    return {key: ("" if text == english.get(key) else text) for key, text in out.items()}


def _criteria_spanish() -> dict[str, str]:
    return {c.id: c.patient_es for c in load_criteria_set("default").criteria}


CONTENT = {
    "triage.yaml": _triage_spanish,
    "milestones.yaml": _milestones_spanish,
    "criteria/forms.yaml": _forms_spanish,
    "criteria/default.yaml": _criteria_spanish,
}


@pytest.mark.parametrize("name", sorted(CONTENT))
def test_every_patient_sentence_of_the_content_has_its_spanish(name):
    missing = [key for key, text in CONTENT[name]().items() if not text.strip()]
    assert not missing, f"{name}: no Spanish for {missing}"


@pytest.mark.parametrize("name", sorted(CONTENT))
def test_the_spanish_of_the_content_reads_fairly_easily(name, spanish_readability):
    text = " ".join(t if t.rstrip()[-1:] in ".?!:" else t + "." for t in CONTENT[name]().values() if t.strip())
    huerta = spanish_readability.fernandez_huerta(text.replace("{", "").replace("}", ""))
    assert huerta >= MIN_FERNANDEZ_HUERTA_ES, f"{name}: Fernández Huerta {huerta:.1f}"
