"""``mildpath fhir-client add|list|disable``: register the systems that sign their own JWTs (SMART Backend
Services at ``/auth/token``, CDS Hooks calls), see them, and stop one (services/smart.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mildpath.cli._common import bad_input, emit_json, handles_errors, load_settings, unit_of_work

app = typer.Typer(help="SMART backend and CDS Hooks clients (signed JWTs).", no_args_is_help=True)


def _unit_of_work() -> Any:
    return unit_of_work(load_settings())


@app.command("add")
@handles_errors
def add(
    name: Annotated[str, typer.Argument(help="A name for the client (the EHR, the analytics job)")],
    jwks: Annotated[Path | None, typer.Option("--jwks", help="A file with the client's public JWKS")] = None,
    jwks_url: Annotated[str | None, typer.Option("--jwks-url", help="The URL of the client's JWKS")] = None,
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="A system scope it may get (system/*.read, ...); repeatable")
    ] = None,
    issuer: Annotated[
        str | None, typer.Option("--issuer", help="The iss of its CDS Hooks JWTs (default: its client id)")
    ] = None,
    clinic: Annotated[
        int | None, typer.Option("--clinic", min=1, max=2_147_483_647, help="Bind it to one clinic (default: all)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"client_id"} on stdout')] = False,
) -> None:
    """Register a backend client with its key set and scopes; prints its client id."""
    from mildpath.services.access import Actor
    from mildpath.services.smart import register_client

    key_set = None
    if jwks is not None:
        try:
            key_set = json.loads(jwks.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            bad_input(f"{jwks}: not JSON ({exc.msg}, line {exc.lineno})")
    with _unit_of_work() as session:
        view = register_client(
            session, Actor.system(), name, scopes=scope or [], jwks=key_set, jwks_url=jwks_url, issuer=issuer,
            clinic_id=clinic,
        )
    if as_json:
        emit_json({"client_id": view.client_id})
    else:
        sys.stdout.write(view.client_id + "\n")


@app.command("list")
@handles_errors
def list_(as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout")] = False) -> None:
    """List the registered clients: id, name, issuer, clinic, key set, scopes, active."""
    from mildpath.services.access import Actor
    from mildpath.services.smart import list_clients

    with _unit_of_work() as session:
        rows = list_clients(session, Actor.system())
    items: list[dict[str, Any]] = [
        {
            "client_id": c.client_id,
            "name": c.name,
            "issuer": c.issuer,
            "clinic_id": c.clinic_id,
            "jwks_url": c.jwks_url,
            "jwks_inline": c.has_inline_jwks,
            "scopes": list(c.scopes),
            "active": c.active,
            "created_at": c.created_at.isoformat(),
        }
        for c in rows
    ]
    if as_json:
        emit_json(items)
        return
    for c in items:
        state = "active" if c["active"] else "disabled"
        sys.stdout.write(f"{c['client_id']}\t{c['name']}\t{state}\t{' '.join(c['scopes'])}\n")


@app.command("disable")
@handles_errors
def disable(client_id: Annotated[str, typer.Argument(help="The client id (from `fhir-client list`)")]) -> None:
    """Disable a client: its tokens and JWTs are refused from the next request on."""
    from mildpath.domain.errors import NotFound
    from mildpath.services.access import Actor
    from mildpath.services.smart import disable_client

    with _unit_of_work() as session:
        try:
            disable_client(session, Actor.system(), client_id)
        except NotFound as exc:
            bad_input(exc.message)
    sys.stderr.write(f"disabled {client_id}\n")
