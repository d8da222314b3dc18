"""Typed rule thresholds, loaded from ``config/rules.toml``; a bad key fails fast by name.

The server builds this once at start-up and hands it to every evaluation::

    config = load_rules_config("config/rules.toml", timezone=settings.site.timezone)
    config.tank_rules("tank-2").low_raise_percent

Per-asset overrides (``[tank.overrides."tank-2"]``) are merged over the site-wide section and
validated at load time, so a bad override is reported as ``tank.overrides.tank-2.<key>``.
The timezone (the site's, from ``servicepoint.toml``) decides which calendar day "today" is for
the schedules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from foundation.errors import ConfigError
from foundation.tomlfile import read_toml
from server.rules.conditions import DEFAULT_SEVERITY, Condition, Severity
from server.rules.observations import ExtinguisherType

__all__ = [
    "ExtinguisherAges",
    "ExtinguisherRules",
    "NodeRules",
    "RulesConfig",
    "TankRules",
    "Timing",
    "load_rules_config",
    "rules_config_from_mapping",
]


@dataclass(frozen=True)
class Timing:
    """How long a signal must hold before its condition is raised, and before it clears."""

    raise_after: timedelta
    clear_after: timedelta


def _seconds(default: float) -> Any:
    # Up to 30 days: longer than that is a typo, not a debounce.
    return Field(default=default, ge=0, le=30 * 24 * 3600)


class _Section(BaseModel):
    # validate_default: a cross-field check must also run when only the other field was set.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _must_exceed(other: str, value: float, info: ValidationInfo) -> None:
    if other in info.data and not value > info.data[other]:
        raise ValueError(f"must be above {other} ({info.data[other]}) for hysteresis")


def _must_undercut(other: str, value: float, info: ValidationInfo) -> None:
    if other in info.data and not value < info.data[other]:
        raise ValueError(f"must be below {other} ({info.data[other]}) for hysteresis")


class TankRules(_Section):
    low_raise_percent: float = Field(default=20.0, ge=0, le=100)
    low_clear_percent: float = Field(default=25.0, ge=0, le=100)
    high_raise_percent: float = Field(default=90.0, ge=0, le=100)
    high_clear_percent: float = Field(default=85.0, ge=0, le=100)
    overflow_raise_percent: float = Field(default=98.0, ge=0, le=100)
    overflow_clear_percent: float = Field(default=95.0, ge=0, le=100)
    level_raise_after_s: float = _seconds(120)
    level_clear_after_s: float = _seconds(300)
    overflow_raise_after_s: float = _seconds(10)
    overflow_clear_after_s: float = _seconds(300)
    turbidity_raise_ntu: float = Field(default=1.0, gt=0, le=1000)
    turbidity_clear_ntu: float = Field(default=0.8, ge=0, le=1000)
    turbidity_raise_after_s: float = _seconds(6 * 3600)
    turbidity_clear_after_s: float = _seconds(3600)
    cleaning_interval_days: int = Field(default=180, ge=90, le=365)
    cleaning_lead_days: int = Field(default=14, ge=0, le=89)
    water_test_within_days: int = Field(default=30, ge=0, le=365)


    @field_validator("low_clear_percent")
    @classmethod
    def _low_band(cls, value: float, info: ValidationInfo) -> float:
        _must_exceed("low_raise_percent", value, info)
        return value

    @field_validator("high_raise_percent")
    @classmethod
    def _high_above_low(cls, value: float, info: ValidationInfo) -> float:
        _must_exceed("low_clear_percent", value, info)
        return value

    @field_validator("high_clear_percent")
    @classmethod
    def _high_band(cls, value: float, info: ValidationInfo) -> float:
        _must_undercut("high_raise_percent", value, info)
        return value

    @field_validator("overflow_clear_percent")
    @classmethod
    def _overflow_band(cls, value: float, info: ValidationInfo) -> float:
        _must_undercut("overflow_raise_percent", value, info)
        return value

    @field_validator("turbidity_clear_ntu")
    @classmethod
    def _turbidity_band(cls, value: float, info: ValidationInfo) -> float:
        _must_undercut("turbidity_raise_ntu", value, info)
        return value

    @property
    def level_timing(self) -> Timing:
        return _timing(self.level_raise_after_s, self.level_clear_after_s)

    @property
    def overflow_timing(self) -> Timing:
        return _timing(self.overflow_raise_after_s, self.overflow_clear_after_s)

    @property
    def turbidity_timing(self) -> Timing:
        return _timing(self.turbidity_raise_after_s, self.turbidity_clear_after_s)


class ExtinguisherRules(_Section):
    missing_raise_after_s: float = _seconds(600)
    missing_clear_after_s: float = _seconds(30)
    pressure_raise_after_s: float = _seconds(300)
    pressure_clear_after_s: float = _seconds(300)
    door_raise_after_s: float = _seconds(600)
    door_clear_after_s: float = _seconds(30)
    inspection_every_months: int = Field(default=1, ge=1, le=12)
    inspection_lead_days: int = Field(default=3, ge=0, le=27)
    maintenance_lead_days: int = Field(default=30, ge=0, le=365)
    scrap_lead_days: int = Field(default=60, ge=0, le=365)


    @property
    def missing_timing(self) -> Timing:
        return _timing(self.missing_raise_after_s, self.missing_clear_after_s)

    @property
    def pressure_timing(self) -> Timing:
        return _timing(self.pressure_raise_after_s, self.pressure_clear_after_s)

    @property
    def door_timing(self) -> Timing:
        return _timing(self.door_raise_after_s, self.door_clear_after_s)


class ExtinguisherAges(_Section):
    """GA 95 ages in whole years for one extinguisher type."""

    first_maintenance_years: int = Field(ge=1, le=30)
    maintenance_every_years: int = Field(ge=1, le=30)
    scrap_years: int = Field(ge=1, le=30)

    @field_validator("scrap_years")
    @classmethod
    def _after_first(cls, value: int, info: ValidationInfo) -> int:
        first = info.data.get("first_maintenance_years")
        if first is not None and value <= first:
            raise ValueError(f"must be above first_maintenance_years ({first})")
        return value


# GA 95-2015 as the brief cites it. Clean agent (洁净气体) has its own row there: 5 years to the
# first maintenance, then every 2, scrapped at 10, the same as dry powder.
DEFAULT_AGES: Mapping[ExtinguisherType, ExtinguisherAges] = {
    ExtinguisherType.WATER: ExtinguisherAges(
        first_maintenance_years=3, maintenance_every_years=1, scrap_years=6
    ),
    ExtinguisherType.DRY_POWDER: ExtinguisherAges(
        first_maintenance_years=5, maintenance_every_years=2, scrap_years=10
    ),
    ExtinguisherType.CO2: ExtinguisherAges(
        first_maintenance_years=5, maintenance_every_years=2, scrap_years=12
    ),
    ExtinguisherType.CLEAN_AGENT: ExtinguisherAges(
        first_maintenance_years=5, maintenance_every_years=2, scrap_years=10
    ),
}


class NodeRules(_Section):
    silence_factor: float = Field(default=3.0, ge=1, le=100)
    offline_raise_after_s: float = _seconds(60)
    offline_clear_after_s: float = _seconds(60)


    @property
    def offline_timing(self) -> Timing:
        return _timing(self.offline_raise_after_s, self.offline_clear_after_s)


def _timing(raise_after_s: float, clear_after_s: float) -> Timing:
    return Timing(timedelta(seconds=raise_after_s), timedelta(seconds=clear_after_s))


@dataclass(frozen=True)
class RulesConfig:
    """Everything the rules need to know besides the observations and the register."""

    tank: TankRules = field(default_factory=TankRules)
    extinguisher: ExtinguisherRules = field(default_factory=ExtinguisherRules)
    ages: Mapping[ExtinguisherType, ExtinguisherAges] = field(
        default_factory=lambda: dict(DEFAULT_AGES)
    )
    node: NodeRules = field(default_factory=NodeRules)
    severity: Mapping[Condition, Severity] = field(default_factory=lambda: dict(DEFAULT_SEVERITY))
    tank_overrides: Mapping[str, TankRules] = field(default_factory=dict)
    extinguisher_overrides: Mapping[str, ExtinguisherRules] = field(default_factory=dict)
    timezone: str = field(kw_only=True)  # the site's (settings.site.timezone): no default
    source: str | None = None

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                "timezone", f"unknown timezone {self.timezone!r}", self.source
            ) from None

    def tank_rules(self, asset_id: str) -> TankRules:
        return self.tank_overrides.get(asset_id, self.tank)

    def with_tank_levels(self, levels: Mapping[str, Mapping[str, float]]) -> RulesConfig:
        """This config with each tank's level alarm lines as staff set them in the register
        (``{"tank-1": {"low_raise_percent": 30.0, ...}}``), over the file's; an impossible set
        (a clear line on the wrong side of its raise line) is a ConfigError naming the tank."""
        if not levels:
            return self
        merged = dict(self.tank_overrides)
        for asset_id, patch in levels.items():
            base = self.tank_rules(asset_id)
            merged[asset_id] = _section(TankRules, {**base.model_dump(), **patch},
                                        f"tanks.{asset_id}", "the register")
        return replace(self, tank_overrides=merged)

    def extinguisher_rules(self, asset_id: str) -> ExtinguisherRules:
        return self.extinguisher_overrides.get(asset_id, self.extinguisher)

    def severity_of(self, condition: Condition) -> Severity:
        return self.severity.get(condition, DEFAULT_SEVERITY[condition])

    def local_date(self, now: datetime) -> date:
        """The calendar day at the site at ``now`` (schedules count whole local days)."""
        return now.astimezone(ZoneInfo(self.timezone)).date()


_M = TypeVar("_M", bound=BaseModel)


def _raise_config_error(exc: ValidationError, prefix: str, source: str | None) -> NoReturn:
    first = exc.errors()[0]
    key = ".".join([prefix, *(str(part) for part in first["loc"])])
    message = "is not a known setting" if first["type"] == "extra_forbidden" else first["msg"]
    raise ConfigError(key, message, source) from None


def _table(raw: Mapping[str, Any], key: str, prefix: str, source: str | None) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{prefix}{key}", "must be a table", source)
    return dict(value)


def _section(
    model: type[_M], raw: Mapping[str, Any], prefix: str, source: str | None
) -> _M:
    try:
        return model(**raw)
    except ValidationError as exc:
        _raise_config_error(exc, prefix, source)


def _overrides(
    model: type[_M], base: _M, raw: Mapping[str, Any], prefix: str, source: str | None
) -> dict[str, _M]:
    merged: dict[str, _M] = {}
    for asset_id, patch in raw.items():
        if not isinstance(patch, Mapping):
            raise ConfigError(f"{prefix}.{asset_id}", "must be a table", source)
        merged[asset_id] = _section(
            model, {**base.model_dump(), **patch}, f"{prefix}.{asset_id}", source
        )
    return merged


def rules_config_from_mapping(
    raw: Mapping[str, Any], *, timezone: str, source: str | None = None
) -> RulesConfig:
    """Build the config from parsed TOML (tests use this with a dict)."""
    known = {"tank", "extinguisher", "node", "severity"}
    for key in raw:
        if key not in known:
            raise ConfigError(key, "is not a known setting", source)

    tank_raw = _table(raw, "tank", "", source)
    tank_overrides_raw = _table(tank_raw, "overrides", "tank.", source)
    tank_raw.pop("overrides", None)
    tank = _section(TankRules, tank_raw, "tank", source)

    ext_raw = _table(raw, "extinguisher", "", source)
    ext_overrides_raw = _table(ext_raw, "overrides", "extinguisher.", source)
    ages_raw = _table(ext_raw, "ages", "extinguisher.", source)
    ext_raw.pop("overrides", None)
    ext_raw.pop("ages", None)
    extinguisher = _section(ExtinguisherRules, ext_raw, "extinguisher", source)

    ages = dict(DEFAULT_AGES)
    for type_name, ages_table in ages_raw.items():
        try:
            kind = ExtinguisherType(type_name)
        except ValueError:
            raise ConfigError(
                f"extinguisher.ages.{type_name}",
                f"is not an extinguisher type ({', '.join(t.value for t in ExtinguisherType)})",
                source,
            ) from None
        if not isinstance(ages_table, Mapping):
            raise ConfigError(f"extinguisher.ages.{type_name}", "must be a table", source)
        ages[kind] = _section(
            ExtinguisherAges,
            {**DEFAULT_AGES[kind].model_dump(), **ages_table},
            f"extinguisher.ages.{type_name}",
            source,
        )

    node = _section(NodeRules, _table(raw, "node", "", source), "node", source)

    severity = dict(DEFAULT_SEVERITY)
    for name, value in _table(raw, "severity", "", source).items():
        try:
            severity[Condition(name)] = Severity(value)
        except ValueError:
            raise ConfigError(
                f"severity.{name}",
                "must name a condition and be \"urgent\" or \"normal\"",
                source,
            ) from None

    return RulesConfig(
        tank=tank,
        extinguisher=extinguisher,
        ages=ages,
        node=node,
        severity=severity,
        tank_overrides=_overrides(TankRules, tank, tank_overrides_raw, "tank.overrides", source),
        extinguisher_overrides=_overrides(
            ExtinguisherRules, extinguisher, ext_overrides_raw, "extinguisher.overrides", source
        ),
        timezone=timezone,
        source=source,
    )


def load_rules_config(
    path: Path | str | None = None, *, timezone: str
) -> RulesConfig:
    """Read ``config/rules.toml`` (None: the built-in defaults); raise ConfigError on a bad key."""
    if path is None:
        return RulesConfig(timezone=timezone)
    source = str(path)
    raw = read_toml(path, key='ingest.rules_file')
    return rules_config_from_mapping(raw, timezone=timezone, source=source)
