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
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictFloat, StrictInt, field_validator, model_validator

from mildpath.content.loader import Cited, ContentModel, SourceId, Text, Words, load_content, unique_ids
from mildpath.content.sources import ContentError, bibliography
from mildpath.domain.catalog import in_language
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
        return in_language(language, self.text, self.text_es)


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
        return in_language(language, self.title, self.title_es)


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


# --------------------------------------------------------------------------------------------- the files' models


def _not_blank_code(code: str) -> str:
    if not code.strip():
        raise ValueError("is empty: needs the code")
    return code


class ChoiceIn(ContentModel):
    id: Text = Field(min_length=1)
    label: Words
    sources: tuple[SourceId, ...] = ()  # none: the list's own sources
    warning: str = ""


class RefusedIn(ContentModel):
    id: Text
    message: str
    sources: Cited


class ChoicesIn(ContentModel):
    sources: Cited
    items: tuple[ChoiceIn, ...] = Field(min_length=1)
    refused: tuple[RefusedIn, ...] = ()

    @field_validator("items")
    @classmethod
    def _unique_ids(cls, items: tuple[ChoiceIn, ...]) -> tuple[ChoiceIn, ...]:
        unique_ids(items, "item ids")
        return items

    def choices(self) -> tuple[Choice, ...]:
        return tuple(Choice(c.id, c.label, c.sources or self.sources, c.warning) for c in self.items)


class ThresholdIn(ContentModel):
    value: StrictInt | StrictFloat
    sources: Cited
    note: str = ""

    def threshold(self) -> Threshold:
        return Threshold(float(self.value), self.sources, self.note)


class ChecklistIn(ContentModel):
    id: ChecklistItemId
    label: Words
    required: StrictBool
    sources: Cited


class CitedIn(ContentModel):
    text: Words
    #: every patient-facing sentence comes in Spanish too (issue 15 §3)
    text_es: Words
    sources: Cited

    def cited(self) -> CitedText:
        return CitedText(self.text, self.sources, self.text_es)


class SectionIn(ContentModel):
    id: Text
    title: Words
    title_es: Words
    sentences: tuple[CitedIn, ...] = Field(min_length=1)
    urgency: Literal["", "emergency", "urgent"] = ""
    action: CitedIn | None = None


class SheetWordsIn(ContentModel):
    title: str
    procedure_on: str
    phone: str
    sources: str


class SheetIn(ContentModel):
    en: SheetWordsIn
    es: SheetWordsIn


class CodeIn(ContentModel):
    system: Words
    code: Annotated[Text, AfterValidator(_not_blank_code)]
    display: Words
    text: Words
    sources: Cited


class RuleSourcesIn(ContentModel):
    epidurogram: Cited
    dural_puncture: Cited
    new_leg_deficit: Cited
    escort: Cited
    written_instructions: Cited


class ThresholdsIn(ContentModel):
    max_duration_minutes: ThresholdIn
    max_levels: ThresholdIn
    imaging_max_age_months: ThresholdIn
    aldrete_min: ThresholdIn
    padss_min: ThresholdIn
    score_max: ThresholdIn
    fever_celsius: ThresholdIn
    readmission_window_days: ThresholdIn


def _exactly(key: str, expected: set[str]) -> Any:
    def check(block: ChoicesIn) -> ChoicesIn:
        got = {c.id for c in block.items}
        if got != expected:
            raise ValueError(f"{key} must list exactly {sorted(expected)}, got {sorted(got)}")
        return block

    return AfterValidator(check)


class ProcedureFile(ContentModel):
    """``procedure.yaml``: the record's choices, thresholds, checklist, patient sentences and the CPT code."""

    version: int
    procedure_code: CodeIn
    levels: ChoicesIn
    sides: ChoicesIn
    anaesthesia: ChoicesIn
    sedation: ChoicesIn
    tissues: ChoicesIn
    intra_procedure_events: Annotated[ChoicesIn, _exactly("intra_procedure_events", {str(k) for k in IntraEventKind})]
    thresholds: ThresholdsIn
    rule_sources: RuleSourcesIn
    checklist: tuple[ChecklistIn, ...]
    adverse_event_types: Annotated[ChoicesIn, _exactly("adverse_event_types", {str(t) for t in AdverseEventType})]
    reintervention_types: Annotated[ChoicesIn, _exactly("reintervention_types", {str(t) for t in ReinterventionType})]
    never_stop_blood_thinner: CitedIn
    fasting_instructions: tuple[CitedIn, ...] = Field(min_length=1)
    discharge_instructions: tuple[SectionIn, ...] = Field(min_length=1)
    discharge_sheet: SheetIn


class DrugIn(ContentModel):
    id: Text
    label: str | None = None
    hold_days: StrictInt | tuple[StrictInt, StrictInt]
    sources: Cited
    verified: StrictBool
    aliases: tuple[str, ...] = ()
    note: str = ""
    hold: str = ""
    restart: str = ""
    #: an interval's status (clinical reference §4.4); none: not given
    status: Literal["secondary source", "UNVERIFIED"] | None = None
    restart_status: Literal["secondary source", "UNVERIFIED"] | None = None

    @field_validator("hold_days")
    @classmethod
    def _days(cls, days: int | tuple[int, int]) -> int | tuple[int, int]:
        low, high = (days, days) if isinstance(days, int) else days
        if not 0 < low <= high:
            raise ValueError("hold_days must be a whole number of days or [min, max]")
        return days

    @model_validator(mode="after")
    def _unverified_says_so(self) -> DrugIn:
        if self.verified and not all(bibliography()[s].verified for s in self.sources):
            raise ValueError("cites an UNVERIFIED source, so it must say verified: false")
        return self

    def interval(self) -> HoldInterval:
        low, high = (self.hold_days, self.hold_days) if isinstance(self.hold_days, int) else self.hold_days
        same = self.model_dump(include={"sources", "verified", "aliases", "note", "hold", "restart"})
        return HoldInterval(
            drug=self.id,
            label=self.label or self.id,
            min_days=low,
            max_days=high,
            status=self.status or "",
            restart_status=self.restart_status or "",
            **same,
        )


class AnticoagulantsFile(ContentModel):
    """``anticoagulants.yaml``: the hold and restart interval of each blood thinner (a site may have its own)."""

    source_note: str = ""
    drugs: tuple[DrugIn, ...] = Field(min_length=1)


# --------------------------------------------------------------------------------------------- domain objects


def _policies(data: ProcedureFile, drugs: AnticoagulantsFile, texts: PatientTexts) -> ProcedurePolicies:
    levels = data.levels.choices()
    t, rule = data.thresholds, data.rule_sources
    record = RecordPolicy(
        levels=levels,
        sides=data.sides.choices(),
        anaesthesia=data.anaesthesia.choices(),
        sedation=data.sedation.choices(),
        tissues=data.tissues.choices(),
        refused_tissues=tuple(RefusedChoice(r.id, r.message, r.sources) for r in data.tissues.refused),
        event_kinds=data.intra_procedure_events.choices(),
        max_duration_minutes=t.max_duration_minutes.threshold(),
        max_levels=t.max_levels.threshold(),
        epidurogram_sources=rule.epidurogram,
        dural_puncture_sources=rule.dural_puncture,
    )
    specs = tuple(ChecklistItemSpec(c.id, c.label, c.required, c.sources) for c in data.checklist)
    try:
        checklist = ChecklistPolicy(
            items=specs,
            imaging_max_age_months=t.imaging_max_age_months.threshold(),
            hold_intervals=tuple(d.interval() for d in drugs.drugs),
            never_stop_rule=texts.never_stop_blood_thinner.text,
            never_stop_sources=texts.never_stop_blood_thinner.sources,
        )
    except ValueError as exc:
        raise ContentError(f"procedure.yaml: checklist: {exc}") from exc
    discharge = DischargePolicy(
        aldrete_min=t.aldrete_min.threshold(),
        padss_min=t.padss_min.threshold(),
        score_max=t.score_max.threshold(),
        fever_celsius=t.fever_celsius.threshold(),
        new_deficit_sources=rule.new_leg_deficit,
        escort_sources=rule.escort,
        instructions_sources=rule.written_instructions,
    )
    events = EventPolicy(
        adverse_event_types=data.adverse_event_types.choices(),
        reintervention_types=data.reintervention_types.choices(),
        readmission_window_days=t.readmission_window_days.threshold(),
        levels=levels,
    )
    return ProcedurePolicies(checklist=checklist, record=record, discharge=discharge, events=events)


def _patient_texts(data: ProcedureFile) -> PatientTexts:
    sections = tuple(
        InstructionSection(
            s.id,
            s.title,
            tuple(c.cited() for c in s.sentences),
            s.urgency,
            s.action.cited() if s.action else None,
            s.title_es,
        )
        for s in data.discharge_instructions
    )
    return PatientTexts(
        never_stop_blood_thinner=data.never_stop_blood_thinner.cited(),
        fasting_instructions=tuple(c.cited() for c in data.fasting_instructions),
        discharge_instructions=sections,
        discharge_sheet={
            lang: words.model_dump()
            for lang, words in (("en", data.discharge_sheet.en), ("es", data.discharge_sheet.es))
        },
    )


def _procedure_code(data: ProcedureFile) -> ProcedureCode:
    c = data.procedure_code
    return ProcedureCode(c.system, c.code, c.display, c.text, c.sources)


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
    data = load_content(procedure_file, ProcedureFile)
    drugs = load_content(anticoagulants_file, AnticoagulantsFile)
    texts = _patient_texts(data)
    return ProcedureContent(_policies(data, drugs, texts), texts, _procedure_code(data))


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
