"""Typed alert settings from ``config/alerts.toml``; a bad key fails fast by name.

::

    config = load_alerts_config("config/alerts.toml", timezone=settings.site.timezone,
                                require_secrets=settings.environment == "production")
    config.recipients("site-01", level=0, urgent=True)
    config.ladder(urgent=True).after_minutes
    config.staff_after                # an unaccepted request reaches the duty staff this late

Channel URLs come from the environment variables the file names (``url_env``); the file itself
never holds one. With ``require_secrets`` a missing variable is a :class:`ConfigError`; without
it (development, tests) that channel is skipped with a warning.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from foundation.errors import ConfigError
from foundation.tomlfile import read_toml
from server.alerts.model import Recipient
from server.alerts.policy import (
    EscalationLadder,
    QuietHours,
    RetryPolicy,
    recipients_for_level,
)

__all__ = ["AlertsConfig", "alerts_config_from_mapping", "load_alerts_config"]

logger = logging.getLogger(__name__)

_ID = r"^[a-z0-9][a-z0-9_-]{0,39}$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _QuietHoursFile(_Section):
    start: time = time(22, 0)
    end: time = time(7, 0)


class _EscalationFile(_Section):
    urgent_after_minutes: list[int] = Field(default=[0, 10, 30], min_length=1, max_length=10)
    normal_after_minutes: list[int] = Field(default=[0, 240, 1440], min_length=1, max_length=10)

    @field_validator("urgent_after_minutes", "normal_after_minutes")
    @classmethod
    def _non_decreasing(cls, value: list[int]) -> list[int]:
        if value[0] < 0 or any(b < a for a, b in zip(value, value[1:], strict=False)):
            raise ValueError("must start at 0 or later and never go down")
        return value


class _RetryFile(_Section):
    first_delay_s: float = Field(default=30.0, gt=0, le=3600)
    factor: float = Field(default=2.0, ge=1, le=10)
    max_delay_s: float = Field(default=1800.0, gt=0, le=24 * 3600)
    max_attempts: int = Field(default=8, ge=1, le=100)
    jitter: float = Field(default=0.2, ge=0, lt=1)


class _ChannelFile(_Section):
    name: str = Field(pattern=_ID)
    url_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")


class _StaffFile(_Section):
    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1, max_length=60)
    level: int = Field(default=0, ge=0, le=9)
    urgent_only: bool = False
    channels: list[_ChannelFile] = Field(min_length=1)


class _SiteFile(_Section):
    staff: list[_StaffFile] = Field(default_factory=list)


class _RequestsFile(_Section):
    staff_after_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    resident_sms_url_env: str = Field(default="", pattern=r"^([A-Z][A-Z0-9_]*)?$")


class _AlertsFile(_Section):
    quiet_hours: _QuietHoursFile = _QuietHoursFile()
    requests: _RequestsFile = _RequestsFile()
    escalation: _EscalationFile = _EscalationFile()
    retry: _RetryFile = _RetryFile()
    sites: dict[str, _SiteFile] = Field(default_factory=dict)


@dataclass(frozen=True)
class AlertsConfig:
    quiet_hours: QuietHours  # in the site's time zone, which the config is loaded for
    urgent_ladder: EscalationLadder = EscalationLadder((0, 10, 30))
    normal_ladder: EscalationLadder = EscalationLadder((0, 240, 1440))
    retry: RetryPolicy = RetryPolicy()
    sites: Mapping[str, tuple[Recipient, ...]] = field(default_factory=dict)
    source: str | None = None
    # Resident requests: how long after its target time an unaccepted request, already told to
    # its squad leader, goes to the duty staff (then up the ladder); and the Apprise URL, with
    # {phone}, of the SMS telling a resident their request is done (None: nobody is texted).
    staff_after: timedelta = timedelta(minutes=60)
    resident_sms_url: str | None = field(default=None, repr=False)

    def ladder(self, urgent: bool) -> EscalationLadder:
        return self.urgent_ladder if urgent else self.normal_ladder

    def recipients(self, site_id: str, *, level: int, urgent: bool) -> tuple[Recipient, ...]:
        """Who hears level ``level`` of an alert at ``site_id`` (empty for an unknown site)."""
        return recipients_for_level(self.sites.get(site_id, ()), level=level, urgent=urgent)


def _key_of(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key or "(file)"


def alerts_config_from_mapping(
    raw: Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    timezone: str,
    require_secrets: bool = True,
    source: str | None = None,
) -> AlertsConfig:
    """Build the config from parsed TOML and the environment (tests pass both as dicts)."""
    env = os.environ if env is None else env
    for site_id, site in (raw.get("sites") or {}).items():
        for i, staff in enumerate((site or {}).get("staff") or []):
            for j, channel in enumerate((staff or {}).get("channels") or []):
                if isinstance(channel, Mapping) and "url" in channel:
                    raise ConfigError(
                        f"sites.{site_id}.staff[{i}].channels[{j}].url",
                        "secrets never go in this file: put the URL in an environment variable "
                        "and name it with url_env",
                        source,
                    )
    try:
        parsed = _AlertsFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = "is not a known setting" if first["type"] == "extra_forbidden" else first["msg"]
        raise ConfigError(_key_of(tuple(first["loc"])), message, source) from None
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("timezone", f"unknown timezone {timezone!r}", source) from None

    ladders = (parsed.escalation.urgent_after_minutes, parsed.escalation.normal_after_minutes)
    levels = min(len(ladder) for ladder in ladders)
    sites: dict[str, tuple[Recipient, ...]] = {}
    for site_id, site in parsed.sites.items():
        recipients: list[Recipient] = []
        seen: set[str] = set()
        for i, staff in enumerate(site.staff):
            prefix = f"sites.{site_id}.staff[{i}]"
            if staff.id in seen:
                raise ConfigError(f"{prefix}.id", f"{staff.id!r} is listed twice", source)
            seen.add(staff.id)
            if staff.level >= levels:
                raise ConfigError(f"{prefix}.level",
                                  f"the escalation ladders have only levels 0..{levels - 1}",
                                  source)
            for j, channel in enumerate(staff.channels):
                url = env.get(channel.url_env, "").strip()
                if not url:
                    if require_secrets:
                        raise ConfigError(f"{prefix}.channels[{j}].url_env",
                                          f"environment variable {channel.url_env} is not set",
                                          source)
                    logger.warning("alerts: %s/%s skipped: %s is not set",
                                   staff.id, channel.name, channel.url_env)
                    continue
                if "://" not in url:
                    raise ConfigError(f"{prefix}.channels[{j}].url_env",
                                      f"{channel.url_env} does not hold a notification URL "
                                      "(scheme://...)", source)
                recipients.append(Recipient(staff_id=staff.id, name=staff.name,
                                            channel=channel.name, url=url, level=staff.level,
                                            urgent_only=staff.urgent_only))
        sites[site_id] = tuple(recipients)

    resident_sms_url = None
    sms_env = parsed.requests.resident_sms_url_env
    if sms_env:
        resident_sms_url = env.get(sms_env, "").strip() or None
        if resident_sms_url is None:
            logger.info("alerts: residents are not texted: %s is not set", sms_env)
        elif "{phone}" not in resident_sms_url or "://" not in resident_sms_url:
            raise ConfigError("requests.resident_sms_url_env",
                              f"{sms_env} must hold a notification URL (scheme://...) with "
                              "{phone} where the resident's number goes", source)
    retry = parsed.retry
    if retry.max_delay_s < retry.first_delay_s:
        raise ConfigError("retry.max_delay_s", "must be at least first_delay_s", source)
    return AlertsConfig(
        quiet_hours=QuietHours(parsed.quiet_hours.start, parsed.quiet_hours.end, timezone),
        urgent_ladder=EscalationLadder(tuple(parsed.escalation.urgent_after_minutes)),
        normal_ladder=EscalationLadder(tuple(parsed.escalation.normal_after_minutes)),
        retry=RetryPolicy(first_delay_s=retry.first_delay_s, factor=retry.factor,
                          max_delay_s=retry.max_delay_s, max_attempts=retry.max_attempts,
                          jitter=retry.jitter),
        sites=sites,
        source=source,
        staff_after=timedelta(minutes=parsed.requests.staff_after_minutes),
        resident_sms_url=resident_sms_url,
    )


def load_alerts_config(
    path: Path | str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    timezone: str,
    require_secrets: bool = True,
) -> AlertsConfig:
    """Read ``config/alerts.toml`` (None: defaults, nobody to alert); ConfigError on a bad key."""
    if path is None:
        return alerts_config_from_mapping({}, env=env, timezone=timezone)
    source = str(path)
    raw = read_toml(path, key='ingest.alerts_file')
    return alerts_config_from_mapping(raw, env=env, timezone=timezone,
                                      require_secrets=require_secrets, source=source)
