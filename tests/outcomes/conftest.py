"""A small registry cohort whose every statistic is computed by hand in the tests (tests/outcomes/expected.md style
comments next to each assertion), built through the real services: a clinic of its own, two clinicians, four
patients with a completed mild procedure 500 days ago, questionnaires, a discharge or an overnight stay, adverse
events and later interventions.

The cohort (P = the procedure date, today = P + 500 days, so every window up to 12 months has closed and the
24-month window has not opened):

=====  ====  ========  ==============  ========  ==============================  ==================================
who    age   operator  levels          day ends  ODI (all 10 sections answered)  also
=====  ====  ========  ==============  ========  ==============================  ==================================
A      70    Dr One    L4-L5           home      baseline 50, 3 m 30, 12 m 20    NPRS back 8->5, leg 7->7; ZCQ; walk
                                                                                 5->20 min; infection (day 10)
B      80    Dr Two    L3-L4, L4-L5    home      baseline 40, 3 m 36, 12 m 32    NPRS back 6->5, leg 9->4; walk 10->15;
                                                                                 dural tear, serious (day 0)
C      60    Dr One    L4-L5           home      baseline 60, 3 m 24 (12 m missed)  laminectomy on day 200
D      72    Dr Two    L3-L4           overnight no baseline, 3 m 20            epidural injection on day 100
=====  ====  ========  ==============  ========  ==============================  ==================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from mildpath.domain.schedule import add_months
from mildpath.services import procedures as procedure_svc
from mildpath.services.access import Actor
from mildpath.services.auth import add_user
from mildpath.services.clock import today as clock_today
from mildpath.services.patients import PatientIn, create_patient
from mildpath.services.proms import ResponseIn, record_response
from mildpath.store.models import Clinic

DAYS_SINCE = 500
SYSTEM = Actor.system("tests")


def odi(total: int) -> dict[str, int]:
    """All ten ODI sections answered, adding up to ``total`` (score = 2 x total)."""
    values = [min(5, max(0, total - 5 * i)) for i in range(10)]
    assert sum(values) == total
    return {f"odi-{n}": v for n, v in enumerate(values, start=1)}


ZCQ_BASELINE = {**{f"zcq-{n}": 4 for n in range(1, 7)}, "zcq-7": 3, **{f"zcq-{n}": 3 for n in range(8, 13)}}
ZCQ_3M = {
    **{f"zcq-{n}": 2 for n in range(1, 7)},
    "zcq-7": 1,
    **{f"zcq-{n}": 2 for n in range(8, 13)},
    **{f"zcq-{n}": 2 for n in range(13, 19)},
}

# (key, age, operator index, levels, overnight, {timepoint: {instrument: answers}}, events)
PLAN: list[tuple[str, int, int, list[str], bool, dict[str, dict[str, dict[str, Any]]], list[tuple]]] = [
    (
        "A",
        70,
        0,
        ["L4-L5"],
        False,
        {
            "baseline": {
                "odi": odi(25),
                "nprs": {"nprs-back": 8, "nprs-leg": 7},
                "zcq": ZCQ_BASELINE,
                "walking": {"walking-minutes": 5},
            },
            "3m": {
                "odi": odi(15),
                "nprs": {"nprs-back": 5, "nprs-leg": 7},
                "zcq": ZCQ_3M,
                "walking": {"walking-minutes": 20},
            },
            "12m": {"odi": odi(10)},
        },
        [("adverse", 10, {"type": "surgical_site_infection", "severity": "mild", "serious": False})],
    ),
    (
        "B",
        80,
        1,
        ["L3-L4", "L4-L5"],
        False,
        {
            "baseline": {
                "odi": odi(20),
                "nprs": {"nprs-back": 6, "nprs-leg": 9},
                "walking": {"walking-minutes": 10},
            },
            "3m": {
                "odi": odi(18),
                "nprs": {"nprs-back": 5, "nprs-leg": 4},
                "walking": {"walking-minutes": 15},
            },
            "12m": {"odi": odi(16)},
        },
        [("adverse", 0, {"type": "dural_tear_csf_leak", "severity": "moderate", "serious": True})],
    ),
    (
        "C",
        60,
        0,
        ["L4-L5"],
        False,
        {"baseline": {"odi": odi(30)}, "3m": {"odi": odi(12)}},
        [("reintervention", 200, {"type": "laminectomy", "levels": ["L4-L5"]})],
    ),
    (
        "D",
        72,
        1,
        ["L3-L4"],
        True,
        {"3m": {"odi": odi(10)}},
        [("reintervention", 100, {"type": "epidural_injection", "levels": ["L3-L4"]})],
    ),
]


@dataclass
class SmallCohort:
    clinic_id: int
    clinicians: list[Actor]
    patients: dict[str, int] = field(default_factory=dict)
    procedures: dict[str, int] = field(default_factory=dict)
    names: dict[str, dict[str, str]] = field(default_factory=dict)
    today: date = field(default_factory=clock_today)

    @property
    def procedure_date(self) -> date:
        return self.today - timedelta(days=DAYS_SINCE)

    @property
    def actor(self) -> Actor:
        return self.clinicians[0]


def _local(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock).astimezone()


def _checklist(day: date) -> dict[str, Any]:
    return {
        "consent": {"signed_on": (day - timedelta(days=7)).isoformat()},
        "imaging": {
            "study_date": (day - timedelta(days=30)).isoformat(),
            "modality": "MRI",
            "reviewed": True,
        },
        "anticoagulation": {"takes_blood_thinner": False, "confirmed_by": "Dr One"},
        "allergies": {"contrast": "none_known", "latex": "none_known", "local_anaesthetic": "none_known"},
        "instructions": {"fasting_given": True, "sedation_given": True},
        "escort": {"arranged": True, "name": "Sam"},
        "infection": {"active_infection": False},
    }


def _observation(at: datetime) -> dict[str, Any]:
    leg = {"strength": "as_before", "sensation": "as_before"}
    return {
        "at": at.isoformat(),
        "aldrete": 10,
        "padss": 10,
        "neuro": {"left": dict(leg), "right": dict(leg)},
        "vitals": {"temperature_c": 36.8},
        "pain": 2,
        "walking": "as_before",
        "voided": True,
    }


def _answer_day(timepoint: str, p: date) -> date:
    return {"baseline": p - timedelta(days=10), "3m": add_months(p, 3), "12m": add_months(p, 12)}[timepoint]


def build_small_cohort(session: Session, *, today: date | None = None, suffix: str = "") -> SmallCohort:
    """Create the cohort of the module docstring in ``session`` (nothing is committed here)."""
    today = today or clock_today()
    clinic = Clinic(name=f"Registry Test Clinic{suffix}", phone="+1 555 0300")
    session.add(clinic)
    session.flush()
    clinicians = []
    for n, name in enumerate(("Dr One", "Dr Two")):
        user = add_user(
            session,
            SYSTEM,
            email=f"registry{n}{suffix}@test.example",
            password="registry-test-password",
            role="clinician",
            display_name=name,
            clinic_id=clinic.id,
        )
        clinicians.append(Actor(user.id, "clinician", clinic.id, None, user.email, "tests"))
    cohort = SmallCohort(clinic.id, clinicians, today=today)
    p = cohort.procedure_date
    for key, age, op, levels, overnight, answers, events in PLAN:
        actor = clinicians[op]
        names = {
            "given": f"Registry{key}",
            "family": f"Person{key}{suffix}",
            "mrn": f"REG-{key}{suffix}",
            "email": f"registry.{key.lower()}{suffix}@example.org",
            "phone": f"+1 555 07{ord(key):03d}",
            "address": f"{ord(key)} Registry Lane",
        }
        birth = date(p.year - age, 1, 2) if (p.month, p.day) >= (1, 2) else date(p.year - age - 1, 1, 2)
        patient = create_patient(
            session,
            actor,
            PatientIn(
                mrn=names["mrn"],
                given_name=names["given"],
                family_name=names["family"],
                birth_date=birth,
                sex="female" if key in "AC" else "male",
                phone=names["phone"],
                email=names["email"],
                address=names["address"],
            ),
            today=today,
        )
        cohort.patients[key] = patient.id
        cohort.names[key] = names | {"birth_date": birth.isoformat()}
        start = _local(p, time(10, 0))
        end = start + timedelta(minutes=45)
        view = procedure_svc.schedule_procedure(
            session,
            actor,
            patient.id,
            procedure_svc.ProcedureSchedule(scheduled_date=p, operator_user_id=actor.user_id),
            today=today,
            now=start - timedelta(days=14),
        )
        procedure_svc.update_checklist(session, actor, patient.id, view.id, _checklist(p), today=p, now=start)
        procedure_svc.start_procedure(session, actor, patient.id, view.id, now=start)
        record = {
            "procedure_date": p.isoformat(),
            "operator": ("Dr One", "Dr Two")[op],
            "start": start.isoformat(),
            "end": end.isoformat(),
            "levels": [{"level": lv, "side": "bilateral"} for lv in levels],
            "anaesthesia": "local",
            "sedation": "conscious",
            "epidurogram": True,
            "incisions": 2,
            "fluoroscopy_seconds": 90,
            "tissue_removed": ["lamina", "ligamentum_flavum"],
        }
        procedure_svc.save_record(session, actor, patient.id, view.id, record, now=end + timedelta(minutes=5))
        seen = end + timedelta(minutes=60)
        procedure_svc.add_observation(session, actor, patient.id, view.id, _observation(seen), now=seen)
        leave = end + timedelta(minutes=90)
        if overnight:
            procedure_svc.keep_overnight(
                session, actor, patient.id, view.id, "Observed overnight", at=leave, now=leave
            )
        else:
            readiness = {"escort_present": True, "escort_name": "Sam", "written_instructions_given": True}
            procedure_svc.discharge(session, actor, patient.id, view.id, readiness, at=leave, now=leave)
        cohort.procedures[key] = view.id
        for timepoint, instruments in answers.items():
            day = _answer_day(timepoint, p)
            for i, (instrument, values) in enumerate(instruments.items()):
                record_response(
                    session,
                    actor,
                    patient.id,
                    ResponseIn(instrument=instrument, timepoint=timepoint, answers=values, answered_on=day),
                    today=day,
                    now=_local(day, time(11, i)),
                    procedure_date=p,
                )
        for kind, days_after, data in events:
            when = p + timedelta(days=days_after)
            if kind == "adverse":
                payload = {**data, "onset": when.isoformat(), "outcome": "resolved", "recorded_by": "Dr One"}
                procedure_svc.record_adverse_event(
                    session, actor, patient.id, view.id, payload, today=today, now=_local(when, time(12))
                )
            else:
                payload = {**data, "performed_on": when.isoformat()}
                procedure_svc.record_reintervention(
                    session, actor, patient.id, view.id, payload, today=today, now=_local(when, time(12))
                )
    session.flush()
    return cohort


@pytest.fixture
def small(db: Session) -> SmallCohort:
    """The small cohort inside the test's rolled-back transaction (on every backend): for tests that go through
    the web app, whose sessions share the test's connection."""
    return build_small_cohort(db)


@pytest.fixture(scope="module")
def registry_world(world: Any) -> Iterator[tuple[Connection, SmallCohort]]:
    """The small cohort built once per module (and backend) on a connection whose transaction is rolled back at
    the end. Tests share that connection (see :func:`shared_connection`): SQLite has one writer."""
    conn = world.engine.connect()
    outer = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        cohort = build_small_cohort(session)
        session.commit()  # releases the savepoint: the rows stay in the outer transaction
        session.close()
        yield conn, cohort
    finally:
        outer.rollback()
        conn.close()


@pytest.fixture(scope="module")
def registry_db(registry_world: tuple[Connection, SmallCohort]) -> Iterator[tuple[Session, SmallCohort]]:
    """A session that sees the module's cohort (for tests that read through services)."""
    conn, cohort = registry_world
    session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield session, cohort
    session.close()


@pytest.fixture
def shared_connection(registry_world: tuple[Connection, SmallCohort]) -> Iterator[Connection]:
    """The module's connection inside a savepoint rolled back after each test: a module overrides ``connection``
    with it, so ``db``, ``app`` and ``client`` see the cohort and each test's own writes vanish after it."""
    conn = registry_world[0]
    nested = conn.begin_nested()
    yield conn
    if nested.is_active:
        nested.rollback()


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], SmallCohort]]:
    """A fresh SQLite file migrated and holding only the small cohort (for the command line), with its env."""
    from mildpath.settings import Settings
    from mildpath.store.db import make_engine, make_session_factory, transaction
    from mildpath.store.migrate import upgrade

    folder = tmp_path_factory.mktemp("outcomes-cli")
    env = {
        "MILDPATH_DATABASE_URL": f"sqlite:///{folder / 'registry.db'}",
        "MILDPATH_DATA_DIR": str(folder),
        "MILDPATH_SECRET_KEY": "outcomes-cli-secret-key-long-enough-0123456789",
    }
    settings = Settings(
        database_url=env["MILDPATH_DATABASE_URL"], secret_key=env["MILDPATH_SECRET_KEY"], data_dir=str(folder)
    )
    engine: Engine = make_engine(settings)
    upgrade(settings, engine)
    with transaction(make_session_factory(engine)) as session:
        cohort = build_small_cohort(session)
    engine.dispose()
    yield env, cohort


@pytest.fixture
def rows_of() -> Callable[[list[dict[str, Any]], str], dict[str, dict[str, Any]]]:
    """Index report rows by a key (``timepoint``, ``type``...)."""

    def index(rows: list[dict[str, Any]], key: str = "timepoint") -> dict[str, dict[str, Any]]:
        return {r[key]: r for r in rows}

    return index
