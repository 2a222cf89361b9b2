"""Questionnaires (patient-reported outcomes): collect, score, schedule, remind, exchange as FHIR (issue 4).

Every function that reads or changes a patient's responses takes the acting person, checks access with
:func:`~mildpath.services.access.get_patient_for` (404 for a patient not visible) and writes its audit row in the
same transaction (the detail names instruments and timepoints, never answers or scores).

Scores are **always recomputed from the answers** by :func:`mildpath.domain.instruments.score` on every write;
no function here accepts a score. A response moves ``in_progress`` -> ``completed``:

- on the portal a patient starts a response (:func:`start_response`), saves it one step at a time
  (:func:`save_section`, resumable: ``current_step`` is where to come back) and completes it
  (:func:`complete_response`);
- a clinician enters a paper form, or a system posts complete answers, in one go (:func:`record_response`);
  FHIR QuestionnaireResponses come in through :func:`import_fhir_response`.

Who may file what (mildpath's choices; the reference is silent on them):

- A patient may only answer a timepoint whose window is open on the day (due or overdue), and must answer enough
  items for a score (the error names the first item still needed). Staff may file any timepoint of the plan
  late (a paper form typed in afterwards) and may store a response with too many items missing: its score is
  then ``None`` with the reason, as the scoring rules say (contracts §4).
- A baseline must be answered on or before the procedure day (its window closes then: ``domain.schedule``).
- One response per patient, instrument, timepoint and procedure date; a second one is a conflict (409).

Schedules, the clinic's follow-up list and reminders live in :mod:`mildpath.services.proms_schedule` and are
re-exported here (``patient_schedule``, ``clinic_follow_up``, ``queue_due_reminders``, ``procedure_date_for``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field
from sqlalchemy.orm import Session

from mildpath.content.instruments import (
    InstrumentForm,
    SiteWording,
    instrument_form,
    load_site_wording,
    titled_form,
)
from mildpath.content.schedule import follow_up_plan
from mildpath.domain.diary import MAX_TEXT
from mildpath.domain.errors import Conflict, InvalidAnswer, InvalidInput, NotFound
from mildpath.domain.inputs import EdgeInput
from mildpath.domain.instruments import INSTRUMENTS, Score, score
from mildpath.domain.instruments.base import read_answers
from mildpath.domain.instruments.odi import WHOLE_PERCENT_RULE as ODI_WHOLE_PERCENT_RULE
from mildpath.domain.instruments.odi import odi_whole_percent
from mildpath.domain.instruments.zcq import PERCENT_RULE as ZCQ_PERCENT_RULE
from mildpath.domain.instruments.zcq import zcq_percent
from mildpath.domain.schedule import SchedulePlan, Status, Timepoint, place, timepoint_for
from mildpath.fhir.questionnaires import (
    questionnaire_response,
    read_questionnaire_response,
    score_observations,
)
from mildpath.services.access import Actor, get_patient_for, record, require_staff, visible_patients
from mildpath.services.comments import CommentTriage, clean_comment, stored_comment_triage, triage_comment
from mildpath.services.proms_schedule import (
    REMINDER_BODY,
    REMINDER_KIND,
    REMINDER_SUBJECT,
    FollowUpRow,
    InstrumentStatus,
    ScheduleView,
    TimepointView,
    clinic_follow_up,
    patient_schedule,
    procedure_date_for,
    procedure_dates,
    queue_due_reminders,
)
from mildpath.store import caregivers as caregivers_store
from mildpath.store import patients as patients_store
from mildpath.store import proms as store
from mildpath.store import users as users_store
from mildpath.store.models import Patient

#: ZCQ and other multi-item parts are shown at most this many items per step on a phone.
MAX_ITEMS_PER_STEP = 4

# ---------------------------------------------------------------------------------------------------------------
# Plain views (templates and API schemas read these, never ORM rows)


@dataclass(frozen=True)
class Step:
    """One screen of a questionnaire on a phone: a few items of one part (``group``: an ODI section, a ZCQ
    subscale, ``nprs`` or ``walking``)."""

    index: int
    group: str
    item_ids: tuple[str, ...]


@dataclass(frozen=True)
class ResponseView:
    id: int
    patient_id: int
    instrument: str
    title: str
    short_title: str
    timepoint: str
    timepoint_label: str
    procedure_date: date | None
    after_treatment: bool
    status: str
    answers: dict[str, Any]
    current_step: int
    steps_total: int
    scores: dict[str, Any] | None
    entry_mode: str
    entered_by: int | None
    entered_by_name: str
    entered_at: datetime
    started_at: datetime
    completed_at: datetime | None
    answered_on: date | None
    #: ``licensed`` or ``neutral``: the words the patient answered (see ``store.proms.WORDINGS``).
    wording: str = "neutral"
    #: the patient's optional comment, as written, and what the symptom reader made of it (issue 15 §1):
    #: ``comment_triage`` is filled where the comment was just read or one response is shown, else ``None``.
    comment: str = ""
    comment_entry_id: int | None = None
    comment_triage: CommentTriage | None = None
    #: "Ana (daughter)" when a caregiver answered for the patient (``entry_mode`` ``proxy``), else empty.
    answered_by_proxy: str = ""

    @property
    def resume_step(self) -> int:
        """The step to show when the patient comes back (the last one once every step was visited)."""
        return max(0, min(self.current_step, self.steps_total - 1))


@dataclass(frozen=True)
class Measure:
    key: str  # "value" for single-score instruments, else the subscale name
    label: str
    low: float
    high: float
    higher_is_better: bool = False


@dataclass(frozen=True)
class TrendPoint:
    response_id: int
    timepoint: str
    timepoint_label: str
    answered_on: date
    values: dict[str, float | None]


@dataclass(frozen=True)
class Trend:
    instrument: str
    title: str
    measures: tuple[Measure, ...]
    points: tuple[TrendPoint, ...]
    source: str


class ResponseIn(EdgeInput):
    """Complete answers to one questionnaire (API and paper entry). Scores are never accepted: they are computed."""

    model_config = ConfigDict(extra="forbid")

    instrument: str = Field(max_length=16, description="odi, zcq, nprs or walking")
    timepoint: str | None = Field(
        default=None,
        max_length=16,
        description="Timepoint id (baseline, 6w, 3m, 6m, 12m, 24m); default: the one whose window holds the "
        "answer date",
    )
    answers: dict[str, int | float | str | None] = Field(
        max_length=40, description="Item id -> answer; null or absent means unanswered"
    )
    answered_on: date | None = Field(default=None, description="The day the patient answered (default: today)")
    comment: str | None = Field(
        default=None,
        max_length=MAX_TEXT,
        description="Anything the patient wants to add, in their own words; read by the symptom reader like a diary "
        "note: a warning sign raises a worklist flag and the answer's comment_triage",
    )


#: What each instrument's trend chart plots. Lower is better except walking time.  # source: odi, zcq, nprs, walking
MEASURES: dict[str, tuple[Measure, ...]] = {
    "odi": (Measure("value", "ODI (%)", 0, 100),),
    "zcq": (
        Measure("severity", "Symptom severity (1-5)", 1, 5),
        Measure("function", "Physical function (1-4)", 1, 4),
        Measure("satisfaction", "Satisfaction (1-4)", 1, 4),
    ),
    "nprs": (Measure("back", "Back pain (0-10)", 0, 10), Measure("leg", "Leg pain (0-10)", 0, 10)),
    "walking": (Measure("value", "Minutes walked (up to 30)", 0, 30, higher_is_better=True),),
}


# ---------------------------------------------------------------------------------------------------------------
# Forms, wording and steps


@lru_cache(maxsize=16)
def _site_wordings_cached(content_dir: str, stamps: tuple[tuple[str, float], ...]) -> dict[str, SiteWording]:
    return {Path(path).stem: load_site_wording(path) for path, _ in stamps}


def site_wording_files(content_dir: str) -> dict[str, Path]:
    """The site's licensed wording files: ``<content_dir>/instruments/<instrument id>.yaml`` (or ``.yml``,
    ``.json``) for each instrument that has one."""
    if not content_dir:
        return {}
    folder = Path(content_dir) / "instruments"
    found: dict[str, Path] = {}
    for instrument_id in INSTRUMENTS:
        for suffix in (".yaml", ".yml", ".json"):
            candidate = folder / f"{instrument_id}{suffix}"
            if candidate.is_file():
                found[instrument_id] = candidate
                break
    return found


def site_wordings(content_dir: str) -> dict[str, SiteWording]:
    """The site's wording by instrument id (empty without ``content_dir``); re-read when a file changes.

    A broken file raises :class:`InvalidInput` naming the file and the place, rather than showing patients a
    mix of official and paraphrased wording.
    """
    files = site_wording_files(content_dir)
    stamps = tuple(sorted((str(p), p.stat().st_mtime) for p in files.values()))
    return _site_wordings_cached(content_dir, stamps) if stamps else {}


def form_for(instrument_id: str, content_dir: str = "", language: str = "en") -> InstrumentForm:
    """The instrument's form: the site's licensed wording when it supplies one, else mildpath's neutral labels
    in ``language`` (``en`` or ``es``; our own plain words, not a validated translation)."""
    _check_instrument(instrument_id)
    return instrument_form(instrument_id, site_wordings(content_dir).get(instrument_id), language=language)


def response_title(view: ResponseView, language: str = "en") -> str:
    """The title of a stored response in ``language``: the instrument's name only over licensed wording."""
    return titled_form(view.instrument, view.wording, language).title


def steps_for(instrument_id: str, after_treatment: bool) -> tuple[Step, ...]:
    """The screens of one questionnaire: one ODI section each; ZCQ parts in chunks of at most
    :data:`MAX_ITEMS_PER_STEP` items (satisfaction only after treatment); NPRS and walking on one screen each."""
    instrument = INSTRUMENTS[instrument_id]
    groups: list[tuple[str, tuple[str, ...]]] = []
    if instrument_id == "odi":
        groups = [(item.id, (item.id,)) for item in instrument.items]
    elif instrument_id == "zcq":
        for sub in instrument.subscales:
            if sub.id == "satisfaction" and not after_treatment:
                continue
            ids = sub.item_ids
            chunks = -(-len(ids) // MAX_ITEMS_PER_STEP)
            size = -(-len(ids) // chunks)
            groups.extend((sub.id, ids[i : i + size]) for i in range(0, len(ids), size))
    else:
        groups = [(instrument_id, tuple(item.id for item in instrument.items))]
    return tuple(Step(i, group, ids) for i, (group, ids) in enumerate(groups))


def _check_instrument(instrument_id: str) -> None:
    if instrument_id not in INSTRUMENTS:
        raise InvalidInput(f"instrument: {instrument_id!r} is not one of {', '.join(INSTRUMENTS)}", field="instrument")


# ---------------------------------------------------------------------------------------------------------------
# Scores as stored JSON


def _fraction_text(value: Fraction | None) -> str | None:
    return None if value is None else f"{value.numerator}/{value.denominator}"


def _one(s: Score) -> dict[str, Any]:
    return {
        "value": s.as_float(),
        "exact": _fraction_text(s.exact),
        "answered": s.answered,
        "missing": list(s.missing),
        "reason": s.reason,
    }


def _conversions(result: Score, out: dict[str, Any]) -> dict[str, Any]:
    """The whole-percent forms the reference's scoring rules give, each with its rule named (issue 15 §5)."""
    if result.instrument == "odi":
        exact = result.exact
        out["whole_percent"] = None if exact is None else odi_whole_percent(exact)
        out["rounding_rule"] = ODI_WHOLE_PERCENT_RULE
    elif result.instrument == "zcq":
        for name, sub in out["subscales"].items():
            exact = result.subscale(name).exact
            sub["percent"] = None if exact is None else zcq_percent(name, exact)
        out["percent_rule"] = ZCQ_PERCENT_RULE
    return out


def score_json(result: Score) -> dict[str, Any]:
    """A domain :class:`Score` as the JSON stored with a response (and read by the registry).

    ``{"instrument", "value", "exact", "band", "answered", "missing", "reason", "source", "subscales":
    {name: {"value", "exact", "answered", "missing", "reason"}}}``; ``value`` has two decimals, ``exact`` is the
    unrounded fraction (``"320/9"``) that change and responder maths should use. The ODI adds ``whole_percent``
    (the AO rule's nearest whole percent, half up) and ``rounding_rule``; each ZCQ subscale adds ``percent``
    (round(mean / maximum x 100)) and the whole ``percent_rule``.
    """
    out = {
        "instrument": result.instrument,
        **_one(result),
        "band": result.band,
        "source": result.source,
        "subscales": {sub.instrument.rsplit(".", 1)[-1]: _one(sub) for sub in result.subscales},
    }
    return _conversions(result, out)


def _normalise(instrument_id: str, answers: Mapping[str, Any], after_treatment: bool) -> tuple[dict[str, Any], Score]:
    """Validate answers (:class:`InvalidAnswer` names the item) and return them as stored (whole numbers; walking
    minutes as a number) with their score."""
    result = score(instrument_id, answers, after_treatment=after_treatment)
    instrument = INSTRUMENTS[instrument_id]
    out: dict[str, Any] = {}
    if instrument_id == "walking":
        for item in instrument.items:
            raw = answers.get(item.id)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            try:
                number = Decimal(str(raw).strip())
            except InvalidOperation:  # score() above already refused it; kept for type narrowing
                raise InvalidAnswer(item.id, raw, f"{item.id}: {raw!r} is not a number") from None
            out[item.id] = int(number) if number == number.to_integral_value() else float(number)
        return out, result
    values = read_answers(instrument, dict(answers))
    for item, value in zip(instrument.items, values, strict=True):
        if value is not None:
            out[item.id] = value
    return out, result


def _still_needed(instrument_id: str, result: Score, after_treatment: bool) -> InvalidAnswer | None:
    """``None`` when the response has every score it should have; else an error naming the first item that a
    score still needs (the patient is asked to answer it)."""
    instrument = INSTRUMENTS[instrument_id]
    by_number = {item.number: item for item in instrument.items}
    parts: list[Score]
    if instrument_id in ("odi", "walking"):
        parts = [result]
    elif instrument_id == "zcq":
        wanted = ("severity", "function", "satisfaction") if after_treatment else ("severity", "function")
        parts = [result.subscale(name) for name in wanted]
    else:
        parts = list(result.subscales)
    for part in parts:
        if part.value is None and part.missing:
            item = by_number[part.missing[0]]
            why = part.reason or "needed for a score"
            return InvalidAnswer(item.id, None, f"{item.id}: please answer this question ({why})")
    return None


# ---------------------------------------------------------------------------------------------------------------
# Procedure dates and the plan


def _plan() -> SchedulePlan:
    return follow_up_plan()


def _timepoint(plan: SchedulePlan, timepoint_id: str) -> Timepoint:
    try:
        return plan.timepoint(timepoint_id)
    except KeyError:
        known = ", ".join(tp.id for tp in plan.timepoints)
        raise InvalidInput(f"timepoint: {timepoint_id!r} is not one of {known}", field="timepoint") from None


def _label(plan: SchedulePlan, timepoint_id: str) -> str:
    try:
        return plan.timepoint(timepoint_id).label
    except KeyError:
        return timepoint_id


# ---------------------------------------------------------------------------------------------------------------
# Views of stored rows


def _names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    return users_store.display_names(session, user_ids=ids)


def _view(
    row: store.PromResponse, plan: SchedulePlan, names: Mapping[int, str], proxies: Mapping[tuple[int, int], str]
) -> ResponseView:
    form = titled_form(row.instrument, row.wording or "neutral")
    return ResponseView(
        id=row.id,
        patient_id=row.patient_id,
        instrument=row.instrument,
        title=form.title,
        short_title=form.short_title,
        timepoint=row.timepoint,
        timepoint_label=_label(plan, row.timepoint),
        procedure_date=row.procedure_date,
        after_treatment=row.after_treatment,
        status=row.status,
        answers=dict(row.answers or {}),
        current_step=row.current_step,
        steps_total=len(steps_for(row.instrument, row.after_treatment)),
        scores=dict(row.scores) if row.scores is not None else None,
        entry_mode=row.entry_mode,
        entered_by=row.entered_by,
        entered_by_name=names.get(row.entered_by, "") if row.entered_by is not None else "",
        entered_at=row.entered_at,
        started_at=row.started_at,
        completed_at=row.completed_at,
        answered_on=row.answered_on,
        wording=row.wording or "neutral",
        comment=row.comment or "",
        comment_entry_id=row.comment_entry_id,
        answered_by_proxy=proxies.get(_proxy_key(row), "") if row.entry_mode == "proxy" else "",
    )


def _caregivers(session: Session, rows: Sequence[store.PromResponse]) -> dict[tuple[int, int], Any]:
    """``{(patient id, user id): grant}`` of the caregivers who answered some of ``rows`` (the latest grant)."""
    proxied = {r.patient_id for r in rows if r.entry_mode == "proxy"}
    return {(g.patient_id, g.user_id): g for g in caregivers_store.of_patients(session, patient_ids=proxied)}


def _views(session: Session, rows: Sequence[store.PromResponse]) -> list[ResponseView]:
    plan = _plan()
    names = _names(session, (r.entered_by for r in rows))
    proxies = {key: f"{g.name} ({g.relation})" for key, g in _caregivers(session, rows).items()}
    return [_view(r, plan, names, proxies) for r in rows]


def _row_for(session: Session, actor: Actor, patient_id: int, response_id: int) -> store.PromResponse:
    get_patient_for(session, actor, patient_id)
    row = store.get_response(session, response_id=response_id)
    if row is None or row.patient_id != patient_id:
        raise NotFound(f"no response {response_id} for patient {patient_id}", record_type="PromResponse")
    return row


def _mode(actor: Actor, patient_id: int) -> str:
    if actor.role == "caregiver":
        return "proxy"  # a caregiver the patient let answer (get_patient_for checked the grant)
    return "patient" if actor.role == "patient" and actor.patient_id == patient_id else "paper"


#: who answers like the patient: the patient's own windows and completeness rules apply (a caregiver for them too)
ANSWERING_ROLES = ("patient", "caregiver")


def _detail(row: store.PromResponse, **extra: Any) -> dict[str, Any]:
    return {"instrument": row.instrument, "timepoint": row.timepoint, **extra}


# ---------------------------------------------------------------------------------------------------------------
# Collecting on the portal: start, save a step, complete


def start_response(
    session: Session,
    actor: Actor,
    patient_id: int,
    instrument: str,
    timepoint: str,
    *,
    today: date,
    now: datetime,
    procedure_date: date | None = None,
    content_dir: str = "",
) -> ResponseView:
    """Start (or resume) the patient's response to ``instrument`` at ``timepoint``.

    Returns the in-progress response when there is one (resuming); :class:`Conflict` when the slot is already
    completed or, for a patient, when the timepoint's window is not open today. ``procedure_date`` defaults to
    the one on record (:func:`procedure_date_for`); the demo passes it before the procedure records exist.
    """
    get_patient_for(session, actor, patient_id)
    _check_instrument(instrument)
    plan = _plan()
    tp = _timepoint(plan, timepoint)
    if instrument not in tp.instruments:
        raise InvalidInput(f"instrument: {instrument} is not collected at {tp.label}", field="instrument")
    procedure_date = procedure_date or procedure_date_for(session, patient_id)
    if procedure_date is None:
        raise Conflict("there is no procedure date on record yet: the questionnaire schedule starts from it")
    existing = store.find_slot(
        session, patient_id=patient_id, instrument=instrument, timepoint=tp.id, procedure_date=procedure_date
    )
    if existing is not None and existing.status == "completed":
        raise Conflict(f"this questionnaire ({instrument}, {tp.label}) is already answered")
    if existing is None:
        placed = place(tp, procedure_date, today, completed=False)
        if actor.role in ANSWERING_ROLES and not placed.open:
            when = f"opens on {placed.opens:%d %B %Y}" if placed.status == Status.UPCOMING else "has closed"
            raise Conflict(f"the {tp.label} questionnaire {when}")
        existing = store.add_response(
            session,
            patient_id=patient_id,
            instrument=instrument,
            timepoint=tp.id,
            procedure_date=procedure_date,
            after_treatment=tp.after_procedure,
            entry_mode=_mode(actor, patient_id),
            entered_by=actor.user_id,
            now=now,
            wording=form_for(instrument, content_dir).stored_wording,
        )
        record(session, actor, "proms.start", "PromResponse", existing.id, patient_id, _detail(existing))
    return _views(session, [existing])[0]


def save_section(
    session: Session,
    actor: Actor,
    patient_id: int,
    response_id: int,
    step: int,
    answers: Mapping[str, Any],
    *,
    now: datetime,
    go_to: int | None = None,
) -> ResponseView:
    """Save the answers of one step (progress is kept after every step) and remember where to resume.

    ``answers`` holds the step's items only (an item left blank or absent is unanswered); an item of another
    step is refused. ``go_to`` is the step the patient moves to (default: the next one); it is stored as the
    place to resume. The whole response is validated and re-scored: :class:`InvalidAnswer` names the item and
    nothing is saved.
    """
    row = _row_for(session, actor, patient_id, response_id)
    if row.status != "in_progress":
        raise Conflict("this questionnaire is already completed")
    steps = steps_for(row.instrument, row.after_treatment)
    if not 0 <= step < len(steps):
        raise InvalidInput(f"step: must be between 1 and {len(steps)}", field="step", value=step)
    wanted = steps[step].item_ids
    for key in answers:
        if key not in wanted:
            raise InvalidAnswer(str(key), answers[key], f"{key}: not a question of this step")
    merged = {k: v for k, v in (row.answers or {}).items() if k not in wanted}
    merged.update({k: v for k, v in answers.items() if v is not None and not (isinstance(v, str) and not v.strip())})
    stored, result = _normalise(row.instrument, merged, row.after_treatment)
    target = step + 1 if go_to is None else go_to
    mode = _mode(actor, patient_id)
    if mode == "paper" or (mode == "proxy" and row.entry_mode == "patient"):
        row.entry_mode = mode  # a clinician typed (part of) it, or a caregiver answered: the record says so
    store.write_answers(
        session,
        row,
        answers=stored,
        scores=score_json(result),
        entered_by=actor.user_id,
        now=now,
        current_step=max(0, min(target, len(steps))),
    )
    session.flush()
    record(session, actor, "proms.save", "PromResponse", row.id, patient_id, _detail(row, step=step + 1))
    return _views(session, [row])[0]


def complete_response(
    session: Session,
    actor: Actor,
    patient_id: int,
    response_id: int,
    *,
    today: date,
    now: datetime,
    comment: str | None = None,
) -> ResponseView:
    """Complete an in-progress response: re-score it from its answers and mark it answered today.

    A patient must have answered enough for every score the timepoint asks (:class:`InvalidAnswer` names the
    first item still needed); staff may complete with a score left empty (its reason is kept). ``comment`` is
    read by the symptom reader (:func:`_read_comment`).
    """
    row = _row_for(session, actor, patient_id, response_id)
    if row.status != "in_progress":
        raise Conflict("this questionnaire is already completed")
    text = clean_comment(comment)
    stored, result = _normalise(row.instrument, row.answers or {}, row.after_treatment)
    if actor.role in ANSWERING_ROLES:
        needed = _still_needed(row.instrument, result, row.after_treatment)
        if needed is not None:
            raise needed
    store.write_answers(session, row, answers=stored, scores=score_json(result), entered_by=actor.user_id, now=now)
    store.complete(session, row, answered_on=today, now=now)
    session.flush()
    record(session, actor, "proms.complete", "PromResponse", row.id, patient_id, _detail(row, mode=row.entry_mode))
    return _read_comment(session, actor, row, text, now=now)


def _read_comment(session: Session, actor: Actor, row: store.PromResponse, text: str, *, now: datetime) -> ResponseView:
    """Keep the response's comment and read it like a diary note: a sign raises a diary entry of origin
    ``questionnaire`` with its worklist flag (:func:`mildpath.services.comments.triage_comment`)."""
    if not text:
        return _views(session, [row])[0]
    triage = triage_comment(session, actor, row.patient_id, text, origin="questionnaire", now=now)
    store.set_comment(session, row, comment=text, entry_id=triage.entry_id if triage else None)
    return replace(_views(session, [row])[0], comment_triage=triage)


# ---------------------------------------------------------------------------------------------------------------
# Complete answers in one go: paper entry, the API, FHIR import


def record_response(
    session: Session,
    actor: Actor,
    patient_id: int,
    data: ResponseIn,
    *,
    today: date,
    now: datetime,
    entry_mode: str | None = None,
    procedure_date: date | None = None,
    content_dir: str = "",
) -> ResponseView:
    """Record a complete response (a clinician's paper form, an API client, an import), scored from its answers.

    The timepoint defaults to the one whose window holds ``answered_on``. Raises :class:`InvalidAnswer` naming
    the item for an invalid answer, :class:`InvalidInput` for an unknown instrument or timepoint or an impossible
    date, :class:`Conflict` when the slot is already answered; nothing is written on failure. An in-progress
    response in the same slot is completed with these answers. ``procedure_date`` defaults to the one on record
    (:func:`procedure_date_for`); the demo passes it before the procedure records exist.
    """
    get_patient_for(session, actor, patient_id)
    _check_instrument(data.instrument)
    text = clean_comment(data.comment)
    answered_on = data.answered_on or today
    if answered_on > today:
        raise InvalidInput("answered_on: cannot be in the future", field="answered_on", value=str(answered_on))
    plan = _plan()
    procedure_date = procedure_date or procedure_date_for(session, patient_id)
    tp = _choose_timepoint(plan, data.timepoint, procedure_date, answered_on)
    if data.instrument not in tp.instruments:
        raise InvalidInput(f"instrument: {data.instrument} is not collected at {tp.label}", field="instrument")
    _check_date(actor, tp, procedure_date, answered_on)
    stored, result = _normalise(data.instrument, data.answers, tp.after_procedure)
    mode = entry_mode or _mode(actor, patient_id)
    if mode == "patient":
        needed = _still_needed(data.instrument, result, tp.after_procedure)
        if needed is not None:
            raise needed
    row = store.find_slot(
        session, patient_id=patient_id, instrument=data.instrument, timepoint=tp.id, procedure_date=procedure_date
    )
    if row is not None and row.status == "completed":
        raise Conflict(f"{data.instrument} at {tp.label} is already recorded (response {row.id})")
    steps = len(steps_for(data.instrument, tp.after_procedure))
    wording = form_for(data.instrument, content_dir).stored_wording
    if row is None:
        row = store.add_response(
            session,
            patient_id=patient_id,
            instrument=data.instrument,
            timepoint=tp.id,
            procedure_date=procedure_date,
            after_treatment=tp.after_procedure,
            entry_mode=mode,
            entered_by=actor.user_id,
            now=now,
            answers=stored,
            scores=score_json(result),
            current_step=steps,
            answered_on=answered_on,
            wording=wording,
        )
    else:
        row.entry_mode = mode
        row.wording = wording
        store.write_answers(
            session,
            row,
            answers=stored,
            scores=score_json(result),
            entered_by=actor.user_id,
            now=now,
            current_step=steps,
        )
        store.complete(session, row, answered_on=answered_on, now=now)
        session.flush()
    action = "proms.import" if mode == "import" else "proms.record"
    record(session, actor, action, "PromResponse", row.id, patient_id, _detail(row, mode=mode))
    return _read_comment(session, actor, row, text, now=now)


def _choose_timepoint(
    plan: SchedulePlan, timepoint: str | None, procedure_date: date | None, answered_on: date
) -> Timepoint:
    if timepoint:
        return _timepoint(plan, timepoint)
    if procedure_date is None:
        raise InvalidInput(
            "timepoint: name the timepoint (there is no procedure date to place the answers by)", field="timepoint"
        )
    found = timepoint_for(plan, procedure_date, answered_on)
    if found is None:
        raise InvalidInput(
            f"timepoint: no timepoint's window holds {answered_on.isoformat()}; name the timepoint",
            field="timepoint",
        )
    return found


def _check_date(actor: Actor, tp: Timepoint, procedure_date: date | None, answered_on: date) -> None:
    if procedure_date is not None and not tp.after_procedure and answered_on > procedure_date:
        # source: follow-up-schedule (a baseline comes before the procedure; domain.schedule closes it that day)
        raise InvalidInput(
            "answered_on: a baseline must be answered on or before the procedure day", field="answered_on"
        )
    if actor.role != "patient":
        return
    if procedure_date is None:
        raise Conflict("there is no procedure date on record yet: the questionnaire schedule starts from it")
    placed = place(tp, procedure_date, answered_on, completed=False)
    if not placed.opens <= answered_on <= placed.closes:
        raise Conflict(f"the {tp.label} questionnaire is open from {placed.opens} to {placed.closes}")


def import_fhir_response(
    session: Session,
    actor: Actor,
    patient_id: int,
    resource: Mapping[str, Any],
    *,
    today: date,
    now: datetime,
    timepoint: str | None = None,
    content_dir: str = "",
) -> ResponseView:
    """Import a FHIR R4 QuestionnaireResponse for this patient (answers re-scored, never read as scores).

    The resource must be ``completed`` (or ``amended``) and its ``subject``, if any, must be this patient.
    The answer date is ``authored`` (default today); the timepoint is ``timepoint`` or the one whose window holds
    that date. Errors name the linkId (:class:`InvalidAnswer`) or the element (:class:`InvalidInput`).
    """
    get_patient_for(session, actor, patient_id)
    imported = read_questionnaire_response(resource)
    if imported.subject and not _is_patient_ref(imported.subject, patient_id):
        raise InvalidInput(f"subject: {imported.subject} is not Patient/{patient_id}", field="subject")
    if imported.status not in ("completed", "amended"):
        raise InvalidInput(
            f"status: only completed responses are imported (got {imported.status or 'none'})", field="status"
        )
    answered_on = _authored_date(imported.authored, today)
    answers = {k: (float(v) if isinstance(v, Decimal) else v) for k, v in imported.answers.items()}
    data = ResponseIn(instrument=imported.instrument, timepoint=timepoint, answers=answers, answered_on=answered_on)
    return record_response(
        session, actor, patient_id, data, today=today, now=now, entry_mode="import", content_dir=content_dir
    )


def _is_patient_ref(reference: str, patient_id: int) -> bool:
    return reference == f"Patient/{patient_id}" or reference.endswith(f"/Patient/{patient_id}")


def _authored_date(authored: Any, today: date) -> date:
    if not authored:
        return today
    text = str(authored)
    try:
        if "T" in text:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return moment.astimezone(UTC).date() if moment.tzinfo else moment.date()
        return date.fromisoformat(text[:10])
    except ValueError:
        raise InvalidInput(f"authored: {text!r} is not a FHIR date or dateTime", field="authored") from None


# ---------------------------------------------------------------------------------------------------------------
# Reading


def get_response(session: Session, actor: Actor, patient_id: int, response_id: int) -> ResponseView:
    row = _row_for(session, actor, patient_id, response_id)
    record(session, actor, "proms.read", "PromResponse", row.id, patient_id)
    triage = stored_comment_triage(session, actor, patient_id, row.comment_entry_id)  # None without a comment
    return replace(_views(session, [row])[0], comment_triage=triage)


def list_responses(
    session: Session,
    actor: Actor,
    patient_id: int,
    *,
    status: str | None = None,
    instrument: str | None = None,
    limit: int = 500,
) -> list[ResponseView]:
    """The patient's responses, oldest first (in-progress ones last)."""
    get_patient_for(session, actor, patient_id)
    if status is not None and status not in store.STATUSES:
        raise InvalidInput(f"status: must be one of {', '.join(store.STATUSES)}", field="status")
    if instrument is not None:
        _check_instrument(instrument)
    rows = store.list_for_patient(session, patient_id=patient_id, status=status, instrument=instrument, limit=limit)
    record(session, actor, "proms.list", "PromResponse", None, patient_id, {"results": len(rows)})
    return _views(session, rows)


def patient_trend(session: Session, actor: Actor, patient_id: int, instrument: str) -> Trend:
    """The patient's completed scores of one instrument over time (what the result page charts)."""
    get_patient_for(session, actor, patient_id)
    _check_instrument(instrument)
    rows = store.list_for_patient(session, patient_id=patient_id, status="completed", instrument=instrument)
    record(session, actor, "proms.trend", "PromResponse", None, patient_id, {"instrument": instrument})
    return _trend(instrument, rows)


def _trend(instrument: str, rows: Sequence[store.PromResponse]) -> Trend:
    plan = _plan()
    measures = MEASURES[instrument]
    points = []
    for row in rows:
        # Recomputed from the stored answers: the chart shows what the rules give, whatever was stored.
        result = score(row.instrument, row.answers or {}, after_treatment=row.after_treatment)
        values: dict[str, float | None] = {}
        for m in measures:
            part = result if m.key == "value" else result.subscale(m.key)
            values[m.key] = part.as_float()
        points.append(
            TrendPoint(
                row.id,
                row.timepoint,
                _label(plan, row.timepoint),
                row.answered_on or row.entered_at.date(),
                values,
            )
        )
    form = instrument_form(instrument)
    return Trend(instrument, form.title, measures, tuple(points), INSTRUMENTS[instrument].source)


def patient_trends(session: Session, actor: Actor, patient_id: int) -> list[Trend]:
    """Every instrument's trend that has at least one completed response, in display order."""
    get_patient_for(session, actor, patient_id)
    rows = store.list_for_patient(session, patient_id=patient_id, status="completed")
    record(session, actor, "proms.trend", "PromResponse", None, patient_id, {"instrument": "all"})
    out = []
    for instrument in INSTRUMENTS:
        mine = [r for r in rows if r.instrument == instrument]
        if mine:
            out.append(_trend(instrument, mine))
    return out


# ---------------------------------------------------------------------------------------------------------------
# FHIR export


def _authored(row: store.PromResponse) -> date | datetime:
    if row.status != "completed":
        return row.entered_at
    if row.entry_mode == "patient" and row.completed_at is not None:
        return row.completed_at
    return row.answered_on or row.entered_at


def _changed(row: store.PromResponse) -> datetime:
    """The response's last change (its entry, or its completion when later): its ``meta.lastUpdated``."""
    return max(row.entered_at, row.completed_at or row.entered_at)


def _qr(row: store.PromResponse, form: InstrumentForm | None = None, caregiver: Any = None) -> dict[str, Any]:
    """``caregiver``: the grant of the caregiver who answered (``proxy``): ``source`` and ``author`` are then the
    ``RelatedPerson`` (services/caregivers.py exports it), the person who answered and recorded the answers."""
    patient = f"Patient/{row.patient_id}"
    author = patient if row.entry_mode == "patient" or row.entered_by is None else f"Practitioner/{row.entered_by}"
    source = patient
    if row.entry_mode == "proxy":
        source = author = f"RelatedPerson/{caregiver.id}" if caregiver is not None else patient
    return questionnaire_response(
        row.instrument,
        row.answers or {},
        subject=patient,
        authored=_authored(row),
        author=author,
        source=source,
        status="completed" if row.status == "completed" else "in-progress",
        resource_id=f"prom-{row.id}",
        form=form,
        last_updated=_changed(row),
    )


def _observations(row: store.PromResponse) -> list[dict[str, Any]]:
    if row.status != "completed":
        return []
    result = score(row.instrument, row.answers or {}, after_treatment=row.after_treatment)
    return score_observations(
        result,
        subject=f"Patient/{row.patient_id}",
        effective=row.answered_on or row.entered_at.date(),
        derived_from=f"QuestionnaireResponse/prom-{row.id}",
        id_prefix=f"prom-{row.id}",
        last_updated=_changed(row),
    )


def export_fhir_response(
    session: Session, actor: Actor, patient_id: int, response_id: int, *, content_dir: str = ""
) -> dict[str, Any]:
    """One response as a FHIR R4 QuestionnaireResponse (id ``prom-<id>``; ``in-progress`` until completed)."""
    row = _row_for(session, actor, patient_id, response_id)
    record(session, actor, "proms.export", "PromResponse", row.id, patient_id, {"format": "QuestionnaireResponse"})
    return _qr(row, form_for(row.instrument, content_dir), _caregivers(session, [row]).get(_proxy_key(row)))


def _proxy_key(row: store.PromResponse) -> tuple[int, int]:
    return row.patient_id, row.entered_by or 0


def export_observations(session: Session, actor: Actor, patient_id: int, response_id: int) -> list[dict[str, Any]]:
    """The scores of one completed response as FHIR R4 Observations, recomputed from its answers (none while
    in progress, none for a score that is missing)."""
    row = _row_for(session, actor, patient_id, response_id)
    record(session, actor, "proms.export", "PromResponse", row.id, patient_id, {"format": "Observation"})
    return _observations(row)


def bulk_fhir(
    session: Session, actor: Actor, *, patient_ids: Sequence[int] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Staff: every completed response of the actor's patients (or of ``patient_ids`` among them) as
    ``{"QuestionnaireResponse": [...], "Observation": [...]}`` (for a Bulk Data style export)."""
    require_staff(actor)
    ids = patients_store.ids_of(visible_patients(actor), among=patient_ids)
    rows = store.completed_of(session, patient_ids=ids)
    record(session, actor, "proms.export", "PromResponse", None, None, {"format": "bulk", "results": len(rows)})
    grants = _caregivers(session, rows)
    return {
        "QuestionnaireResponse": [_qr(r, caregiver=grants.get(_proxy_key(r))) for r in rows],
        "Observation": [obs for r in rows for obs in _observations(r)],
    }


# ---------------------------------------------------------------------------------------------------------------
# The outcomes registry (issue 8)


@dataclass(frozen=True)
class RegistryQuery:
    """Filters for :func:`registry_responses` (all optional)."""

    instruments: tuple[str, ...] | None = None
    timepoints: tuple[str, ...] | None = None
    since: date | None = None
    until: date | None = None
    patient_ids: tuple[int, ...] | None = field(default=None)


def registry_responses(
    session: Session, actor: Actor, query: RegistryQuery | None = None
) -> list[store.RegistryResponse]:
    """Staff: every completed, scored response of the actor's patients (a clinician's clinic, an admin's all),
    with patient, clinic, instrument, timepoint, procedure date, answer date, answers and scores (see
    :class:`mildpath.store.proms.RegistryResponse` and :func:`score_json`). ``since``/``until`` filter on the
    procedure date. Audited once, with the number of rows."""
    require_staff(actor)
    q = query or RegistryQuery()
    ids = visible_patients(actor).with_only_columns(Patient.id)
    if q.patient_ids is not None:
        ids = ids.where(Patient.id.in_(list(q.patient_ids)))
    rows = store.registry_responses(
        session,
        patient_ids=ids,
        instruments=q.instruments,
        timepoints=q.timepoints,
        since=q.since,
        until=q.until,
    )
    record(session, actor, "proms.registry", "PromResponse", None, None, {"results": len(rows)})
    return rows


__all__ = [
    "ANSWERING_ROLES",
    "MEASURES",
    "REMINDER_BODY",
    "REMINDER_KIND",
    "REMINDER_SUBJECT",
    "FollowUpRow",
    "InstrumentStatus",
    "Measure",
    "RegistryQuery",
    "ResponseIn",
    "ResponseView",
    "ScheduleView",
    "Step",
    "TimepointView",
    "Trend",
    "TrendPoint",
    "bulk_fhir",
    "clinic_follow_up",
    "complete_response",
    "export_fhir_response",
    "export_observations",
    "form_for",
    "get_response",
    "import_fhir_response",
    "list_responses",
    "patient_schedule",
    "patient_trend",
    "patient_trends",
    "procedure_date_for",
    "procedure_dates",
    "queue_due_reminders",
    "record_response",
    "registry_responses",
    "save_section",
    "score_json",
    "site_wordings",
    "start_response",
    "steps_for",
]
