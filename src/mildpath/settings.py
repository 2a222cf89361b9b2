"""Settings, declared once, read from ``MILDPATH_*`` environment variables.

Every field carries a description; ``tests/test_docs.py`` proves the README documents each one.
The app factory and the CLI callback build one ``Settings`` and pass it down: nothing reads the
environment at import time.
"""

from __future__ import annotations

import logging
import re
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

WEAK_SECRETS = {"", "changeme", "change-me", "secret", "dev", "development", "mildpath", "password"}
MIN_SECRET_LENGTH = 32


class UnsafeSettings(ValueError):
    """The settings would run an unsafe deployment (for example a weak secret in production)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MILDPATH_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the database: `sqlite:///path/to.db` (default: `./var/mildpath.db`) or "
        "`postgresql+psycopg://user@host:5432/db`.",
    )
    env: Literal["development", "production"] = Field(
        default="development",
        description="`development` (default) or `production`. Production refuses a missing or weak secret key.",
    )
    secret_key: str = Field(
        default="",
        description="Key that signs CSRF tokens; at least 32 random characters. Generated with a warning in "
        "development when unset.",
    )
    secret_key_previous: str = Field(
        default="",
        description="The secret key before the current one, while rotating keys: staff second-factor secrets "
        "sealed under it still open and are re-sealed under the new key on their next use. Empty: none.",
    )
    public_url: str = Field(
        default="",
        description="The server's public base URL (FHIR base = this + /fhir; JWT audiences are checked against it; "
        "links in texts and emails start with it). Empty: the URL each request came to, and http://127.0.0.1:8000 "
        "in messages (set it in production).",
    )
    debug: bool = Field(default=False, description="Show debugging detail in error pages. Never in production.")
    max_body_mb: float = Field(
        default=10, gt=0, description="Largest accepted request body in megabytes; larger bodies answer 413."
    )
    max_in_flight: int = Field(
        default=32,
        ge=1,
        le=10_000,
        description="Overload guard: requests one worker process handles at once (a bound on its queue; its "
        "threadpool has 40 threads); the next one answers 503 with Retry-After at once "
        "instead of queueing (nothing is read or saved).",
    )
    db_pool_size: int = Field(
        default=16,
        ge=1,
        le=500,
        description="PostgreSQL: connections each worker process keeps open (its pool); workers x (pool size + "
        "max overflow) must stay under the server's max_connections.",
    )
    db_max_overflow: int = Field(
        default=4, ge=0, le=500, description="PostgreSQL: connections a worker may open beyond the pool at peaks."
    )
    db_pool_timeout: float = Field(
        default=5,
        gt=0,
        le=300,
        description="PostgreSQL: seconds a request waits for a free connection before it answers 503 with "
        "Retry-After.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses of reverse proxies whose X-Forwarded-For header is trusted for "
        "the client address. Empty: the socket address is used.",
    )
    session_idle_minutes: int = Field(default=30, gt=0, description="A web session ends after this idle time.")
    session_absolute_hours: int = Field(
        default=12, gt=0, description="A web session ends this long after login, active or not."
    )
    login_block_seconds: int = Field(
        default=30,
        ge=1,
        le=86_400,
        description="Login throttling: the first block, in seconds, after 10 failed logins for one (email, "
        "address) within 15 minutes (or 50 from one address); it doubles with each failure after a block.",
    )
    login_block_max_seconds: int = Field(
        default=900, ge=1, le=86_400, description="Login throttling: the longest block, in seconds."
    )
    smtp_host: str = Field(
        default="", description="SMTP server for reminders and notifications; empty: notifications are logged."
    )
    smtp_port: int = Field(default=25, description="SMTP server port.")
    smtp_from: str = Field(default="mildpath@localhost", description="Sender address of notification emails.")
    sms_url: str = Field(
        default="",
        description="SMS gateway: the HTTP endpoint each text message is POSTed to (contracts §10); empty: texts "
        "are written to a file sink, <data dir>/sms-outbox.ndjson (development and tests).",
    )
    sms_auth_header: str = Field(
        default="", description="SMS gateway: one whole header line sent with every request, e.g. "
        "'Authorization: Bearer xyz'; empty: none."
    )
    sms_from: str = Field(default="", description="SMS gateway: the sender number or name put in {from}.")
    sms_body_template: str = Field(
        default='{"to": "{to}", "from": "{from}", "text": "{text}"}',
        description="SMS gateway: the JSON body of a request; {to}, {from} and {text} stand inside JSON strings "
        "and are replaced by the JSON-escaped values; no other braces are interpreted.",
    )
    sms_inbound_secret: str = Field(
        default="",
        description="SMS gateway: the shared secret of replies posted to /hooks/sms/inbound "
        "(Authorization: Bearer <secret>); empty: the inbound hook refuses every call.",
    )
    outbox_interval_seconds: int = Field(
        default=15, ge=0, le=3600,
        description="`mildpath serve` delivers the outbox this often (seconds), so sign-in links go out at once; "
        "0: only `mildpath reminders send` delivers.",
    )
    bulk_export_interval_seconds: int = Field(
        default=2, ge=0, le=3600,
        description="`mildpath serve` looks for FHIR $export jobs to run this often (seconds); 0: no export "
        "worker (kick-offs wait in the queue).",
    )
    bulk_export_expiry_hours: int = Field(
        default=24, ge=1, le=24 * 30,
        description="FHIR $export files are kept this long after the job ends, then deleted.",
    )
    bulk_export_stale_seconds: int = Field(
        default=3600, ge=0, le=7 * 24 * 3600,
        description="A $export job still marked running this long after it started (its server died) is run "
        "again by the next worker (at most three tries); keep it above the longest export.",
    )
    quiet_hours: str = Field(
        default="21:00-08:00",
        description="Reminders are not sent between these local times (HH:MM-HH:MM, the clinic's time zone, "
        "else MILDPATH_TIMEZONE); they wait until the quiet hours end. Empty: no quiet hours.",
    )
    timezone: str = Field(default="UTC", description="Time zone of clinics that have none (IANA name).")
    clinic_phone: str = Field(
        default="", description="Fallback clinic phone number shown to patients when a clinic has none."
    )
    emergency_number: str = Field(
        default="911",
        description="Emergency number shown to patients wherever they report symptoms when a clinic has none.",
    )
    content_dir: str = Field(
        default="",
        description="Folder of site-supplied content (for example licensed questionnaire wording); empty: none.",
    )
    licensed_wording: str = Field(
        default="",
        description="Comma-separated instruments (odi, zcq) whose licensed wording the site declares it uses "
        "(for example on licensed paper forms): their scores count in comparisons with the trials even when "
        "collected without the licensed wording file; empty: only scores stored as licensed count.",
    )
    data_dir: str = Field(default="var", description="Folder for the SQLite database, backups and exports.")
    cors_origins: str = Field(
        default="",
        description="Comma-separated origins (https://ehr.example.org) whose browser code may call the CDS Hooks "
        "routes (CORS, preflight answered); empty: no cross-origin calls.",
    )
    cds_api_tokens: bool = Field(
        default=False,
        description="CDS Hooks: also admit mildpath's own API tokens (of clinician and admin accounts) and signed-in "
        "sessions besides the JWTs of registered clients (`mildpath fhir-client add`).",
    )
    cds_fhir_allowed_origins: str = Field(
        default="",
        description="CDS Hooks: comma-separated origins of EHR FHIR servers mildpath may fetch missing prefetch "
        "from (with the request's fhirAuthorization); empty: never fetch, answer 412.",
    )

    @field_validator("licensed_wording")
    @classmethod
    def _licensed_instruments(cls, v: str) -> str:
        names = [n.strip().lower() for n in v.split(",") if n.strip()]
        unknown = [n for n in names if n not in ("odi", "zcq")]
        if unknown:
            raise ValueError(f"MILDPATH_LICENSED_WORDING: {unknown[0]!r} is not one of odi, zcq")
        return ",".join(dict.fromkeys(names))

    @property
    def links_base(self) -> str:
        """Where the links in texts and emails point: ``MILDPATH_PUBLIC_URL``, else the development address."""
        return self.public_url.rstrip("/") or "http://127.0.0.1:8000"

    @property
    def licensed_wording_declared(self) -> tuple[str, ...]:
        """The instruments whose licensed wording the site declares (``MILDPATH_LICENSED_WORDING``)."""
        return tuple(n for n in self.licensed_wording.split(",") if n)

    @field_validator("sms_body_template")
    @classmethod
    def _sms_template(cls, v: str) -> str:
        from mildpath.domain.messaging import check_sms_template

        return check_sms_template(v)

    @field_validator("sms_auth_header")
    @classmethod
    def _sms_header(cls, v: str) -> str:
        v = v.strip()
        if v and not re.fullmatch(r"[A-Za-z0-9-]+:\s*\S.*", v):
            raise ValueError("MILDPATH_SMS_AUTH_HEADER: expected one header line, 'Name: value'")
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, v: str) -> str:
        from mildpath.domain.messaging import QuietHours

        QuietHours.parse(v)
        return v.strip()

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"MILDPATH_TIMEZONE: {v!r} is not a time zone name") from None
        return v

    @field_validator("trusted_proxies", "cors_origins", "cds_fhir_allowed_origins")
    @classmethod
    def _strip(cls, v: str) -> str:
        return ",".join(p.strip() for p in v.split(",") if p.strip())

    @model_validator(mode="after")
    def _defaults_and_safety(self) -> Settings:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{Path(self.data_dir) / 'mildpath.db'}")
        weak = self.secret_key.strip().lower() in WEAK_SECRETS or len(self.secret_key) < MIN_SECRET_LENGTH
        if self.env == "production":
            if weak:
                raise UnsafeSettings(
                    "MILDPATH_SECRET_KEY is missing or weak: production needs at least "
                    f"{MIN_SECRET_LENGTH} random characters"
                )
            if self.debug:
                raise UnsafeSettings("MILDPATH_DEBUG must be off in production")
        elif weak:
            object.__setattr__(self, "secret_key", _development_secret(Path(self.data_dir)))
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        path = self.database_url.split("///", 1)[-1]
        return None if path in ("", ":memory:") else Path(path)

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [p for p in self.trusted_proxies.split(",") if p]

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.rstrip("/") for o in self.cors_origins.split(",") if o]

    @property
    def cds_fhir_origin_list(self) -> list[str]:
        return [o.rstrip("/") for o in self.cds_fhir_allowed_origins.split(",") if o]

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)


def _development_secret(data_dir: Path) -> str:
    """A random key kept in ``<data_dir>/.secret_key`` so every worker and restart signs alike (development)."""
    path = data_dir / ".secret_key"
    try:
        existing = path.read_text().strip()
        if len(existing) >= MIN_SECRET_LENGTH:
            return existing
    except OSError:
        pass
    key = secrets.token_urlsafe(48)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(key)
        path.chmod(0o600)
        log.warning("MILDPATH_SECRET_KEY is unset: generated a development key in %s", path)
    except OSError:
        log.warning("MILDPATH_SECRET_KEY is unset: using a random key for this process only")
    return key
