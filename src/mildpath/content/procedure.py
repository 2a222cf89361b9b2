"""Procedure-day content: ``procedure.yaml`` and ``anticoagulants.yaml`` loaded once into domain policies.

:func:`policies` is what the domain rules take (levels, thresholds, checklist items, hold intervals);
:func:`patient_texts` the patient-facing sentences (fasting instructions, discharge instructions, the
never-stop-a-blood-thinner rule); :func:`procedure_code` the CPT code for FHIR. Everything is validated on first
load and every item must cite known sources: a malformed file fails loudly with :class:`ContentError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from mildpath.content.sources import ContentError, bibliography, check_cited
from mildpath.domain.procedure import (
    AdverseEventType,
    ChecklistItemId,
    ChecklistItemSpec,
    ChecklistPolicy,
    Choice,
    DischargePolicy,
    EventPolicy,
    HoldInterval,
    IntraEventKind,
    ProcedurePolicies,
    RecordPolicy,
    RefusedChoice,
    ReinterventionType,
    Threshold,
)

CONTENT_DIR = Path(__file__).resolve().parent
PROCEDURE_FILE = CONTENT_DIR / "procedure.yaml"
ANTICOAGULANTS_FILE = CONTENT_DIR / "anticoagulants.yaml"


@dataclass(frozen=True)
class CitedText:
    """One patient-facing sentence and the bibliography ids it rests on."""

    text: str
    sources: tuple[str, ...]
    text_es: str = ""  # the same sentence in Spanish (issue 15 §3); shown to a patient who reads Spanish

    def in_language(self, language: str) -> str:
        return self.text_es if language == "es" and self.text_es else self.text


@dataclass(frozen=True)
class InstructionSection:
    """A titled group of discharge sentences; ``urgency`` is ``emergency``, ``urgent`` or empty."""

    id: str
    title: str
    sentences: tuple[CitedText, ...]
    urgency: str = ""
    action: CitedText | None = None
    title_es: str = ""

    def title_in(self, language: str) -> str:
        return self.title_es if language == "es" and self.title_es else self.title


@dataclass(frozen=True)
class PatientTexts:
    never_stop_blood_thinner: CitedText
    fasting_instructions: tuple[CitedText, ...]
    discharge_instructions: tuple[InstructionSection, ...]
    #: the discharge sheet's own words by language (``title``, ``procedure_on``, ``phone``, ``sources``)
    discharge_sheet: dict[str, dict[str, str]] = field(default_factory=dict)

    def sheet_words(self, language: str) -> dict[str, str]:
        return self.discharge_sheet.get(language) or self.discharge_sheet.get("en") or {}


@dataclass(frozen=True)
class ProcedureCode:
    system: str
    code: str
    display: str
    text: str
    sources: tuple[str, ...]


def _read(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ContentError(f"{path.name}: expected a mapping at the top level")
    return data


def _sources(entry: dict[str, Any], where: str, inherited: tuple[str, ...] = ()) -> tuple[str, ...]:
    ids = tuple(entry.get("sources") or inherited)
    check_cited(ids, where)
    return ids


def _choices(data: dict[str, Any], key: str) -> tuple[Choice, ...]:
    block = data.get(key)
    if not isinstance(block, dict) or not block.get("items"):
        raise ContentError(f"procedure.yaml: {key} needs items")
    shared = _sources(block, f"procedure.yaml: {key}")
    out = []
    for entry in block["items"]:
        where = f"procedure.yaml: {key}.{entry.get('id')}"
        if not entry.get("id") or not entry.get("label"):
            raise ContentError(f"{where}: needs id and label")
        out.append(
            Choice(str(entry["id"]), str(entry["label"]), _sources(entry, where, shared), str(entry.get("warning", "")))
        )
    ids = [c.id for c in out]
    if len(set(ids)) != len(ids):
        raise ContentError(f"procedure.yaml: {key} repeats an id: {ids}")
    return tuple(out)


def _threshold(data: dict[str, Any], name: str) -> Threshold:
    entry = (data.get("thresholds") or {}).get(name)
    where = f"procedure.yaml: thresholds.{name}"
    if not isinstance(entry, dict) or not isinstance(entry.get("value"), int | float):
        raise ContentError(f"{where}: needs a numeric value")
    return Threshold(float(entry["value"]), _sources(entry, where), str(entry.get("note", "")))


def _rule_sources(data: dict[str, Any], name: str) -> tuple[str, ...]:
    ids = tuple((data.get("rule_sources") or {}).get(name) or ())
    check_cited(ids, f"procedure.yaml: rule_sources.{name}")
    return ids


def _enum_ids_match(choices: tuple[Choice, ...], expected: set[str], key: str) -> None:
    got = {c.id for c in choices}
    if got != expected:
        raise ContentError(f"procedure.yaml: {key} must list exactly {sorted(expected)}, got {sorted(got)}")


def _hold_intervals(data: dict[str, Any]) -> tuple[HoldInterval, ...]:
    out = []
    for entry in data.get("drugs") or ():
        where = f"anticoagulants.yaml: {entry.get('id')}"
        days = entry.get("hold_days")
        low, high = (days, days) if isinstance(days, int) else tuple(days or (None, None))[:2]
        if not (isinstance(low, int) and isinstance(high, int) and 0 < low <= high):
            raise ContentError(f"{where}: hold_days must be a whole number of days or [min, max]")
        sources = _sources(entry, where)
        verified = entry.get("verified")
        if not isinstance(verified, bool):
            raise ContentError(f"{where}: state verified: true or false")
        if verified and not all(bibliography()[s].verified for s in sources):
            raise ContentError(f"{where}: cites an UNVERIFIED source, so it must say verified: false")
        out.append(
            HoldInterval(
                drug=str(entry["id"]),
                label=str(entry.get("label") or entry["id"]),
                min_days=low,
                max_days=high,
                sources=sources,
                verified=verified,
                aliases=tuple(entry.get("aliases") or ()),
                note=str(entry.get("note", "")),
                hold=str(entry.get("hold", "")),
                restart=str(entry.get("restart", "")),
                status=_status(entry.get("status"), f"{where}: status"),
                restart_status=_status(entry.get("restart_status"), f"{where}: restart_status"),
            )
        )
    if not out:
        raise ContentError("anticoagulants.yaml: no drugs")
    return tuple(out)


_STATUSES = ("secondary source", "UNVERIFIED")


def _status(value: Any, where: str) -> str:
    """An interval's status (clinical reference §4.4): "secondary source" or "UNVERIFIED" (empty: not given)."""
    if value is None:
        return ""
    if str(value) not in _STATUSES:
        raise ContentError(f"{where}: must be one of {list(_STATUSES)}")
    return str(value)


def _cited(entry: dict[str, Any], where: str) -> CitedText:
    text = str(entry.get("text", "")).strip()
    if not text:
        raise ContentError(f"{where}: empty text")
    text_es = str(entry.get("text_es", "")).strip()
    if not text_es:  # every patient-facing sentence comes in Spanish too (issue 15 §3)
        raise ContentError(f"{where}: needs text_es (the Spanish sentence)")
    return CitedText(text, _sources(entry, where), text_es)


def _policies(data: dict[str, Any], drugs: dict[str, Any], texts: PatientTexts) -> ProcedurePolicies:
    levels = _choices(data, "levels")
    event_kinds = _choices(data, "intra_procedure_events")
    _enum_ids_match(event_kinds, {str(k) for k in IntraEventKind}, "intra_procedure_events")
    tissues_block = data.get("tissues") or {}
    refused = tuple(
        RefusedChoice(str(r["id"]), str(r["message"]), _sources(r, f"procedure.yaml: tissues.refused.{r['id']}"))
        for r in tissues_block.get("refused") or ()
    )
    record = RecordPolicy(
        levels=levels,
        sides=_choices(data, "sides"),
        anaesthesia=_choices(data, "anaesthesia"),
        sedation=_choices(data, "sedation"),
        tissues=_choices(data, "tissues"),
        refused_tissues=refused,
        event_kinds=event_kinds,
        max_duration_minutes=_threshold(data, "max_duration_minutes"),
        max_levels=_threshold(data, "max_levels"),
        epidurogram_sources=_rule_sources(data, "epidurogram"),
        dural_puncture_sources=_rule_sources(data, "dural_puncture"),
    )
    specs = []
    for entry in data.get("checklist") or ():
        where = f"procedure.yaml: checklist.{entry.get('id')}"
        try:
            item_id = ChecklistItemId(entry["id"])
        except (KeyError, ValueError):
            raise ContentError(f"{where}: unknown checklist item") from None
        if not isinstance(entry.get("required"), bool) or not entry.get("label"):
            raise ContentError(f"{where}: needs a label and required: true or false")
        specs.append(ChecklistItemSpec(item_id, str(entry["label"]), entry["required"], _sources(entry, where)))
    try:
        checklist = ChecklistPolicy(
            items=tuple(specs),
            imaging_max_age_months=_threshold(data, "imaging_max_age_months"),
            hold_intervals=_hold_intervals(drugs),
            never_stop_rule=texts.never_stop_blood_thinner.text,
            never_stop_sources=texts.never_stop_blood_thinner.sources,
        )
    except ValueError as exc:
        raise ContentError(f"procedure.yaml: checklist: {exc}") from exc
    discharge = DischargePolicy(
        aldrete_min=_threshold(data, "aldrete_min"),
        padss_min=_threshold(data, "padss_min"),
        score_max=_threshold(data, "score_max"),
        fever_celsius=_threshold(data, "fever_celsius"),
        new_deficit_sources=_rule_sources(data, "new_leg_deficit"),
        escort_sources=_rule_sources(data, "escort"),
        instructions_sources=_rule_sources(data, "written_instructions"),
    )
    ae_types = _choices(data, "adverse_event_types")
    re_types = _choices(data, "reintervention_types")
    _enum_ids_match(ae_types, {str(t) for t in AdverseEventType}, "adverse_event_types")
    _enum_ids_match(re_types, {str(t) for t in ReinterventionType}, "reintervention_types")
    events = EventPolicy(
        adverse_event_types=ae_types,
        reintervention_types=re_types,
        readmission_window_days=_threshold(data, "readmission_window_days"),
        levels=levels,
    )
    return ProcedurePolicies(checklist=checklist, record=record, discharge=discharge, events=events)


def _patient_texts(data: dict[str, Any]) -> PatientTexts:
    sections = []
    for block in data.get("discharge_instructions") or ():
        where = f"procedure.yaml: discharge_instructions.{block.get('id')}"
        sentences = tuple(_cited(s, where) for s in block.get("sentences") or ())
        if not sentences or not block.get("title"):
            raise ContentError(f"{where}: needs a title and sentences")
        action = _cited(block["action"], f"{where}.action") if block.get("action") else None
        urgency = str(block.get("urgency", ""))
        if urgency not in ("", "emergency", "urgent"):
            raise ContentError(f"{where}: urgency must be emergency or urgent")
        if not block.get("title_es"):
            raise ContentError(f"{where}: needs title_es (the Spanish title)")
        sections.append(
            InstructionSection(
                str(block["id"]), str(block["title"]), sentences, urgency, action, str(block["title_es"])
            )
        )
    fasting = tuple(_cited(s, "procedure.yaml: fasting_instructions") for s in data.get("fasting_instructions") or ())
    if not sections or not fasting:
        raise ContentError("procedure.yaml: discharge_instructions and fasting_instructions are required")
    return PatientTexts(
        never_stop_blood_thinner=_cited(data.get("never_stop_blood_thinner") or {}, "procedure.yaml: never_stop"),
        fasting_instructions=fasting,
        discharge_instructions=tuple(sections),
        discharge_sheet=_sheet(data.get("discharge_sheet") or {}),
    )


_SHEET_WORDS = {"title", "procedure_on", "phone", "sources"}


def _sheet(data: dict[str, Any]) -> dict[str, dict[str, str]]:
    out = {}
    for language in ("en", "es"):
        words = data.get(language) or {}
        if set(words) != _SHEET_WORDS:
            raise ContentError(f"procedure.yaml: discharge_sheet.{language} must give {sorted(_SHEET_WORDS)}")
        out[language] = {str(k): str(v) for k, v in words.items()}
    return out


def _procedure_code(data: dict[str, Any]) -> ProcedureCode:
    entry = data.get("procedure_code") or {}
    where = "procedure.yaml: procedure_code"
    if not all(entry.get(k) for k in ("system", "code", "display", "text")):
        raise ContentError(f"{where}: needs system, code, display and text")
    return ProcedureCode(
        str(entry["system"]), str(entry["code"]), str(entry["display"]), str(entry["text"]), _sources(entry, where)
    )


@dataclass(frozen=True)
class ProcedureContent:
    """Everything in the two procedure-day content files, validated."""

    policies: ProcedurePolicies
    texts: PatientTexts
    code: ProcedureCode


def load_procedure_content(
    procedure_file: Path = PROCEDURE_FILE, anticoagulants_file: Path = ANTICOAGULANTS_FILE
) -> ProcedureContent:
    """Read and validate the content files (uncached: tests point it at edited copies)."""
    data = _read(procedure_file)
    texts = _patient_texts(data)
    return ProcedureContent(_policies(data, _read(anticoagulants_file), texts), texts, _procedure_code(data))


@lru_cache(maxsize=1)
def _content() -> ProcedureContent:
    return load_procedure_content()


_site_dir: list[str] = [""]


def use_site_content(content_dir: str) -> None:
    """Name the site's content folder (``Settings.content_dir``) once at start-up (the web app and the CLI do): from
    then on :func:`policies` without an argument reads the site's ``anticoagulants.yaml`` when it has one."""
    _site_dir[0] = content_dir or ""


def policies(content_dir: str | None = None) -> ProcedurePolicies:
    """The procedure-day policies (cached; validated on first call). A site's ``<content_dir>/anticoagulants.yaml``
    (same format) replaces the shipped hold and restart table with the site's own policy. ``content_dir`` None:
    the folder named by :func:`use_site_content` (none by default)."""
    content_dir = _site_dir[0] if content_dir is None else content_dir
    if content_dir:
        site = Path(content_dir) / ANTICOAGULANTS_FILE.name
        if site.is_file():
            return _site_content(str(site), site.stat().st_mtime).policies
    return _content().policies


@lru_cache(maxsize=4)
def _site_content(path: str, mtime: float) -> ProcedureContent:
    return load_procedure_content(anticoagulants_file=Path(path))


def patient_texts() -> PatientTexts:
    """Fasting and discharge instructions and the never-stop rule, each sentence with its sources."""
    return _content().texts


def procedure_code() -> ProcedureCode:
    """CPT 0275T with its descriptor (clinical reference §3.1)."""
    return _content().code
