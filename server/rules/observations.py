"""What the rules engine reads: observations from the sensor node and facts from the register.

These are the server's own small frozen dataclasses. The MQTT ingest maps the wire contract
(``sensors.contract``) onto them, and the asset register (database) maps its rows onto the
``*Record`` classes, so the rules never see a paho message or an ORM object::

    reading = TankReading("tank-1", at=now, level_percent=18.5, overflow_float_up=False)
    state, changes = evaluate_tank(state, reading, now=now, config=config)

Every field a sensor may not have fitted is optional: ``None`` means "unknown", and an unknown
signal neither raises nor clears a condition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from server.rules.errors import RulesError

__all__ = [
    "ExtinguisherBayReading",
    "ExtinguisherRecord",
    "ExtinguisherType",
    "NodeStatus",
    "TankReading",
    "TankRecord",
    "WaterTest",
]


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise RulesError(f"{name} must be timezone-aware, got {value.isoformat()}")


def _finite(name: str, value: float | None) -> None:
    if value is not None and not math.isfinite(value):
        raise RulesError(f"{name} must be a finite number, got {value!r}")


@dataclass(frozen=True)
class TankReading:
    """One report from a secondary-water-supply storage tank (二次供水蓄水池).

    ``overflow_float_up`` is True when the water has lifted the overflow (high) float switch;
    ``low_float_down`` is True when the water has fallen below the low float switch.
    """

    asset_id: str
    at: datetime
    level_percent: float | None = None
    volume_l: float | None = None
    turbidity_ntu: float | None = None
    overflow_float_up: bool | None = None
    low_float_down: bool | None = None

    def __post_init__(self) -> None:
        _aware("TankReading.at", self.at)
        _finite("TankReading.level_percent", self.level_percent)
        _finite("TankReading.volume_l", self.volume_l)
        _finite("TankReading.turbidity_ntu", self.turbidity_ntu)


@dataclass(frozen=True)
class ExtinguisherBayReading:
    """One report from an extinguisher bay: bracket switch, gauge switch and cabinet door.

    ``pressure_ok`` is True while the gauge needle is in the green zone.
    """

    asset_id: str
    at: datetime
    present: bool | None = None
    pressure_ok: bool | None = None
    door_open: bool | None = None

    def __post_init__(self) -> None:
        _aware("ExtinguisherBayReading.at", self.at)


@dataclass(frozen=True)
class NodeStatus:
    """What the server knows about a sensor node's connection.

    ``online`` is the node's last availability message: False from its MQTT last will (or an
    explicit "offline"), True from its birth message, None if none was seen.
    ``availability_at`` is when that message arrived; ``last_state_at`` when any state message
    last arrived; ``report_interval_s`` how often the node promises to report.
    """

    node_id: str
    online: bool | None
    availability_at: datetime | None
    last_state_at: datetime | None
    report_interval_s: float

    def __post_init__(self) -> None:
        _aware("NodeStatus.availability_at", self.availability_at)
        _aware("NodeStatus.last_state_at", self.last_state_at)
        if not (math.isfinite(self.report_interval_s) and self.report_interval_s > 0):
            raise RulesError(
                f"NodeStatus.report_interval_s must be positive, got {self.report_interval_s!r}"
            )


@dataclass(frozen=True)
class TankRecord:
    """A tank's entry in the asset register.

    ``last_cleaned_on`` is the date of the last cleaning whose ticket was closed with a passed
    water test (the ticket layer records it only after :func:`can_close_cleaning` allows it), so
    the cleaning schedule runs from it. ``cleaning_interval_days`` overrides the configured
    interval for this tank (90..365); None uses the config.
    """

    asset_id: str
    last_cleaned_on: date | None = None
    last_passed_test_on: date | None = None
    cleaning_interval_days: int | None = None

    def __post_init__(self) -> None:
        days = self.cleaning_interval_days
        if days is not None and not 90 <= days <= 365:
            raise RulesError(
                f"tank {self.asset_id}: cleaning_interval_days must be 90..365, got {days}"
            )


class ExtinguisherType(StrEnum):
    """The agent, which sets the maintenance and scrap ages (GA 95)."""

    WATER = "water"
    DRY_POWDER = "dry_powder"
    CO2 = "co2"
    CLEAN_AGENT = "clean_agent"


@dataclass(frozen=True)
class ExtinguisherRecord:
    """An extinguisher's entry in the register (the unit, not the bay it hangs in)."""

    asset_id: str
    type: ExtinguisherType
    manufactured_on: date
    last_maintained_on: date | None = None
    last_inspected_on: date | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.type, ExtinguisherType):
            raise RulesError(f"extinguisher {self.asset_id}: unknown type {self.type!r}")
        for name in ("last_maintained_on", "last_inspected_on"):
            value = getattr(self, name)
            if value is not None and value < self.manufactured_on:
                raise RulesError(
                    f"extinguisher {self.asset_id}: {name} {value} is before manufacture "
                    f"{self.manufactured_on}"
                )


@dataclass(frozen=True)
class WaterTest:
    """A water-quality test after a cleaning: when the sample was taken and whether it passed."""

    tested_on: date
    passed: bool
    reference: str = ""
