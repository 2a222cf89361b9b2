"""``mildpath reminders send``: queue the questionnaire reminders that are due, then deliver the outbox.

Meant for a timer (cron, systemd; hourly, so that retries and reminders held by quiet hours go out in time).
Running it twice the same day queues nothing new: each patient gets one reminder per open timepoint (see
:func:`mildpath.services.proms.queue_due_reminders`). Messages go out by SMTP when ``MILDPATH_SMTP_HOST`` is set
(otherwise they are only logged), texts through ``MILDPATH_SMS_URL`` (otherwise to a file sink under the data dir).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mildpath.cli._common import emit_json, handles_errors, load_settings, session_factory, transaction, unit_of_work

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
    from mildpath.services.outbox_job import deliver_due
    from mildpath.services.proms import queue_due_reminders

    settings = load_settings()
    factory = session_factory(settings)
    with transaction(factory) as session:
        queued = queue_due_reminders(
            session, today(), now=now(), link_base=settings.links_base, secret_key=settings.secret_key
        )
    # Delivery after the queue is committed, each message in a transaction of its own (services/notify.py).
    counts = deliver_due(settings, factory, limit=limit)
    sys.stderr.write(
        f"reminders: {queued} queued; outbox: {counts.sent} sent, {counts.failed} failed, {counts.retrying} "
        f"to retry, {counts.cancelled} cancelled, {counts.waiting} waiting for the end of quiet hours\n"
    )
    if as_json:
        emit_json({"queued": queued, "sent": counts.sent, "failed": counts.failed, "retrying": counts.retrying,
                   "cancelled": counts.cancelled, "waiting": counts.waiting})


@reminders_app.command("escalate")
@handles_errors
def escalate(
    as_json: Annotated[bool, typer.Option("--json", help="Print the count as JSON on stdout")] = False,
) -> None:
    """Escalate triage flags not acknowledged in the clinic's time: mark them overdue, tell the on-call contact."""
    from mildpath.services.clock import now
    from mildpath.services.recovery import escalate_overdue

    with unit_of_work(load_settings()) as session:
        escalated = escalate_overdue(session, now=now())
    sys.stderr.write(f"escalation: {escalated} flags escalated\n")
    if as_json:
        emit_json({"escalated": escalated})
