"""The deterministic demo clinic: one clinic, two clinicians, an admin and 30 patients at every stage of the
pathway. Its people are also the test personas. Loading it twice changes nothing (idempotent).

Subjects add their part through :data:`SEEDERS`: functions ``seed(session, demo)`` called in order, each
checking for its own rows before writing, so a re-run never duplicates anything. The seeders are the modules
``seed_NN_subject`` of this package, loaded in the order of their number.

The demo is a client of the services, like the web and the CLI: it writes through the use cases (the access
check, the audit row and the rules are the real ones). It reads the store only to ask "is this row already
there?" (the idempotency of a re-run: the clinic by name, a patient by MRN, a user by patient, a screening,
response, procedure, plan or diary of the demo clinic) and adds the demo clinic row itself (no use case creates
clinics); those imports are the named exceptions in the import-linter contract "The demo seeds through services".
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mildpath.services.access import Actor
from mildpath.services.auth import add_user, get_user_by_email
from mildpath.services.patients import PatientIn, create_patient
from mildpath.store.models import Clinic, Patient

CLINIC_NAME = "Riverside Spine & Pain Clinic"
CLINIC_PHONE = "+1 555 0100"
SEED = 20261126

# (email, password, role, display name). Printed by `make run`; demo only, never for real data.
ADMIN = ("admin@demo.mildpath.org", "demo-admin-password", "admin", "Ada Admin")
CLINICIANS = [
    ("alice@demo.mildpath.org", "demo-clinician-alice", "clinician", "Dr Alice Moreno"),
    ("omar@demo.mildpath.org", "demo-clinician-omar", "clinician", "Dr Omar Haddad"),
]
PATIENT_LOGINS = [
    # (email, password, index of the demo patient)
    ("pat@demo.mildpath.org", "demo-patient-pat01", 0),
    ("rosa@demo.mildpath.org", "demo-patient-rosa2", 1),
]

# The pathway stages the demo covers; days relative to the demo's "today" (negative: in the past).
STAGES: list[tuple[str, int | None]] = [
    ("recovery", -5),  # Pat: five days after the procedure, the richest record
    ("follow_up", -100),
    ("self_check", None),
    ("screened", None),
    ("screened", None),
    ("needs_information", None),
    ("not_candidate", None),
    ("scheduled", 7),
    ("scheduled", 14),
    ("procedure_today", 0),
    ("recovery", -1),
    ("recovery", -2),
    ("recovery", -9),
    ("recovery", -20),
    ("follow_up", -45),
    ("follow_up", -60),
    ("follow_up", -95),
    ("follow_up", -190),
    ("follow_up", -200),
    ("follow_up", -370),
    ("follow_up", -380),
    ("follow_up", -400),
    ("follow_up", -560),
    ("follow_up", -740),
    ("follow_up", -750),
    ("follow_up", -800),
    ("urgent", None),
    ("self_check", None),
    ("screened", None),
    ("follow_up", -130),
]

GIVEN = [
    "Pat",
    "Rosa",
    "Walter",
    "Evelyn",
    "George",
    "Linda",
    "Harold",
    "Margaret",
    "Frank",
    "Dolores",
    "Raymond",
    "Betty",
    "Eugene",
    "Joan",
    "Carl",
    "Shirley",
    "Arthur",
    "Gloria",
    "Ralph",
    "Norma",
    "Louis",
    "Irene",
    "Howard",
    "Lucia",
    "Stanley",
    "Ruth",
    "Vernon",
    "Alma",
    "Milton",
    "Edith",
]
FAMILY = [
    "Quinn",
    "Alvarez",
    "Brooks",
    "Chen",
    "Dawson",
    "Ellis",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ibarra",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Mendez",
    "Nakamura",
    "Olsen",
    "Patel",
    "Reyes",
    "Schultz",
    "Torres",
    "Underwood",
    "Vargas",
    "Weber",
    "Xu",
    "Young",
    "Zimmer",
    "Baker",
    "Carter",
    "Dunn",
    "Foster",
]


@dataclass
class DemoPatient:
    index: int
    patient_id: int
    stage: str
    procedure_date: date | None
    operator_user_id: int


@dataclass
class Demo:
    """What subject seeders get: the clinic, its staff and the patients with their stage."""

    today: date
    clinic_id: int
    admin_user_id: int
    clinician_user_ids: list[int]
    patients: list[DemoPatient] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))

    @property
    def actor(self) -> Actor:
        return Actor(self.clinician_user_ids[0], "clinician", self.clinic_id, None, CLINICIANS[0][0], "demo")


Seeder = Callable[[Session, Demo], None]
SEEDERS: list[Seeder] = []


def register_seeder(func: Seeder) -> Seeder:
    if func not in SEEDERS:
        SEEDERS.append(func)
    return func


def load_demo(session: Session, *, today: date) -> Demo:
    """Create (or find) the demo clinic and run every subject's seeder."""
    system = Actor.system("demo")
    clinic = session.scalar(select(Clinic).where(Clinic.name == CLINIC_NAME))
    if clinic is None:
        clinic = Clinic(name=CLINIC_NAME, phone=CLINIC_PHONE, address="12 River Road, Springfield")
        session.add(clinic)
        session.flush()
    admin = get_user_by_email(session, ADMIN[0]) or add_user(
        session, system, email=ADMIN[0], password=ADMIN[1], role="admin", display_name=ADMIN[3]
    )
    clinicians = []
    for email, password, role, name in CLINICIANS:
        user = get_user_by_email(session, email) or add_user(
            session, system, email=email, password=password, role=role, display_name=name, clinic_id=clinic.id
        )
        clinicians.append(user.id)
    demo = Demo(today=today, clinic_id=clinic.id, admin_user_id=admin.id, clinician_user_ids=clinicians)
    rng = random.Random(SEED)
    for i, (stage, offset) in enumerate(STAGES):
        mrn = f"DEMO-{i + 1:04d}"
        existing = session.scalar(select(Patient).where(Patient.clinic_id == clinic.id, Patient.mrn == mrn))
        # Ages 55-84: the trials enrolled 50-80 (MOTION) and 65+ (ENCORE); see clinical-reference §1.
        age = 55 + rng.randrange(30)
        birth = date(today.year - age, 1 + rng.randrange(12), 1 + rng.randrange(28))
        if existing is not None:
            patient_id = existing.id
        else:
            patient_id = create_patient(
                session,
                system,
                PatientIn(
                    mrn=mrn,
                    given_name=GIVEN[i],
                    family_name=FAMILY[i],
                    birth_date=birth,
                    sex="female" if i % 2 else "male",
                    phone=f"+1 555 01{i:02d}",
                    email=f"{GIVEN[i].lower()}.{FAMILY[i].lower()}@example.org",
                    address=f"{10 + i} Elm Street, Springfield",
                    preferred_language="es" if i == 1 else "en",
                ),
                today=today,
                clinic_id=clinic.id,
            ).id
        proc = today + timedelta(days=offset) if offset is not None else None
        demo.patients.append(DemoPatient(i, patient_id, stage, proc, clinicians[i % 2]))
    for email, password, index in PATIENT_LOGINS:
        if get_user_by_email(session, email) is None:
            add_user(
                session,
                system,
                email=email,
                password=password,
                role="patient",
                display_name=GIVEN[index],
                patient_id=demo.patients[index].patient_id,
            )
    session.flush()
    _load_subject_seeders()
    for seeder in SEEDERS:
        seeder(session, demo)
    return demo


def _load_subject_seeders() -> None:
    """Import the subject seeders of this package, ``seed_NN_subject`` in order (each registers itself on import)."""
    import importlib
    import pkgutil

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("seed_"):
            importlib.import_module(f"{__name__}.{info.name}")


def demo_logins() -> list[tuple[str, str, str]]:
    """(role, email, password) of every demo account, for `make run` to print."""
    rows = [(ADMIN[2], ADMIN[0], ADMIN[1])]
    rows += [(r, e, p) for e, p, r, _ in CLINICIANS]
    rows += [("patient", e, p) for e, p, _ in PATIENT_LOGINS]
    return rows
