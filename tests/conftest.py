"""Shared fixtures: one migrated database per backend with the demo clinic and the test personas, and a
rolled-back transaction per test (the app's own commits become savepoints inside it).

Backends: SQLite always; PostgreSQL too when MILDPATH_TEST_POSTGRES_URL is set (otherwise those runs skip
with the reason). Every test that asks for ``db``, ``app`` or ``client`` runs once per backend.

Personas (conventions §4), drawn from the demo clinic plus a second clinic made here:
``admin_ada``, ``dr_alice`` (demo clinic), ``dr_bob_other_clinic`` (Hillside clinic), ``coord_cora`` and
``coord_hal_other_clinic`` (coordinators of the demo and the Hillside clinic), ``patient_pat`` (demo
patient 0, with a login) and ``patient_other`` (a patient of the demo clinic who is not Pat).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from mildpath.services.access import Actor
from mildpath.services.clock import now, today
from mildpath.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
POSTGRES_URL = os.environ.get("MILDPATH_TEST_POSTGRES_URL", "")
SECRET = "test-secret-key-that-is-long-enough-0123456789"


@dataclass(frozen=True)
class Persona:
    name: str
    email: str
    password: str
    role: str
    user_id: int
    clinic_id: int | None
    patient_id: int | None
    token: str
    totp_secret: str = ""  # the account's second factor (admins must have one: services/mfa.py)

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.role, self.clinic_id, self.patient_id, self.email, "testclient")

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    settings: Settings
    engine: Engine
    personas: dict[str, Persona]
    demo_patient_ids: list[int]
    other_clinic_patient_id: int


def _build_world(settings: Settings) -> World:
    from mildpath.demo import ADMIN, CLINICIANS, PATIENT_LOGINS, load_demo
    from mildpath.services.auth import add_user, create_token, get_user_by_email
    from mildpath.services.patients import PatientIn, create_patient
    from mildpath.store.db import make_engine, make_session_factory, transaction
    from mildpath.store.migrate import upgrade
    from mildpath.store.models import Clinic

    engine = make_engine(settings)
    upgrade(settings, engine)
    factory = make_session_factory(engine)
    system = Actor.system("tests")
    personas: dict[str, Persona] = {}
    with transaction(factory) as s:
        demo = load_demo(s, today=today())
        other = Clinic(name="Hillside Spine Center", phone="+1 555 0200")
        s.add(other)
        s.flush()
        bob = add_user(
            s,
            system,
            email="bob@hillside.example",
            password="bob-other-clinic-pw",
            role="clinician",
            display_name="Dr Bob",
            clinic_id=other.id,
        )
        for email, clinic_id in (("cora@demo.example", demo.clinic_id), ("hal@hillside.example", other.id)):
            add_user(s, system, email=email, password="coordinator-pw-123", role="coordinator", clinic_id=clinic_id)
        other_patient = create_patient(
            s,
            system,
            PatientIn(mrn="HS-1", given_name="Hilda", family_name="Stone", birth_date="1950-03-04", sex="female"),
            today=today(),
            clinic_id=other.id,
        )

        def persona(name: str, email: str, password: str) -> None:
            user = get_user_by_email(s, email)
            assert user is not None
            personas[name] = Persona(
                name,
                email,
                password,
                user.role,
                user.id,
                user.clinic_id,
                user.patient_id,
                create_token(s, system, user, name="tests"),
            )

        persona("admin_ada", ADMIN[0], ADMIN[1])
        personas["admin_ada"] = _with_second_factor(s, settings, personas["admin_ada"])
        persona("dr_alice", CLINICIANS[0][0], CLINICIANS[0][1])
        persona("dr_bob_other_clinic", bob.email, "bob-other-clinic-pw")
        persona("coord_cora", "cora@demo.example", "coordinator-pw-123")
        persona("coord_hal_other_clinic", "hal@hillside.example", "coordinator-pw-123")
        persona("patient_pat", PATIENT_LOGINS[0][0], PATIENT_LOGINS[0][1])
        persona("patient_rosa", PATIENT_LOGINS[1][0], PATIENT_LOGINS[1][1])
        _caregiver(s, settings, personas["patient_pat"])
        persona("caregiver_ana", CAREGIVER[0], CAREGIVER[1])
        ids = [p.patient_id for p in demo.patients]
        other_id = other_patient.id
    return World(settings, engine, personas, ids, other_id)


CAREGIVER = ("ana.caregiver@example.org", "ana-caregiver-password")


def _caregiver(s, settings: Settings, patient: Persona) -> None:  # type: ignore[no-untyped-def]
    """Ana, Pat's daughter, may read his plan and fill his diary (invited by Pat; she set a password)."""
    from mildpath.services import caregivers
    from mildpath.services.auth import get_user_by_email, hash_password
    from mildpath.store.models import User

    data = caregivers.CaregiverIn(name="Ana", relation="daughter", email=CAREGIVER[0],
                                  shared=caregivers.Shared(read=True, diary=True))
    caregivers.invite(s, patient.actor, patient.patient_id, data, now=now(), secret_key=settings.secret_key,
                      public_url="http://testserver")
    account = get_user_by_email(s, CAREGIVER[0])
    s.get(User, account.id).password_hash = hash_password(CAREGIVER[1])


def _with_second_factor(s, settings: Settings, persona: Persona) -> Persona:  # type: ignore[no-untyped-def]
    """Admins must use a second factor: the admin persona has one set up, and tests.helpers.login types its code."""
    import dataclasses

    import pyotp

    from mildpath.store import mfa as mfa_store
    from mildpath.store import sealing

    secret = pyotp.random_base32()
    row = mfa_store.start(s, user_id=persona.user_id, secret=sealing.seal(sealing.Keys.of(settings), secret),
                          now=now())
    row.confirmed_at = now()
    return dataclasses.replace(persona, totp_secret=secret)


def _postgres_reset(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if request.param == "postgres":
        if not POSTGRES_URL:
            pytest.skip("PostgreSQL run: set MILDPATH_TEST_POSTGRES_URL to test against PostgreSQL")
        _postgres_reset(POSTGRES_URL)
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'mildpath-test.db'}"
    data_dir = tmp_path_factory.mktemp("data")
    settings = Settings(database_url=url, secret_key=SECRET, data_dir=str(data_dir))
    w = _build_world(settings)
    yield w
    w.engine.dispose()


@pytest.fixture
def settings(world: World) -> Settings:
    return world.settings


@pytest.fixture
def connection(world: World) -> Iterator[Connection]:
    conn = world.engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session inside the test's rolled-back transaction."""
    s = session_factory()
    yield s
    s.close()


@pytest.fixture
def app(world: World, session_factory: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    from mildpath.web.app import create_app

    application = create_app(world.settings)
    application.state.session_factory = session_factory
    return application


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as c:
        yield c


@pytest.fixture
def personas(world: World) -> dict[str, Persona]:
    return world.personas


@pytest.fixture
def dr_alice(personas: dict[str, Persona]) -> Persona:
    return personas["dr_alice"]


@pytest.fixture
def dr_bob_other_clinic(personas: dict[str, Persona]) -> Persona:
    return personas["dr_bob_other_clinic"]


@pytest.fixture
def admin_ada(personas: dict[str, Persona]) -> Persona:
    return personas["admin_ada"]


@pytest.fixture
def patient_pat(personas: dict[str, Persona]) -> Persona:
    return personas["patient_pat"]


@pytest.fixture
def patient_rosa(personas: dict[str, Persona]) -> Persona:
    return personas["patient_rosa"]


@pytest.fixture
def pat_id(patient_pat: Persona) -> int:
    assert patient_pat.patient_id is not None
    return patient_pat.patient_id


@pytest.fixture
def other_clinic_patient_id(world: World) -> int:
    return world.other_clinic_patient_id
