"""The outbox job: what ``mildpath reminders send`` and the server's delivery thread both run.

Every message that is due is tried with the configured channels, re-checked first (consent, quiet hours, a
reminder whose questionnaires were completed or whose procedure moved) and filled in last (sign-in links).
``mildpath serve`` runs it every ``MILDPATH_OUTBOX_INTERVAL_SECONDS`` in a thread of its own, so a sign-in link
a patient asks for goes out within seconds; several servers may run it at once (each message is locked while
it is tried, on PostgreSQL; SQLite takes one writer at a time).
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from mildpath.services import notify
from mildpath.services.access_links import render_links
from mildpath.services.proms_schedule import reminder_hold
from mildpath.settings import Settings

log = logging.getLogger("mildpath.notify")


def deliver_due(settings: Settings, factory: sessionmaker[Session], *, limit: int = 1000) -> notify.DeliveryCounts:
    return notify.deliver_outbox(
        factory,
        notify.channels_for(settings),
        limit=limit,
        rechecks=[reminder_hold, notify.quiet_hours_hold(settings)],
        render=render_links(settings.secret_key, settings.links_base),
    )


def start_delivery_thread(
    settings: Settings, factory: sessionmaker[Session], stop: threading.Event
) -> threading.Thread:
    """Deliver the outbox every ``settings.outbox_interval_seconds`` until ``stop`` is set."""

    def loop() -> None:
        while not stop.wait(settings.outbox_interval_seconds):
            try:
                deliver_due(settings, factory)
            except Exception as exc:  # the thread must outlive a database hiccup; the next round tries again
                log.warning("outbox delivery round failed (%s)", type(exc).__name__)

    thread = threading.Thread(target=loop, name="mildpath-outbox", daemon=True)
    thread.start()
    return thread
