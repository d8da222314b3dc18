"""Typed site settings: one TOML file, overridden by environment variables.

Where the file is found, in order:
  1. the path in ``SERVICEPOINT_CONFIG``;
  2. ``config/servicepoint.toml`` under the current directory (a checkout);
  3. the built-in defaults alone.

Relative paths in the file are taken relative to the file's own folder.

Environment overrides: ``SERVICEPOINT_DATABASE_URL``, ``SERVICEPOINT_MQTT_URL``,
``SERVICEPOINT_DATA_DIR``, ``SERVICEPOINT_SECRET_KEY``, and for any other key
``SERVICEPOINT_<SECTION>__<KEY>`` (for example ``SERVICEPOINT_HTTP__PORT=9000``).

A bad value raises :class:`~foundation.errors.ConfigError` naming the key::

    settings = load_settings()
    print(settings.database.url, settings.mqtt.url)
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from foundation.errors import ConfigError

__all__ = [
    "BrokerAddress",
    "DatabaseSettings",
    "HttpSettings",
    "IngestSettings",
    "KioskSettings",
    "MqttSettings",
    "SecuritySettings",
    "Settings",
    "SiteSettings",
    "find_config_file",
    "load_settings",
    "parse_mqtt_url",
]

_DEVELOPMENT_SECRET = "development-only-secret-change-me"
_DEVELOPMENT_KIOSK_KEY = "development-kiosk-key"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteSettings(_Section):
    id: str = Field(default="site-01", pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    name_zh: str = "社区服务站"
    name_en: str = "Community Service Point"
    timezone: str = "Asia/Shanghai"
    phone: str = ""


class DatabaseSettings(_Section):
    url: str = ""

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value


class BrokerAddress(BaseModel):
    """Where the MQTT broker is and how to log in, parsed from ``mqtt://`` or ``mqtts://``."""

    model_config = ConfigDict(frozen=True)

    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool


def parse_mqtt_url(url: str) -> BrokerAddress:
    """Parse ``mqtt://user:password@host:1883`` (``mqtts://`` for TLS, default port 8883)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts"):
        raise ValueError("must start with mqtt:// or mqtts://")
    if not parts.hostname:
        raise ValueError("has no host")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError("has a bad port") from exc
    tls = parts.scheme == "mqtts"
    return BrokerAddress(
        host=parts.hostname,
        port=port or (8883 if tls else 1883),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
    )


class MqttSettings(_Section):
    url: str = "mqtt://127.0.0.1:1883"
    topic_prefix: str = Field(default="servicepoint", pattern=r"^[A-Za-z0-9_-]+$")
    discovery_prefix: str = Field(default="homeassistant", pattern=r"^[A-Za-z0-9_-]+$")
    ca_file: Path | None = None
    keepalive: int = Field(default=30, ge=5, le=3600)
    # How long the broker keeps the server's session (and queues QoS 1 readings) while it is down.
    session_expiry_s: int = Field(default=7 * 24 * 3600, ge=60)

    @field_validator("url")
    @classmethod
    def _parses(cls, value: str) -> str:
        parse_mqtt_url(value)
        return value

    @property
    def broker(self) -> BrokerAddress:
        return parse_mqtt_url(self.url)


class HttpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # The address phones reach the server at; printed in QR codes.
    public_url: str = "http://127.0.0.1:8080"

    @field_validator("public_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class SecuritySettings(_Section):
    secret_key: str = _DEVELOPMENT_SECRET
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    # Failed logins per username within the window before further attempts are refused.
    login_attempts: int = Field(default=5, ge=1)
    login_window_s: int = Field(default=300, ge=1)
    # Sent by the kiosk as X-Kiosk-Key to read the site status in its PIN-protected staff mode.
    kiosk_key: str = Field(default=_DEVELOPMENT_KIOSK_KEY, min_length=12)


class KioskSettings(_Section):
    server_url: str = "http://127.0.0.1:8080"
    kiosk_id: str = Field(default="K1", pattern=r"^[A-Z][A-Z0-9]{0,3}$")
    font_path: Path = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    fullscreen: bool = False
    language: Literal["zh_CN", "en"] = "zh_CN"
    idle_seconds: int = Field(default=90, ge=10)
    idle_warning_seconds: int = Field(default=30, ge=20)
    voice: bool = False
    voice_command: str = "espeak-ng -v cmn -s 140"
    staff_pin: str = Field(default="2468", pattern=r"^\d{4,8}$")
    request_timeout_s: float = Field(default=5.0, gt=0, le=60)


class IngestSettings(_Section):
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
    tick_interval_s: float = Field(default=5.0, gt=0, le=3600)
    schedule_interval_s: float = Field(default=3600.0, gt=0)
    delivery_interval_s: float = Field(default=2.0, gt=0, le=600)
    # Conditions whose maintenance ticket resolves itself when the condition clears.
    auto_resolve: list[str] = ["low_level", "high_level", "overflow", "missing", "pressure_low",
                               "door_open", "offline"]
    rules_file: Path = Path("rules.toml")
    alerts_file: Path = Path("alerts.toml")


class Settings(_Section):
    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("data")
    categories_file: Path = Path("categories.toml")
    sensors_file: Path = Path("sensors.toml")
    site: SiteSettings = SiteSettings()
    database: DatabaseSettings = DatabaseSettings()
    mqtt: MqttSettings = MqttSettings()
    http: HttpSettings = HttpSettings()
    security: SecuritySettings = SecuritySettings()
    kiosk: KioskSettings = KioskSettings()
    ingest: IngestSettings = IngestSettings()
    source: str | None = Field(default=None, exclude=True)

    @property
    def database_url(self) -> str:
        """The configured URL, or a SQLite file in the data folder."""
        return self.database.url or f"sqlite:///{self.data_dir / 'servicepoint.db'}"


_NAMED_OVERRIDES = {
    "SERVICEPOINT_DATABASE_URL": ("database", "url"),
    "SERVICEPOINT_MQTT_URL": ("mqtt", "url"),
    "SERVICEPOINT_DATA_DIR": ("data_dir",),
    "SERVICEPOINT_SECRET_KEY": ("security", "secret_key"),
    "SERVICEPOINT_ENVIRONMENT": ("environment",),
}
_PATH_KEYS = {("data_dir",), ("categories_file",), ("sensors_file",), ("kiosk", "font_path"),
              ("mqtt", "ca_file"), ("ingest", "rules_file"), ("ingest", "alerts_file")}


def find_config_file(env: Mapping[str, str] | None = None) -> Path | None:
    env = os.environ if env is None else env
    if env.get("SERVICEPOINT_CONFIG"):
        return Path(env["SERVICEPOINT_CONFIG"])
    candidate = Path.cwd() / "config" / "servicepoint.toml"
    return candidate if candidate.is_file() else None


def _set(tree: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    for key in keys[:-1]:
        node = tree.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(".".join(keys), "cannot be set: its section is not a table")
        tree = node
    tree[keys[-1]] = value


def _get(tree: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    node: Any = tree
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def load_settings(
    path: Path | str | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Build the settings from a TOML file and the environment; raise ConfigError on a bad key."""
    env = os.environ if env is None else env
    config_path = Path(path) if path is not None else find_config_file(env)
    raw: dict[str, Any] = {}
    source = str(config_path) if config_path else None
    base = config_path.resolve().parent if config_path else Path.cwd()
    if config_path is not None:
        try:
            raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError("SERVICEPOINT_CONFIG", f"no such file: {config_path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("(file)", f"is not valid TOML: {exc}", source) from None
    for name, keys in _NAMED_OVERRIDES.items():
        if env.get(name):
            _set(raw, keys, env[name])
    for name, value in env.items():
        if name.startswith("SERVICEPOINT_") and "__" in name:
            section, _, key = name.removeprefix("SERVICEPOINT_").lower().partition("__")
            _set(raw, (section, key), value)
    for keys in _PATH_KEYS:
        value = _get(raw, keys)
        if isinstance(value, str) and value and not Path(value).is_absolute():
            _set(raw, keys, str((base / value).resolve()))
    if _get(raw, ("data_dir",)) is None:
        _set(raw, ("data_dir",), str((base / "data").resolve() if config_path is None
                                     else (base.parent / "data").resolve()))
    for keys, default in ((("categories_file",), "categories.toml"),
                          (("sensors_file",), "sensors.toml"),
                          (("ingest", "rules_file"), "rules.toml"),
                          (("ingest", "alerts_file"), "alerts.toml")):
        if _get(raw, keys) is None:
            _set(raw, keys, str(base / default))
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(file)"
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = "is not a known setting"
        raise ConfigError(key, message, source) from None
    settings = settings.model_copy(update={"source": source})
    if settings.environment == "production" and settings.security.secret_key == _DEVELOPMENT_SECRET:
        raise ConfigError(
            "security.secret_key",
            "still has the development placeholder; set SERVICEPOINT_SECRET_KEY",
            source,
        )
    kiosk_key = settings.security.kiosk_key
    if settings.environment == "production" and kiosk_key == _DEVELOPMENT_KIOSK_KEY:
        raise ConfigError(
            "security.kiosk_key",
            "still has the development placeholder; set SERVICEPOINT_SECURITY__KIOSK_KEY",
            source,
        )
    return settings
