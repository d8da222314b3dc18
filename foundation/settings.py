"""The settings reader every app shares: one TOML file, overridden by environment variables.

Each app has its own settings class over this same file and environment, and reads only its own
sections: ``server.settings.ServerSettings``, ``sensors.settings.NodeSettings`` and
``kiosk.settings.KioskAppSettings``, each built by its ``load_*_settings()`` function on top of
:func:`load_app_settings` here. This module holds the reader and the sections more than one app
reads whole (``[site]``, ``[mqtt]``); it imports no app.

Where the file is found, in order:
  1. the path passed in, or in ``SERVICEPOINT_CONFIG``;
  2. ``config/servicepoint.toml`` under the current directory (a checkout);
  3. the built-in defaults alone.

Relative paths in the file are taken relative to the file's own folder.

Environment overrides: ``SERVICEPOINT_DATABASE_URL``, ``SERVICEPOINT_MQTT_URL``,
``SERVICEPOINT_DATA_DIR``, ``SERVICEPOINT_SECRET_KEY``, ``SERVICEPOINT_ENVIRONMENT``, and for any
other key ``SERVICEPOINT_<SECTION>__<KEY>`` (for example ``SERVICEPOINT_HTTP__PORT=9000``).

What is an error, and for whom:
  - a top-level key or section that no app reads (``[kiosks]``): every app refuses it;
  - a section another app owns (``[database]`` for the kiosk): this app does not read it;
  - a misspelt key inside a section this app owns (``[kiosk] idle_secs``): this app refuses it;
  - keys of a section another app owns, of which this app reads one or two (the kiosk reads
    ``security.kiosk_key``): only the owner checks the others.

A bad value raises :class:`~foundation.errors.ConfigError` naming the key::

    settings = load_app_settings(MyAppSettings, env={"SERVICEPOINT_MQTT_URL": "mqtt://pi:1883"})
    refuse_weak_secrets(settings, Secret("security.kiosk_key", settings.security.kiosk_key,
                                         DEVELOPMENT_KIOSK_KEY, "SERVICEPOINT_SECURITY__KIOSK_KEY"))

In production a secret must be neither the placeholder the code ships nor shorter than
:data:`MIN_SECRET_LENGTH`; :func:`refuse_weak_secrets` names every one that is.
"""

from __future__ import annotations

import os
import tomllib
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from foundation.errors import ConfigError

__all__ = [
    "DEVELOPMENT_KIOSK_KEY",
    "FILE_KEYS",
    "MIN_SECRET_LENGTH",
    "SITE_TIMEZONE",
    "AppSettings",
    "BorrowedSection",
    "BrokerAddress",
    "MqttSettings",
    "PublicUrl",
    "Section",
    "SiteSettings",
    "find_config_file",
    "load_app_settings",
    "parse_mqtt_url",
    "Secret",
    "refuse_weak_secrets",
    "weak_secrets",
]

# The kiosk sends this key and the server checks it: both refuse the placeholder in production.
DEVELOPMENT_KIOSK_KEY = "development-kiosk-key"
# The time zone of a site whose settings do not name one (the project's home, Changsha).
SITE_TIMEZONE = "Asia/Shanghai"
# In production no secret (session key, kiosk key) may be shorter: the installer makes 32 or more.
MIN_SECRET_LENGTH = 16

# Every top-level key and section of the shared file, whichever app reads it. A key outside this
# list is a typo every app refuses; a section in it that an app does not read, it ignores.
FILE_KEYS = frozenset({
    "environment", "data_dir", "categories_file", "sensors_file",
    "site", "database", "mqtt", "http", "security", "kiosk", "ingest",
    "attachments", "retention",
})

Environment = Literal["development", "production", "test"]


def _public_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/")


# The address phones reach the server at (printed in QR codes): the server serves it and the
# kiosk prints it, so both read it with this one check.
PublicUrl = Annotated[str, AfterValidator(_public_url)]


class Section(BaseModel):
    """A section an app owns: a key it does not know is a typo."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class BorrowedSection(BaseModel):
    """An app's view of a few keys of a section another app owns; that app checks the rest."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class SiteSettings(Section):
    id: str = Field(default="site-01", pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    name_zh: str = "社区服务站"
    name_en: str = "Community Service Point"
    timezone: str = SITE_TIMEZONE
    phone: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        # Checked here, where it is set, so the error names servicepoint.toml and not the
        # first file that happens to use it (rules.toml, alerts.toml).
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (for example Asia/Shanghai)") from None
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


class MqttSettings(Section):
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


class AppSettings(BaseModel):
    """What every app's settings have: the environment, the data folder and the site.

    An app's class adds the sections it reads; the sections it does not name are other apps'
    and are ignored here (the top-level keys are checked against :data:`FILE_KEYS` instead).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    environment: Environment = "development"
    data_dir: Path = Path("data")
    site: SiteSettings = SiteSettings()
    source: str | None = Field(default=None, exclude=True)


_NAMED_OVERRIDES = {
    "SERVICEPOINT_DATABASE_URL": ("database", "url"),
    "SERVICEPOINT_MQTT_URL": ("mqtt", "url"),
    "SERVICEPOINT_DATA_DIR": ("data_dir",),
    "SERVICEPOINT_SECRET_KEY": ("security", "secret_key"),
    "SERVICEPOINT_ENVIRONMENT": ("environment",),
}

AppSettingsT = TypeVar("AppSettingsT", bound=AppSettings)


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


def _is_path(annotation: Any) -> bool:
    if annotation is Path:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return any(arg is Path for arg in get_args(annotation))
    return False


def _path_fields(model: type[BaseModel],
                 prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Path | None]]:
    """(dotted key, default) of every Path setting of ``model``, nested sections included."""
    found: list[tuple[tuple[str, ...], Path | None]] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found.extend(_path_fields(annotation, (*prefix, name)))
        elif _is_path(annotation):
            found.append(((*prefix, name), info.default))
    return found


def _read_tree(config_path: Path | None, env: Mapping[str, str]) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    source = str(config_path) if config_path else None
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
    unknown = sorted(set(raw) - FILE_KEYS)
    if unknown:
        raise ConfigError(unknown[0], "is not a known setting", source)
    return raw


def load_app_settings(
    cls: type[AppSettingsT], path: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> AppSettingsT:
    """Build ``cls`` from the TOML file and the environment; raise ConfigError on a bad key.

    Every ``Path`` setting of ``cls`` that is relative (in the file, or as a default such as
    ``rules.toml``) is taken relative to the file's folder; ``data_dir`` defaults to ``data``
    beside the file's folder (``config/../data`` in a checkout).
    """
    env = os.environ if env is None else env
    config_path = Path(path) if path is not None else find_config_file(env)
    source = str(config_path) if config_path else None
    base = config_path.resolve().parent if config_path else Path.cwd()
    raw = _read_tree(config_path, env)
    for keys, default in _path_fields(cls):
        if keys == ("data_dir",):
            continue
        if any(not isinstance(_get(raw, keys[:depth]), Mapping | None)
               for depth in range(1, len(keys))):
            continue  # a section that is not a table: validation names it below
        value = _get(raw, keys)
        if isinstance(value, str) and value and not Path(value).is_absolute():
            _set(raw, keys, str((base / value).resolve()))
        elif value is None and isinstance(default, Path) and not default.is_absolute():
            _set(raw, keys, str(base / default))
    data_dir = _get(raw, ("data_dir",))
    if data_dir is None:
        _set(raw, ("data_dir",), str((base / "data").resolve() if config_path is None
                                     else (base.parent / "data").resolve()))
    elif isinstance(data_dir, str) and data_dir and not Path(data_dir).is_absolute():
        _set(raw, ("data_dir",), str((base / data_dir).resolve()))
    try:
        settings = cls.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(file)"
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = "is not a known setting"
        raise ConfigError(key, message, source) from None
    return settings.model_copy(update={"source": source})


@dataclass(frozen=True)
class Secret:
    """A secret setting as production checks it: ``key`` is its dotted name, ``variable`` where
    an installer sets it, ``placeholder`` the value the code ships (known to everyone)."""

    key: str
    value: str
    placeholder: str
    variable: str
    min_length: int = MIN_SECRET_LENGTH


def weak_secrets(secrets: Iterable[Secret]) -> list[tuple[str, str]]:
    """(key, what is wrong) of each secret that is the shipped placeholder or too short."""
    found: list[tuple[str, str]] = []
    for secret in secrets:
        if secret.value == secret.placeholder:
            found.append((secret.key, f"still has the development placeholder; set "
                                      f"{secret.variable}"))
        elif len(secret.value) < secret.min_length:
            found.append((secret.key, f"is shorter than {secret.min_length} characters; set a "
                                      f"longer one in {secret.variable}"))
    return found


def refuse_weak_secrets(settings: AppSettings, *secrets: Secret) -> None:
    """In production, stop on a placeholder or short secret; the one error names every one.

    Development and tests keep the placeholders, so a checkout runs with no set-up.
    """
    if settings.environment != "production":
        return
    found = weak_secrets(secrets)
    if found:
        (key, message), rest = found[0], found[1:]
        raise ConfigError(key, message + "".join(f"; {k}: {m}" for k, m in rest),
                          settings.source)
