"""Pure rules of patient messaging: the SMS gateway's body template, retry back-off, quiet hours, STOP replies.

Nothing clinical lives here: a message's text is a short line and a link (issue 4's rule that messages carry
no clinical detail). The functions take every time they need as an argument (no clock).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta

MAX_ATTEMPTS = 6
"""A message is tried at most this many times; then it is given up (kept, with the last reason)."""
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)

PLACEHOLDERS = ("to", "from", "text")
_PLACEHOLDER = re.compile(r"\{(to|from|text)\}")


class TemplateError(ValueError):
    """The SMS body template is not a JSON document with its placeholders inside strings."""


def render_sms_body(template: str, *, to: str, sender: str, text: str) -> str:
    """The gateway request body: ``{to}``, ``{from}``, ``{text}`` replaced by the JSON-escaped values.

    Only those three placeholders are interpreted; any other brace is left as written. Each value is escaped
    as the inside of a JSON string (quotes, backslashes, control characters and non-ASCII all stay valid).
    """
    values = {"to": to, "from": sender, "text": text}
    return _PLACEHOLDER.sub(lambda m: json.dumps(values[m.group(1)])[1:-1], template)


def check_sms_template(template: str) -> str:
    """Refuse a template that would not give a JSON document, or that omits where the number or text go."""
    missing = [p for p in ("to", "text") if "{" + p + "}" not in template]
    if missing:
        raise TemplateError(f"the SMS body template has no {{{missing[0]}}}")
    probe = render_sms_body(template, to='+1 "x"', sender="\\y", text="a\nb")
    try:
        json.loads(probe)
    except json.JSONDecodeError as exc:
        raise TemplateError(f"the SMS body template is not JSON once filled in ({exc.msg})") from None
    return template


def retry_delay(attempts: int) -> timedelta:
    """The wait before the next try after ``attempts`` failed ones: 1, 2, 4, ... minutes, at most an hour."""
    delay: timedelta = FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 12))
    return min(delay, LONGEST_RETRY)


@dataclass(frozen=True)
class QuietHours:
    """A daily window (local time) in which reminders wait. ``start > end`` spans midnight (21:00-08:00)."""

    start: time
    end: time

    @classmethod
    def parse(cls, value: str) -> QuietHours | None:
        value = value.strip()
        if not value:
            return None
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)", value)
        if not match:
            raise ValueError(f"quiet hours {value!r}: expected HH:MM-HH:MM, e.g. 21:00-08:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        return cls(time(h1, m1), time(h2, m2))

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def end_after(self, local: datetime) -> datetime:
        """The first moment at or after ``local`` (a local, zone-aware time) outside the window."""
        if not self.contains(local.timetz().replace(tzinfo=None)):
            return local
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        return end if end > local else end + timedelta(days=1)


STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "BAJA", "ALTO", "PARAR"})
"""Replies that withdraw consent to texts: the usual carrier keywords, and their Spanish counterparts."""


def is_stop_reply(text: str) -> bool:
    """True when a reply asks to stop texts: its first word, case and accents aside, is a stop word."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()
    words = re.findall(r"[A-Z]+", folded)
    return bool(words) and words[0] in STOP_WORDS


def normalize_phone(phone: str) -> str:
    """A phone number reduced to its digits, with a leading ``+`` kept: how replies are matched to patients."""
    digits = re.sub(r"\D", "", phone)
    return ("+" + digits) if phone.strip().startswith("+") and digits else digits
