"""``mildpath reminders send``: queue the questionnaire reminders that are due, then deliver the outbox.

Meant for a daily timer (cron, systemd). Running it twice the same day queues nothing new: each patient gets one
reminder per open timepoint (see :func:`mildpath.services.proms.queue_due_reminders`). Messages go out by SMTP
when ``MILDPATH_SMTP_HOST`` is set, otherwise they are only logged (development).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mildpath.cli._common import bad_input, emit_json, handles_errors

reminders_app = typer.Typer(help="Questionnaire reminders.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(reminders_app, name="reminders")


@reminders_app.command("send")
@handles_errors
def send(
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON on stdout")] = False,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="Most outbox messages to deliver")] = 1000,
) -> None:
    """Queue due questionnaire reminders (once per patient and timepoint) and deliver pending notifications."""
    from mildpath.services.clock import now, today
    from mildpath.services.notify import deliver_pending, sender_for
    from mildpath.services.proms import queue_due_reminders
    from mildpath.settings import Settings, UnsafeSettings
    from mildpath.store.db import make_engine, make_session_factory, transaction

    try:
        settings = Settings()
    except (UnsafeSettings, ValueError) as exc:
        bad_input(f"settings: {exc}")
    factory = make_session_factory(make_engine(settings))
    with transaction(factory) as session:
        queued = queue_due_reminders(session, today(), now=now())
    # Delivery in its own transaction: the queue is committed even if sending fails half-way.
    with transaction(factory) as session:
        sent, failed = deliver_pending(session, sender_for(settings), limit=limit)
    sys.stderr.write(f"reminders: {queued} queued; outbox: {sent} sent, {failed} failed\n")
    if as_json:
        emit_json({"queued": queued, "sent": sent, "failed": failed})


@reminders_app.command("escalate")
@handles_errors
def escalate(
    as_json: Annotated[bool, typer.Option("--json", help="Print the count as JSON on stdout")] = False,
) -> None:
    """Escalate triage flags not acknowledged in the clinic's time: mark them overdue, tell the on-call contact."""
    from mildpath.services.clock import now
    from mildpath.services.recovery import escalate_overdue
    from mildpath.settings import Settings, UnsafeSettings
    from mildpath.store.db import make_engine, make_session_factory, transaction

    try:
        settings = Settings()
    except (UnsafeSettings, ValueError) as exc:
        bad_input(f"settings: {exc}")
    factory = make_session_factory(make_engine(settings))
    with transaction(factory) as session:
        escalated = escalate_overdue(session, now=now())
    sys.stderr.write(f"escalation: {escalated} flags escalated\n")
    if as_json:
        emit_json({"escalated": escalated})
