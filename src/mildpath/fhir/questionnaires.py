"""Questionnaires as FHIR R4: Questionnaire definitions, QuestionnaireResponse export and import, scores as
Observations (issue 4; contracts §5; clinical reference §2.5).

Plain dicts throughout (tests validate them with ``fhir.resources.R4B``); only elements R4 and R4B share.

Codes (source: instrument-codes):

- ODI: ``Questionnaire.code`` LOINC 97908-8 (panel); the score Observation LOINC 97909-6 (%).
- NPRS: LOINC 72514-3 on both items and on both score Observations, each with a local code (``nprs-back``,
  ``nprs-leg``) beside it, because the LOINC code alone does not say which region.
- Everything else (ZCQ, its subscales, walking tolerance, ODI bands): local codes in :data:`CODE_SYSTEM`, whose
  CodeSystem resource :func:`code_systems` also returns. No LOINC codes exist for ODI items or for the ZCQ.

Choice answers are ``valueCoding`` with the answer value as ``code`` in a per-instrument answer system
(``.../CodeSystem/odi-answer``), the item's label as ``display`` and the R4 ``ordinalValue`` extension on the
answer option. Import also accepts ``valueInteger`` (and ``valueDecimal`` for walking minutes).

A missing score gives no Observation (there is nothing to report; its reason is on the :class:`Score`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from mildpath.content.instruments import InstrumentForm, instrument_form
from mildpath.domain.errors import InvalidAnswer, InvalidInput
from mildpath.domain.instruments import BANDS, INSTRUMENTS, Score, score
from mildpath.domain.instruments.base import read_answers
from mildpath.fhir.meta import stamp

BASE = "https://mildpath.org/fhir"
CODE_SYSTEM = f"{BASE}/CodeSystem/mildpath-instruments"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
QUESTIONNAIRE_UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition"
CALCULATED_EXPRESSION = f"{SDC}/sdc-questionnaire-calculatedExpression"
OBSERVATION_EXTRACT = f"{SDC}/sdc-questionnaire-observationExtract"

ODI_PANEL = {"system": LOINC, "code": "97908-8", "display": "Oswestry Disability Index"}  # source: instrument-codes
ODI_SCORE = {"system": LOINC, "code": "97909-6", "display": "Oswestry disability index score ODI"}
NPRS_LOINC = {  # source: instrument-codes
    "system": LOINC,
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}

#: Local concepts: code -> display. Instruments, subscale scores and ODI bands.
LOCAL_CODES: dict[str, str] = {
    "odi": "Oswestry Disability Index v2.1a",
    "zcq": "Zurich Claudication Questionnaire",
    "nprs": "Numeric Pain Rating Scale, back and leg",
    "walking": "Walking tolerance",
    "zcq-severity": "ZCQ symptom severity score (mean, 1-5)",
    "zcq-function": "ZCQ physical function score (mean, 1-4)",
    "zcq-satisfaction": "ZCQ satisfaction score (mean, 1-4)",
    "nprs-back": "Back pain, 0-10 numeric rating",
    "nprs-leg": "Leg pain, 0-10 numeric rating",
    "walking-tolerance": "Minutes walked before symptoms force a stop (capped at 30)",
    **{f"odi-band-{band}": f"ODI band: {band.replace('_', '-')}" for band in BANDS},
}

_LICENCE_NOTE = {
    "odi": "Item labels are mildpath's own short paraphrases. The official ODI v2.1a wording is copyrighted "
    "(Mapi Research Trust) and is not included; a licensed site may load it.",
    "zcq": "Item labels are mildpath's own short paraphrases. Permission to show the official ZCQ wording is "
    "unclear; a site holding permission may load it.",
}


def questionnaire_url(instrument_id: str) -> str:
    """The canonical URL of an instrument's Questionnaire (``https://mildpath.org/fhir/Questionnaire/odi``)."""
    return f"{BASE}/Questionnaire/{instrument_id}"


def answer_system(instrument_id: str) -> str:
    """The code system of an instrument's choice answers (codes are the answer values: ``"0"``..``"5"``)."""
    return f"{BASE}/CodeSystem/{instrument_id}-answer"


def _local(code: str) -> dict[str, str]:
    return {"system": CODE_SYSTEM, "code": code, "display": LOCAL_CODES[code]}


def _decimal(value: Any) -> Decimal:
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(str(value).strip())


def _fhir_datetime(value: date | datetime | str, field: str) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInput(f"{field}: a date-time needs a time zone", field=field, value=value.isoformat())
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# ---------------------------------------------------------------------------------------------------------------
# Questionnaire


def _answer_options(form: InstrumentForm, item_id: str) -> list[dict[str, Any]]:
    return [
        {
            "extension": [{"url": ORDINAL_VALUE, "valueDecimal": option.value}],
            "valueCoding": {"system": answer_system(form.id), "code": str(option.value), "display": option.label},
        }
        for option in form.item(item_id).options
    ]


def _q_item(form: InstrumentForm, item_id: str) -> dict[str, Any]:
    item = form.item(item_id)
    out: dict[str, Any] = {"linkId": item.id, "prefix": str(item.number), "text": item.label}
    if item.kind == "choice":
        out.update(type="choice", answerOption=_answer_options(form, item.id))
    elif item.kind == "integer":
        allowed = INSTRUMENTS[form.id].item(item.id).allowed
        out["extension"] = [
            {"url": MIN_VALUE, "valueInteger": allowed[0]},
            {"url": MAX_VALUE, "valueInteger": allowed[-1]},
        ]
        out["type"] = "integer"
        if form.id == "nprs":
            out["code"] = [NPRS_LOINC, _local(item.id)]
    else:  # decimal: walking minutes
        out["extension"] = [
            {"url": MIN_VALUE, "valueDecimal": 0},
            {"url": MAX_VALUE, "valueDecimal": 30},  # source: walking (30 or more is entered as 30)
            {"url": QUESTIONNAIRE_UNIT, "valueCoding": {"system": UCUM, "code": "min", "display": "minutes"}},
        ]
        out["type"] = "decimal"
    out["required"] = False  # a missing item is allowed; scoring applies the missing-item rules
    return out


# SDC (Structured Data Capture): each score as a read-only item with a FHIRPath ``calculatedExpression`` and
# ``observationExtract``, so an SDC form filler computes the score mildpath computes and extracts the same
# Observation (its code is the item's ``code``, as mildpath's score Observation's). The expressions are the
# scoring rules of domain/instruments, written out: a subscale's answered values (choice answers' codes are
# the answer values), no score when more items are missing than the rule allows, and the two-decimal figure
# rounded half up (``(x * 100 + 0.5).floor() / 100``, not ``round(2)``, whose tie rule engines differ on).
# NPRS needs no calculation: each region's answer is its score, so those items carry ``observationExtract``.


def _answered(instrument_id: str, item_ids: Sequence[str]) -> str:
    """FHIRPath: the answered values of these items, anywhere in the response (groups included)."""
    ids = " | ".join(f"'{i}'" for i in item_ids)
    found = f"%resource.repeat(item).where(linkId in ({ids})).answer.value"
    kinds = {INSTRUMENTS[instrument_id].item(i).kind for i in item_ids}
    return f"{found}.select(code.toInteger())" if kinds == {"choice"} else found


def _two_decimals(expression: str) -> str:
    return f"(({expression}) * 100 + 0.5).floor() / 100"


def score_expressions(instrument_id: str) -> dict[str, str]:
    """FHIRPath per score code (``odi``, ``zcq-severity``..., ``walking-tolerance``) over the QuestionnaireResponse
    (``%resource``); empty where the score is missing. NPRS has none (the answers are the scores)."""
    instrument = INSTRUMENTS[instrument_id]
    if instrument_id == "odi":  # source: odi (sum / (5 x answered) x 100; at most one section missing)
        v = _answered("odi", [i.id for i in instrument.items])
        least = len(instrument.items) - instrument.subscales[0].max_missing
        mean = f"({v}).aggregate($this + $total, 0) * 100 / (5 * ({v}).count())"
        return {"odi": f"iif(({v}).count() >= {least}, {_two_decimals(mean)})"}
    if instrument_id == "zcq":  # source: zcq (the mean of the answered items; missing items as allowed)
        out = {}
        for sub in instrument.subscales:
            v = _answered("zcq", sub.item_ids)
            least = len(sub.item_ids) - sub.max_missing
            mean = f"({v}).aggregate($this + $total, 0) / ({v}).count()"
            out[f"zcq-{sub.id}"] = f"iif(({v}).count() >= {least}, {_two_decimals(mean)})"
        return out
    if instrument_id == "walking":  # source: walking (minutes, a longer time counts as 30)
        v = _answered("walking", [i.id for i in instrument.items])
        return {"walking-tolerance": f"iif(({v}).exists(), {_two_decimals(f'iif(({v}) > 30, 30, ({v}))')})"}
    return {}


#: Score code -> (item text, Observation code, UCUM unit) of the calculated items.
_SCORE_ITEMS: dict[str, tuple[str, list[dict[str, str]], str]] = {
    "odi": ("ODI score (%)", [ODI_SCORE], "%"),
    "zcq-severity": (LOCAL_CODES["zcq-severity"], [_local("zcq-severity")], "{score}"),
    "zcq-function": (LOCAL_CODES["zcq-function"], [_local("zcq-function")], "{score}"),
    "zcq-satisfaction": (LOCAL_CODES["zcq-satisfaction"], [_local("zcq-satisfaction")], "{score}"),
    "walking-tolerance": (LOCAL_CODES["walking-tolerance"], [_local("walking-tolerance")], "min"),
}
EXTRACT = {"url": OBSERVATION_EXTRACT, "valueBoolean": True}


def score_link_id(code: str) -> str:
    """The linkId of a calculated score item (``odi-score``, ``zcq-severity-score``...)."""
    return f"{code}-score"


def _score_items(instrument_id: str) -> list[dict[str, Any]]:
    items = []
    for code, expression in score_expressions(instrument_id).items():
        text, coding, unit = _SCORE_ITEMS[code]
        items.append(
            {
                "extension": [
                    {
                        "url": CALCULATED_EXPRESSION,
                        "valueExpression": {"language": "text/fhirpath", "expression": expression},
                    },
                    EXTRACT,
                    {"url": QUESTIONNAIRE_UNIT, "valueCoding": {"system": UCUM, "code": unit}},
                ],
                "linkId": score_link_id(code),
                "code": coding,
                "text": text,
                "type": "decimal",
                "required": False,
                "readOnly": True,
            }
        )
    return items


def questionnaire(instrument_id: str, form: InstrumentForm | None = None) -> dict[str, Any]:
    """One instrument as a FHIR R4 Questionnaire (``form``: e.g. with a site's licensed wording).

    ZCQ items sit in three groups (``zcq-severity``, ``zcq-function``, ``zcq-satisfaction``); the satisfaction
    group says it is asked after treatment only.
    """
    form = form or instrument_form(instrument_id)
    instrument = INSTRUMENTS[instrument_id]
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": f"mildpath-{instrument_id}",
        "url": questionnaire_url(instrument_id),
        "version": instrument.version,
        "name": f"Mildpath{instrument_id.capitalize()}",
        "title": form.title,
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": "mildpath",
        "description": form.instructions or form.title,
        "code": [ODI_PANEL] if instrument_id == "odi" else [_local(instrument_id)],
    }
    if form.wording == "site" and form.licence:
        resource["copyright"] = form.licence
    elif instrument_id in _LICENCE_NOTE:
        resource["copyright"] = _LICENCE_NOTE[instrument_id]
    if instrument_id == "zcq":
        labels = dict(form.subscale_labels)
        resource["item"] = [
            {
                "linkId": f"zcq-{sub.id}",
                "type": "group",
                "text": labels.get(sub.id, sub.id),
                "item": [_q_item(form, item_id) for item_id in sub.item_ids],
            }
            for sub in instrument.subscales
        ]
    else:
        resource["item"] = [_q_item(form, item.id) for item in instrument.items]
    if instrument_id == "nprs":
        for item in resource["item"]:
            item["extension"] = [*item.get("extension", []), EXTRACT]
    resource["item"].extend(_score_items(instrument_id))
    return resource


def questionnaires() -> list[dict[str, Any]]:
    """Every instrument's Questionnaire with mildpath's own wording."""
    return [questionnaire(instrument_id) for instrument_id in INSTRUMENTS]


def code_systems() -> list[dict[str, Any]]:
    """The local CodeSystem (instruments, subscale scores, ODI bands) and each instrument's answer system."""
    systems = [
        {
            "resourceType": "CodeSystem",
            "id": "mildpath-instruments",
            "url": CODE_SYSTEM,
            "name": "MildpathInstruments",
            "title": "mildpath questionnaire codes",
            "status": "active",
            "content": "complete",
            "concept": [{"code": code, "display": display} for code, display in LOCAL_CODES.items()],
        }
    ]
    for instrument_id in ("odi", "zcq"):
        values = sorted({v for item in INSTRUMENTS[instrument_id].items for v in item.allowed})
        systems.append(
            {
                "resourceType": "CodeSystem",
                "id": f"mildpath-{instrument_id}-answer",
                "url": answer_system(instrument_id),
                "name": f"Mildpath{instrument_id.capitalize()}Answer",
                "status": "active",
                "content": "complete",
                "concept": [{"code": str(v), "display": f"answer value {v}"} for v in values],
            }
        )
    return systems


# ---------------------------------------------------------------------------------------------------------------
# QuestionnaireResponse export


def _answer_value(form: InstrumentForm, item_id: str, value: int | Decimal) -> dict[str, Any]:
    item = form.item(item_id)
    if item.kind == "choice":
        label = next((o.label for o in item.options if o.value == value), str(value))
        return {"valueCoding": {"system": answer_system(form.id), "code": str(value), "display": label}}
    if item.kind == "integer":
        return {"valueInteger": int(value)}
    return {"valueDecimal": float(value)}


def questionnaire_response(
    instrument_id: str,
    answers: Mapping[str, Any],
    *,
    subject: str,
    authored: date | datetime | str,
    author: str | None = None,
    source: str | None = None,
    status: str = "completed",
    resource_id: str | None = None,
    form: InstrumentForm | None = None,
    last_updated: datetime | None = None,
) -> dict[str, Any]:
    """Answers (``{"odi-1": 3, ...}``; ``None`` or absent for unanswered) as a FHIR R4 QuestionnaireResponse.

    ``subject``, ``author`` and ``source`` are references (``Patient/1``; a clinician entering paper answers is
    the ``author``, the patient the ``source``). ``authored`` needs a time zone if it has a time. Answers are
    validated first: :class:`InvalidAnswer` names the item. Unanswered items are left out.
    """
    instrument = INSTRUMENTS.get(instrument_id)
    if instrument is None:
        raise InvalidAnswer(instrument_id, None, f"{instrument_id}: unknown instrument")
    form = form or instrument_form(instrument_id)
    if instrument_id == "walking":
        score(instrument_id, answers)  # validates the minutes (a number, not negative)
        values: dict[str, Any] = {k: v for k, v in answers.items() if v is not None and v != ""}
    else:
        checked = read_answers(instrument, answers)
        values = {item.id: v for item, v in zip(instrument.items, checked, strict=True) if v is not None}
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{questionnaire_url(instrument_id)}|{instrument.version}",
        "status": status,
        "subject": {"reference": subject},
        "authored": _fhir_datetime(authored, "authored"),
    }
    if resource_id:
        resource = {"resourceType": "QuestionnaireResponse", "id": resource_id, **resource}
    if author:
        resource["author"] = {"reference": author}
    if source:
        resource["source"] = {"reference": source}

    def qr_item(item_id: str) -> dict[str, Any]:
        value = values[item_id]
        if instrument_id == "walking":
            value = _decimal(value)
        return {
            "linkId": item_id,
            "text": form.item(item_id).label,
            "answer": [_answer_value(form, item_id, value)],
        }

    if instrument_id == "zcq":
        groups = []
        for sub in instrument.subscales:
            children = [qr_item(i) for i in sub.item_ids if i in values]
            if children:
                groups.append({"linkId": f"zcq-{sub.id}", "item": children})
        resource["item"] = groups
    else:
        resource["item"] = [qr_item(item.id) for item in instrument.items if item.id in values]
    if not resource["item"]:
        del resource["item"]
    return stamp(resource, last_updated)


# ---------------------------------------------------------------------------------------------------------------
# QuestionnaireResponse import


@dataclass(frozen=True)
class ImportedResponse:
    """A QuestionnaireResponse read back: the instrument, its answers by item id and who/when."""

    instrument: str
    answers: dict[str, int | Decimal]
    status: str
    subject: str | None
    authored: str | None
    author: str | None
    source: str | None

    def score(self, *, after_treatment: bool | None = None) -> Score:
        """Score the imported answers (always recomputed from answers, never read from the resource)."""
        return score(self.instrument, self.answers, after_treatment=after_treatment)


def _instrument_of(resource: Mapping[str, Any], link_ids: Sequence[str]) -> str:
    canonical = str(resource.get("questionnaire") or "").split("|", 1)[0]
    for instrument_id in INSTRUMENTS:
        if canonical == questionnaire_url(instrument_id):
            return instrument_id
    owners = {iid for iid, inst in INSTRUMENTS.items() for item in inst.items if item.id in link_ids}
    if len(owners) == 1:
        return owners.pop()
    raise InvalidAnswer(
        "questionnaire",
        canonical or None,
        f"questionnaire: {canonical or 'missing'} is not a mildpath questionnaire and the linkIds do not name one",
    )


def _flatten(items: Any, path: str, problems: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Answer-bearing items, groups unwrapped; structural problems are collected, not raised."""
    out: list[dict[str, Any]] = []
    if items is None:
        return out
    if not isinstance(items, list):
        problems.append((path, "item must be a list"))
        return out
    for entry in items:
        if not isinstance(entry, dict) or not isinstance(entry.get("linkId"), str):
            problems.append((path, "every item needs a linkId"))
            continue
        if "item" in entry:
            out.extend(_flatten(entry["item"], entry["linkId"], problems))
        if "answer" in entry:
            out.append(entry)
    return out


def _raw_value(link_id: str, answer: Any) -> Any:
    if not isinstance(answer, dict):
        raise InvalidAnswer(link_id, answer, f"{link_id}: an answer must be an object")
    if isinstance(answer.get("item"), list) and answer["item"]:
        raise InvalidAnswer(link_id, None, f"{link_id}: nested items under an answer are not part of this form")
    values = {k: v for k, v in answer.items() if k.startswith("value")}
    if len(values) != 1:
        raise InvalidAnswer(link_id, None, f"{link_id}: an answer needs exactly one value[x]")
    ((kind, value),) = values.items()
    if kind == "valueCoding":
        code = value.get("code") if isinstance(value, dict) else None
        if not isinstance(code, str):
            raise InvalidAnswer(link_id, value, f"{link_id}: valueCoding needs a code")
        return code
    if kind in ("valueInteger", "valueDecimal"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidAnswer(link_id, value, f"{link_id}: {value!r} is not a number")
        return value
    raise InvalidAnswer(link_id, value, f"{link_id}: {kind} is not an accepted answer type")


def read_questionnaire_response(resource: Mapping[str, Any]) -> ImportedResponse:
    """Read a QuestionnaireResponse (as produced by :func:`questionnaire_response`, or by another system).

    The instrument comes from ``questionnaire`` (``.../Questionnaire/odi|2.1a``), or, without a known canonical,
    from the linkIds. Every problem is collected; :class:`InvalidAnswer` is raised for the first linkId, with all
    of them in its message and in ``error.data["problems"]`` as ``(linkId, message)`` pairs. Problems: an
    unknown linkId, two answers to one item, a value that is not a number or is out of range.
    """
    if not isinstance(resource, Mapping) or resource.get("resourceType") != "QuestionnaireResponse":
        raise InvalidAnswer("resourceType", None, "resourceType: expected a QuestionnaireResponse")
    problems: list[tuple[str, str]] = []
    items = _flatten(resource.get("item"), "item", problems)
    instrument_id = _instrument_of(resource, [i["linkId"] for i in items])
    instrument = INSTRUMENTS[instrument_id]
    known = {item.id for item in instrument.items}
    calculated = {score_link_id(code) for code in score_expressions(instrument_id)}
    raw: dict[str, Any] = {}
    for entry in items:
        link_id = entry["linkId"]
        answers = entry.get("answer")
        if link_id in calculated:  # an SDC filler's calculated score: mildpath recomputes it from the answers
            continue
        if link_id not in known:
            problems.append((link_id, f"not an item of {instrument_id}"))
        elif link_id in raw:
            problems.append((link_id, "answered twice"))
        elif not isinstance(answers, list) or len(answers) != 1:
            problems.append((link_id, "needs exactly one answer (one statement per item)"))
        else:
            try:
                raw[link_id] = _raw_value(link_id, answers[0])
            except InvalidAnswer as exc:
                problems.append((link_id, exc.message.split(": ", 1)[-1]))
    checked: dict[str, int | Decimal] = {}
    for item in instrument.items:
        if item.id not in raw:
            continue
        try:
            if item.kind == "decimal":
                score(instrument_id, {item.id: raw[item.id]})  # the same checks as scoring
                checked[item.id] = _decimal(raw[item.id])
            else:
                value = read_answers(instrument, {item.id: raw[item.id]})[instrument.items.index(item)]
                if value is not None:
                    checked[item.id] = value
        except InvalidAnswer as exc:
            problems.append((item.id, exc.message.split(": ", 1)[-1]))
    if problems:
        message = "; ".join(f"{link}: {text}" for link, text in problems)
        error = InvalidAnswer(problems[0][0], None, message)
        error.data["problems"] = problems
        raise error

    def ref(name: str) -> str | None:
        value = resource.get(name)
        return value.get("reference") if isinstance(value, dict) else None

    return ImportedResponse(
        instrument=instrument_id,
        answers=checked,
        status=str(resource.get("status", "")),
        subject=ref("subject"),
        authored=resource.get("authored"),
        author=ref("author"),
        source=ref("source"),
    )


# ---------------------------------------------------------------------------------------------------------------
# Observations


def _observation(
    code: list[dict[str, str]],
    value: dict[str, Any],
    *,
    subject: str,
    effective: str,
    derived_from: str | None,
    resource_id: str | None,
    last_updated: datetime | None,
) -> dict[str, Any]:
    obs: dict[str, Any] = {"resourceType": "Observation"}
    if resource_id:
        obs["id"] = resource_id
    obs.update(
        status="final",
        category=[{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}],
        code={"coding": code, "text": code[-1]["display"]},
        subject={"reference": subject},
        effectiveDateTime=effective,
        **value,
    )
    if derived_from:
        obs["derivedFrom"] = [{"reference": derived_from}]
    return stamp(obs, last_updated)


def _quantity(value: Decimal | Fraction | None, unit: str, code: str) -> dict[str, Any]:
    return {"valueQuantity": {"value": float(value or 0), "unit": unit, "system": UCUM, "code": code}}


def score_observations(
    result: Score,
    *,
    subject: str,
    effective: date | datetime | str,
    derived_from: str | None = None,
    id_prefix: str | None = None,
    last_updated: datetime | None = None,
) -> list[dict[str, Any]]:
    """Scores as FHIR R4 Observations (one per reported figure; none for a missing score).

    ``derived_from`` is the QuestionnaireResponse reference; ``id_prefix`` (if given) makes ids such as
    ``{id_prefix}-odi``. ODI: LOINC 97909-6 in % with the band as ``interpretation``; ZCQ: one Observation per
    subscale; NPRS: one per region (``valueInteger``); walking: minutes.
    """
    when = _fhir_datetime(effective, "effective")

    def obs_for(code: list[dict[str, str]], value: dict[str, Any], short: str) -> dict[str, Any]:
        rid = f"{id_prefix}-{short}" if id_prefix else None
        return _observation(code, value, subject=subject, effective=when, derived_from=derived_from, resource_id=rid,
                            last_updated=last_updated)

    out: list[dict[str, Any]] = []
    if result.instrument == "odi" and result.value is not None:
        obs = obs_for([ODI_SCORE], _quantity(result.value, "%", "%"), "odi")
        if result.band:
            obs["interpretation"] = [{"coding": [_local(f"odi-band-{result.band}")]}]
        out.append(obs)
    elif result.instrument == "zcq":
        for sub in result.subscales:
            if sub.value is not None:
                code = sub.instrument.replace(".", "-")
                value = _quantity(sub.value, "{score}", "{score}")
                out.append(obs_for([_local(code)], value, code))
    elif result.instrument == "nprs":
        for sub in result.subscales:
            if sub.value is not None:
                code = sub.instrument.replace(".", "-")
                value = {"valueInteger": int(sub.value)}
                out.append(obs_for([NPRS_LOINC, _local(code)], value, code))
    elif result.instrument == "walking" and result.value is not None:
        value = _quantity(result.value, "min", "min")
        out.append(obs_for([_local("walking-tolerance")], value, "walking"))
    return out
