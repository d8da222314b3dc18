"""The server's settings: its database, HTTP, security and ingest sections, and the shared ones.

Read from the site's shared TOML file and the environment by :func:`load_server_settings` (the
reader is ``foundation.settings``), built when a command starts, never at import::

    settings = load_server_settings(env={"SERVICEPOINT_DATABASE_URL": "sqlite:///sp.db"})
    app = create_app(settings)

The server owns ``[database]``, ``[http]``, ``[security]`` and ``[ingest]`` (a misspelt key in
any of them stops it, naming the key), shares ``[site]`` and ``[mqtt]``, and reads one key of the
kiosk's section: ``kiosk.font_path``, the CJK font the library's printed labels and cards use.
In production it refuses the placeholders of its session secret and of the kiosk's key, and
secrets shorter than ``MIN_SECRET_LENGTH``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, field_validator

from foundation.settings import (
    DEVELOPMENT_KIOSK_KEY,
    AppSettings,
    BorrowedSection,
    MqttSettings,
    PublicUrl,
    Secret,
    Section,
    load_app_settings,
    refuse_weak_secrets,
)

__all__ = ["DatabaseSettings", "HttpSettings", "IngestSettings", "KioskFont", "SecuritySettings",
           "ServerSettings", "load_server_settings"]

DEVELOPMENT_SECRET = "development-only-secret-change-me"


class DatabaseSettings(Section):
    url: str = ""

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value


class HttpSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # The address phones reach the server at; printed in QR codes.
    public_url: PublicUrl = "http://127.0.0.1:8080"
    # Server processes sharing the port (server/workers.py); 0: one per core, at most 2.
    workers: int = Field(default=0, ge=0, le=16)
    # A lone Pi that serves only its own Wi-Fi on purpose: a private public_url is then a doctor
    # warning, not a failure (servicepoint/public_url.py).
    lan_only: bool = False


class SecuritySettings(Section):
    secret_key: str = DEVELOPMENT_SECRET
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    # Squad leaders' and volunteers' sessions on their phones: this many days, sliding.
    field_session_days: int = Field(default=14, ge=1, le=90)
    # Failed logins per username within the window before further attempts are refused.
    login_attempts: int = Field(default=5, ge=1)
    login_window_s: int = Field(default=300, ge=1)
    # Sent by the kiosk as X-Kiosk-Key to read the site status in its PIN-protected staff mode.
    kiosk_key: str = Field(default=DEVELOPMENT_KIOSK_KEY, min_length=12)
    # Anonymous filings (kiosk API, Open311) allowed per window, per caller address and per
    # kiosk (a caller with the kiosk key); far above what a real service point files.
    filing_per_address: int = Field(default=20, ge=1)
    filing_per_kiosk: int = Field(default=120, ge=1)
    filing_window_s: int = Field(default=600, ge=1, le=86_400)
    # Proxies (IP addresses or networks) whose X-Forwarded-For / X-Forwarded-Proto are believed.
    # Empty: none is, not even one on loopback.
    trusted_proxies: list[str] = []

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: object) -> object:
        """A list in the file; from the environment, comma-separated. Each must be an address
        or a network, so that a typo stops the server instead of trusting nothing (or all)."""
        import ipaddress

        items = [p.strip() for p in value.split(",") if p.strip()] if isinstance(
            value, str) else value
        for item in items if isinstance(items, list) else []:
            ipaddress.ip_network(str(item), strict=False)  # ValueError names the bad entry
        return items


class KioskFont(BorrowedSection):
    """``[kiosk]`` as the server sees it: the font its printed labels share with the screen."""

    font_path: Path = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


class IngestSettings(Section):
    """Sensor ingest in the server process."""

    enabled: bool = True
    # Stable per replica: the broker keeps this client's session (and queues readings for it)
    # while the server is down. Give each replica its own, e.g. SERVICEPOINT_INGEST__CLIENT_ID.
    client_id: str = Field(default="servicepoint-server", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    # Replicas in one group share the readings (MQTT 5 shared subscription). Empty: a plain
    # subscription, for a single server.
    shared_group: str = Field(default="", pattern=r"^[A-Za-z0-9_-]{0,40}$")
    # A district's central server: take every site's readings (<prefix>/+/+/#), not only
    # site.id's; rule state, tickets and alerts then follow the site of each message.
    all_sites: bool = False
    batch_size: int = Field(default=500, ge=1, le=10_000)
    batch_wait_ms: int = Field(default=10, ge=0, le=5_000)
    queue_limit: int = Field(default=20_000, ge=100)
    retention_days: int = Field(default=400, ge=1)
    evidence_interval_s: int = Field(default=600, ge=0)
    node_report_interval_s: float = Field(default=60.0, gt=0)
    # A reading dated further ahead of the server's clock than this is refused (dead-lettered):
    # it would stand as the asset's latest state and hide the real ones as older.
    future_skew_s: float = Field(default=300.0, ge=0, le=86_400)
    tick_interval_s: float = Field(default=5.0, gt=0, le=3600)
    schedule_interval_s: float = Field(default=3600.0, gt=0)
    delivery_interval_s: float = Field(default=2.0, gt=0, le=600)
    # Conditions whose maintenance ticket resolves itself when the condition clears.
    auto_resolve: list[str] = ["low_level", "high_level", "overflow", "missing", "pressure_low",
                               "door_open", "offline"]
    rules_file: Path = Path("rules.toml")
    alerts_file: Path = Path("alerts.toml")


class AttachmentSettings(Section):
    """``[attachments]``: stored files (photos, recordings, lab reports); server/attachments.py.

    The files sit in ``dir`` (empty: ``<data_dir>/attachments``). A district could put them in an
    object store (MinIO) behind the same seam; that is a setting to add here, not built yet.
    """

    dir: Path | None = None
    # A photo as sent (before it is re-encoded), and the longest side it is stored at.
    photo_max_bytes: int = Field(default=10 * 1024 * 1024, ge=64 * 1024, le=50 * 1024 * 1024)
    photo_max_side_px: int = Field(default=1600, ge=320, le=4096)


class RetentionSettings(Section):
    """``[retention]``: how long personal data is kept (PIPL Art. 17, 19), in days after the
    request was closed; a daily job erases what is due (server/services/retention.py). The
    residents' privacy notice states these periods."""

    contact_days: int = Field(default=180, ge=1, le=3650)  # contact name, phone, door number
    photo_days: int = Field(default=180, ge=1, le=3650)  # a request's photos
    recording_days: int = Field(default=180, ge=1, le=3650)  # the spoken description
    # The resident's own phone and name, once all their requests have been closed this long.
    resident_days: int = Field(default=365, ge=1, le=3650)


class ServerSettings(AppSettings):
    attachments: AttachmentSettings = AttachmentSettings()
    categories_file: Path = Path("categories.toml")
    database: DatabaseSettings = DatabaseSettings()
    mqtt: MqttSettings = MqttSettings()
    http: HttpSettings = HttpSettings()
    security: SecuritySettings = SecuritySettings()
    ingest: IngestSettings = IngestSettings()
    kiosk: KioskFont = KioskFont()
    retention: RetentionSettings = RetentionSettings()

    @property
    def database_url(self) -> str:
        """The configured URL, or a SQLite file in the data folder."""
        return self.database.url or f"sqlite:///{self.data_dir / 'servicepoint.db'}"


def load_server_settings(path: Path | str | None = None,
                         env: Mapping[str, str] | None = None) -> ServerSettings:
    """The server's settings; in production its secrets must be neither the shipped
    placeholders nor short."""
    settings = load_app_settings(ServerSettings, path, env)
    refuse_weak_secrets(
        settings,
        Secret("security.secret_key", settings.security.secret_key, DEVELOPMENT_SECRET,
               "SERVICEPOINT_SECRET_KEY"),
        Secret("security.kiosk_key", settings.security.kiosk_key, DEVELOPMENT_KIOSK_KEY,
               "SERVICEPOINT_SECURITY__KIOSK_KEY"))
    return settings
