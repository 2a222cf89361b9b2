"""serve, demo, db upgrade|backup|restore, user add, token create, check."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from mildpath.cli._common import bad_input, emit_json, handles_errors, load_settings, session_factory, unit_of_work

db_app = typer.Typer(help="Database: migrate, back up, restore.", no_args_is_help=True)
user_app = typer.Typer(help="Accounts.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
clinic_app = typer.Typer(help="Clinics.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("demo")(demo)
    app.command("check")(check)
    app.add_typer(db_app, name="db")
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
    app.add_typer(clinic_app, name="clinic")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (stateless; use PostgreSQL to scale)")
    ] = 1,
    migrate: Annotated[bool, typer.Option(help="Apply migrations first")] = True,
    log_level: Annotated[
        str, typer.Option(help="critical, error, warning, info or debug (logs never carry patient data)")
    ] = "warning",
) -> None:
    """Serve the web app and API. GET /healthz answers 200 once ready."""
    import uvicorn

    from mildpath.cli._logging import LEVELS, logging_config

    if log_level.lower() not in LEVELS:
        bad_input(f"--log-level: {log_level!r} is not one of {', '.join(LEVELS)}")
    settings = load_settings()
    if migrate:
        from mildpath.store.migrate import upgrade

        upgrade(settings)
    sys.stderr.write(f"mildpath serving on http://{host}:{port} ({settings.env}, {workers} worker(s))\n")
    stop = threading.Event()
    if settings.outbox_interval_seconds:
        from mildpath.services.outbox_job import start_delivery_thread

        start_delivery_thread(settings, session_factory(settings), stop)
    if settings.bulk_export_interval_seconds:
        from mildpath.services.bulk_export import start_export_thread

        start_export_thread(settings, session_factory(settings), stop)
    uvicorn.run(
        "mildpath.web.asgi:app",
        host=host,
        port=port,
        workers=workers,
        factory=False,
        log_level=log_level.lower(),
        log_config=logging_config(log_level),
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=5,
    )
    stop.set()


@handles_errors
def demo() -> None:
    """Load the deterministic demo clinic (idempotent)."""
    from mildpath.demo import demo_logins, load_demo
    from mildpath.services.clock import today
    from mildpath.store.migrate import upgrade

    settings = load_settings()
    upgrade(settings)
    with unit_of_work(settings) as session:
        loaded = load_demo(session, today=today())
    sys.stderr.write(f"demo clinic ready: {len(loaded.patients)} patients\n")
    for role, email, password in demo_logins():
        sys.stderr.write(f"  {role:<10} {email:<28} {password}\n")


@db_app.command("upgrade")
@handles_errors
def db_upgrade() -> None:
    """Apply every migration (idempotent)."""
    from mildpath.store.migrate import upgrade

    upgrade(load_settings())
    sys.stderr.write("database is up to date\n")


@db_app.command("backup")
@handles_errors
def db_backup(file: Annotated[Path, typer.Argument(help="Backup file to write")]) -> None:
    """Back up the database (SQLite online backup; PostgreSQL through pg_dump)."""
    from mildpath.store.backup import backup

    size = backup(load_settings(), file)
    sys.stderr.write(f"backup written: {file} ({size} bytes)\n")


@db_app.command("restore")
@handles_errors
def db_restore(file: Annotated[Path, typer.Argument(help="Backup file made by `db backup`")]) -> None:
    """Restore the database from a backup (replaces the current contents)."""
    from mildpath.store.backup import restore

    restore(load_settings(), file)
    sys.stderr.write(f"restored from {file}\n")


@user_app.command("add")
@handles_errors
def user_add(
    email: Annotated[str, typer.Argument(help="Login email")],
    role: Annotated[str, typer.Option(help="patient, clinician, coordinator or admin")] = "clinician",
    clinic: Annotated[int | None, typer.Option(help="Clinic id (clinicians, coordinators)")] = None,
    patient: Annotated[int | None, typer.Option(help="Patient id (patient accounts)")] = None,
    name: Annotated[str, typer.Option(help="Display name")] = "",
    password: Annotated[
        str | None,
        typer.Option(help="Password (12+ characters); asked for when omitted", envvar="MILDPATH_NEW_PASSWORD"),
    ] = None,
) -> None:
    """Create an account."""
    from mildpath.services.access import Actor
    from mildpath.services.auth import add_user
    from mildpath.services.patients import first_clinic_id

    if password is None:
        if not sys.stdin.isatty():
            bad_input("password: pass --password or MILDPATH_NEW_PASSWORD when not at a terminal")
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = load_settings()
    with unit_of_work(settings) as session:
        if role in ("clinician", "coordinator") and clinic is None:
            clinic = first_clinic_id(session)
        user = add_user(
            session,
            Actor.system(),
            email=email,
            role=role,
            password=password,
            display_name=name,
            clinic_id=clinic,
            patient_id=patient,
        )
        sys.stderr.write(f"created {user.role} {user.email} (id {user.id})\n")


@clinic_app.command("add")
@handles_errors
def clinic_add(
    name: Annotated[str, typer.Argument(help="Clinic name")],
    phone: Annotated[str, typer.Option(help="Clinic phone")] = "",
    address: Annotated[str, typer.Option(help="Postal address")] = "",
    emergency: Annotated[str, typer.Option("--emergency-number", help="Emergency number shown to patients")] = "",
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. America/Chicago (default UTC)")] = "",
    json_out: Annotated[bool, typer.Option("--json", help="Print {id, name} as JSON")] = False,
) -> None:
    """Create a clinic (contracts §9)."""
    from mildpath.services.access import Actor
    from mildpath.services.clinics import add_clinic

    with unit_of_work(load_settings()) as session:
        clinic = add_clinic(
            session,
            Actor.system(),
            name=name,
            phone=phone,
            address=address,
            emergency_number=emergency,
            timezone=timezone,
        )
    if json_out:
        emit_json({"id": clinic.id, "name": clinic.name})
    else:
        sys.stderr.write(f"created clinic {clinic.name} (id {clinic.id})\n")


@clinic_app.command("set")
@handles_errors
def clinic_set(
    clinic_id: Annotated[int, typer.Argument(help="Clinic id")],
    name: Annotated[str | None, typer.Option(help="Clinic name")] = None,
    phone: Annotated[str | None, typer.Option(help="Clinic phone")] = None,
    address: Annotated[str | None, typer.Option(help="Postal address")] = None,
    emergency: Annotated[str | None, typer.Option("--emergency-number", help="Emergency number for patients")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA time zone, e.g. America/Chicago; '' for UTC")] = None,
    oncall_name: Annotated[str | None, typer.Option("--on-call-name", help="On-call contact's name")] = None,
    oncall_email: Annotated[str | None, typer.Option("--on-call-email", help="On-call contact's email")] = None,
    oncall_phone: Annotated[str | None, typer.Option("--on-call-phone", help="On-call contact's phone")] = None,
    emergency_minutes: Annotated[int | None, typer.Option(
        "--escalate-emergency-minutes", help="Minutes before an unacknowledged emergency flag escalates")] = None,
    same_day_minutes: Annotated[int | None, typer.Option(
        "--escalate-same-day-minutes", help="Minutes before an unacknowledged same-day flag escalates")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the clinic as JSON")] = False,
) -> None:
    """Change a clinic's details; options left out keep their value."""
    from pydantic import ValidationError

    from mildpath.domain.errors import NotFound
    from mildpath.services.access import Actor
    from mildpath.services.clinics import ClinicUpdate, update_clinic

    given = {
        "name": name, "phone": phone, "address": address, "emergency_number": emergency, "timezone": timezone,
        "oncall_name": oncall_name, "oncall_email": oncall_email, "oncall_phone": oncall_phone,
        "escalate_emergency_minutes": emergency_minutes, "escalate_same_day_minutes": same_day_minutes,
    }
    try:
        data = ClinicUpdate.model_validate({k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        option = "--" + str(first["loc"][0]).replace("oncall_", "on-call-").replace("_", "-")
        bad_input(f"{option}: {first['msg']}")
    try:
        with unit_of_work(load_settings()) as session:
            clinic = update_clinic(session, Actor.system(), clinic_id, data)
    except NotFound:
        bad_input(f"no clinic {clinic_id}")
    if json_out:
        emit_json(clinic.to_json())
    else:
        sys.stderr.write(f"updated clinic {clinic.name} (id {clinic.id})\n")


@token_app.command("create")
@handles_errors
def token_create(
    email: Annotated[str, typer.Argument(help="The account the token acts as")],
    name: Annotated[str, typer.Option(help="A label for the token")] = "cli",
) -> None:
    """Create an API token; prints it alone on stdout (it is shown only once)."""
    from mildpath.domain.errors import InvalidInput
    from mildpath.services.access import Actor
    from mildpath.services.auth import create_token, get_user_by_email

    with unit_of_work(load_settings()) as session:
        user = get_user_by_email(session, email)
        if user is None:
            raise InvalidInput(f"no account {email}", field="email")
        value = create_token(session, Actor.system(), user, name=name)
    sys.stdout.write(value + "\n")


@token_app.command("list")
@handles_errors
def token_list(
    email: Annotated[str, typer.Argument(help="The account whose tokens to list")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout")] = False,
) -> None:
    """List an account's active API tokens: id, name, created, last used (never the token itself)."""
    from mildpath.services.access import Actor
    from mildpath.services.auth import list_tokens

    with unit_of_work(load_settings()) as session:
        tokens = list_tokens(session, Actor.system(), email)
    if as_json:
        emit_json([t.model_dump() for t in tokens])
        return
    for t in tokens:
        used = t.last_used_at or "never"
        sys.stdout.write(f"{t.id}\t{t.name}\tcreated {t.created_at}\tlast used {used}\n")


@token_app.command("revoke")
@handles_errors
def token_revoke(
    token_id: Annotated[
        int | None, typer.Argument(help="The token's id (from `token list`)", min=1, max=2_147_483_647)
    ] = None,
    all_of: Annotated[str | None, typer.Option("--all", help="Revoke every token of this account (EMAIL)")] = None,
) -> None:
    """Revoke one API token, or every token of an account (--all EMAIL); effective at the next request."""
    from mildpath.domain.errors import NotFound
    from mildpath.services.access import Actor
    from mildpath.services.auth import revoke_all_tokens, revoke_token

    if (token_id is None) == (all_of is None):
        bad_input("token revoke: give a TOKEN_ID or --all EMAIL (one of them)")
    with unit_of_work(load_settings()) as session:
        if all_of is not None:
            count = revoke_all_tokens(session, Actor.system(), all_of)
            sys.stderr.write(f"revoked {count} token(s) of {all_of.strip().lower()}\n")
        else:
            assert token_id is not None
            try:
                revoke_token(session, Actor.system(), token_id)
            except NotFound as exc:
                bad_input(exc.message)
            sys.stderr.write(f"revoked token {token_id}\n")


@user_app.command("deactivate")
@handles_errors
def user_deactivate(email: Annotated[str, typer.Argument(help="Login email")]) -> None:
    """Deactivate an account: its web sessions end and its API tokens are revoked, at once."""
    from mildpath.services.access import Actor
    from mildpath.services.auth import deactivate_user

    with unit_of_work(load_settings()) as session:
        user = deactivate_user(session, Actor.system(), email)
        sys.stderr.write(f"deactivated {user.email}\n")


@user_app.command("unblock")
@handles_errors
def user_unblock(
    email: Annotated[str, typer.Argument(help="Login email")],
    address: Annotated[
        str | None, typer.Option(help="Also lift the block on this client address (all its emails)")
    ] = None,
) -> None:
    """Lift a login block (throttling) on an account, from every address; forget its failed attempts."""
    from mildpath.services.access import Actor
    from mildpath.services.auth import unblock

    with unit_of_work(load_settings()) as session:
        lifted = unblock(session, Actor.system(), email, address)
    sys.stderr.write(f"lifted {lifted} block(s) on {email.strip().lower()}\n")


@handles_errors
def check() -> None:
    """Report unsafe deployment settings; exit 1 when any is found."""
    from mildpath.services.deployment import check_deployment
    from mildpath.settings import Settings

    try:
        settings = Settings()
        problems = check_deployment(settings)
    except ValueError as exc:
        problems = [str(exc)]
    if not problems:
        sys.stderr.write("no unsafe settings found\n")
        return
    for p in problems:
        sys.stderr.write(f"unsafe: {p}\n")
    raise typer.Exit(1)
