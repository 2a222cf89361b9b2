"""Comments a patient writes on a questionnaire or the self-check, read by the symptom reader (issue 15 §1).

"Every free-text field a patient fills ... goes through the symptom reader": a comment is read exactly as a
diary note is (:func:`mildpath.domain.triage.classify` with the symptom vocabulary of ``content/symptoms.yaml``).

- Nothing found (level ``expected``): the comment is kept where it was written (the questionnaire response, the
  self-check's answers) and nothing else happens; a comment is not a diary entry.
- A sign found (``emergency``, ``same_day`` or ``review``): the comment becomes a diary entry of the patient
  whose ``origin`` names the form (:func:`mildpath.services.recovery.record_diary_entry`, so the same access
  check, audit rows, worklist flag, notifications and escalation apply), and the form keeps that entry's id.
  The patient sees the entry's level and advice at once; the clinician sees the matched words on the worklist.
- Without a patient (the anonymous self-check) the comment is only read: the patient sees the result, nothing
  is stored and no one is told (:func:`read_anonymous_comment`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from mildpath.content.symptoms import load_symptom_vocabulary
from mildpath.content.triage import load_triage_rules
from mildpath.domain.diary import MAX_TEXT, DiaryEntry
from mildpath.domain.errors import InvalidInput, NotFound
from mildpath.domain.inputs import check_text
from mildpath.domain.triage import TriageLevel, classify, clinician_reason
from mildpath.services import recovery
from mildpath.services.access import Actor

ORIGINS: Final = ("questionnaire", "self_check")


class MatchedView(BaseModel):
    """A sign the symptom reader found in the patient's words (contracts §8): ``text`` exactly as written."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    text: str
    rule: str
    level: str
    source: str


class CommentTriageView(BaseModel):
    """What the symptom reader made of a comment on a questionnaire or the self-check (issue 15 §1)."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    level: str = Field(description="emergency, same_day, review or expected")
    advice: str = Field(description="What the patient is told to do, in their language")
    matched: list[MatchedView]
    entry_id: int | None = Field(description="The diary entry that carries the triage (null when nothing was found)")
    flag_id: int | None = Field(description="The worklist flag it raised (null when nothing was found)")


@dataclass(frozen=True)
class CommentTriage:
    """What the symptom reader made of a comment: the level, the advice the patient sees, the matched words
    (``recovery.Matched``: the patient's exact words, the rule, its level and source, clinician wording), and
    the diary entry and flag it raised (``None`` when nothing was found or nothing could be stored)."""

    level: str
    advice: str
    matched: tuple[recovery.Matched, ...]
    entry_id: int | None = None
    flag_id: int | None = None
    after_procedure: bool = False

    @property
    def raised(self) -> bool:
        return self.level != TriageLevel.EXPECTED.value

    def meanings(self, language: str) -> tuple[str, ...]:
        """What each matched sign may mean, in plain words (content/symptoms.yaml, cited there), no repeats."""
        vocabulary = load_symptom_vocabulary()
        out: list[str] = []
        for m in self.matched:
            try:
                meaning = vocabulary.rule(m.rule).meaning.get(language)
            except KeyError:  # unclassified_sign is the reader's own rule
                meaning = vocabulary.unclassified_meaning.get(language)
            if meaning not in out:
                out.append(meaning)
        return tuple(out)

    def to_json(self) -> dict[str, object]:
        """``{"level", "advice", "matched": [{"text", "rule", "level", "source"}], "entry_id", "flag_id"}``."""
        return {
            "level": self.level,
            "advice": self.advice,
            "matched": [m.to_json() for m in self.matched],
            "entry_id": self.entry_id,
            "flag_id": self.flag_id,
        }


def clean_comment(text: object) -> str:
    """The comment as stored: surrounding space trimmed; :class:`InvalidInput` (field ``comment``) when too long
    or holding text no note may hold."""
    value = str(text or "").strip()
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"comment: at most {MAX_TEXT} characters", field="comment")
    check_text(value, "comment")  # no NUL, no unpaired surrogate, no bidi override: as a diary note
    return value


def read_anonymous_comment(text: str, *, language: str) -> CommentTriage | None:
    """Read a comment written without an account (the public self-check); ``None`` for an empty one."""
    comment = clean_comment(text)
    if not comment:
        return None
    vocabulary = load_symptom_vocabulary()
    result = classify(DiaryEntry.from_mapping({"notes": comment}), load_triage_rules(), vocabulary, language=language)
    matched = tuple(
        recovery.Matched(
            text=m.text,
            rule=m.rule,
            level=m.level,
            source=m.source,
            field="notes",
            start=m.start,
            end=m.end,
            clinician=clinician_reason(m),
        )
        for m in result.matches
    )
    return CommentTriage(result.level.value, result.advice, matched)


def triage_comment(
    session: Session, actor: Actor, patient_id: int, text: str, *, origin: str, now: datetime
) -> CommentTriage | None:
    """Read a patient's comment; above ``expected`` record it as a diary entry of ``origin`` (the flag, the
    notifications and the audit rows of :func:`recovery.record_diary_entry`). ``None`` for an empty comment."""
    if origin not in ORIGINS:
        raise ValueError(f"origin must be one of {ORIGINS}")
    comment = clean_comment(text)
    if not comment:
        return None
    first = read_anonymous_comment(comment, language="en")
    if first is None or not first.raised:
        return first
    entry = recovery.record_diary_entry(session, actor, patient_id, {"notes": comment}, now=now, origin=origin)
    return _from_entry(entry)


def stored_comment_triage(
    session: Session, actor: Actor, patient_id: int, entry_id: int | None
) -> CommentTriage | None:
    """The triage a stored comment raised (the diary entry ``entry_id``), as the patient saw it."""
    if entry_id is None:
        return None
    try:
        entry = recovery.get_diary_entry(session, actor, patient_id, entry_id)
    except NotFound:  # the entry was erased with the patient's diary: the form keeps only the words
        return None
    return _from_entry(entry)


def _from_entry(entry: recovery.DiaryEntryView) -> CommentTriage:
    return CommentTriage(
        level=entry.level,
        advice=entry.advice,
        matched=entry.matched,
        entry_id=entry.id,
        flag_id=entry.flag_id,
        after_procedure=entry.days_since_procedure is not None,
    )
