"""The conditions the rules raise, and the changes they report.

A condition is named per asset kind, matching what ``GET /api/v1/site/status`` lists
(``"low_level"`` on a tank, ``"missing"`` on an extinguisher bay). An asset id plus a condition
names one thing that can be raised at most once at a time; the ticket layer keeps one open
ticket per pair (:func:`open_key`) and, for schedule conditions, one ticket per ``due_key``.

This module owns the words for each condition: a short name for a badge (:func:`name_of`) and a
title for a ticket or an alert (:func:`title_of`), both in zh_CN and English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Final

__all__ = [
    "CLEANING_CONDITIONS",
    "ChangeKind",
    "Condition",
    "ConditionChange",
    "DueCondition",
    "Evidence",
    "Severity",
    "name_of",
    "open_key",
    "title_of",
]

# Evidence is a flat JSON-friendly mapping, stored with the ticket event as it is.
Evidence = Mapping[str, float | int | bool | str | None]


class Condition(StrEnum):
    # Tank, from readings.
    LOW_LEVEL = "low_level"
    HIGH_LEVEL = "high_level"
    OVERFLOW = "overflow"
    TURBIDITY_HIGH = "turbidity_high"
    # Tank, from the register.
    CLEANING_DUE = "cleaning_due"
    # Extinguisher bay, from readings.
    MISSING = "missing"
    PRESSURE_LOW = "pressure_low"
    DOOR_OPEN = "door_open"
    # Extinguisher, from the register.
    INSPECTION_DUE = "inspection_due"
    MAINTENANCE_DUE = "maintenance_due"
    SCRAP_DUE = "scrap_due"
    # Sensor node.
    OFFLINE = "offline"


# The conditions a tank cleaning (and its water test) puts right.
CLEANING_CONDITIONS: Final = frozenset({Condition.CLEANING_DUE, Condition.TURBIDITY_HIGH})


def open_key(asset_id: str, condition: Condition | str) -> str:
    """The one-open-ticket key of a condition on an asset, ``asset|condition``."""
    return f"{asset_id}|{condition}"


class Severity(StrEnum):
    """Urgent alerts go out at once, even in quiet hours; normal ones wait for the morning."""

    URGENT = "urgent"
    NORMAL = "normal"


class ChangeKind(StrEnum):
    RAISED = "raised"
    PRESENT = "present"  # still raised; carries fresh evidence
    CLEARED = "cleared"


# Defaults; config/rules.toml [severity] may change any of them.
DEFAULT_SEVERITY: Mapping[Condition, Severity] = {
    Condition.LOW_LEVEL: Severity.NORMAL,
    Condition.HIGH_LEVEL: Severity.NORMAL,
    Condition.OVERFLOW: Severity.URGENT,
    Condition.TURBIDITY_HIGH: Severity.NORMAL,
    Condition.CLEANING_DUE: Severity.NORMAL,
    Condition.MISSING: Severity.URGENT,
    Condition.PRESSURE_LOW: Severity.NORMAL,
    Condition.DOOR_OPEN: Severity.NORMAL,
    Condition.INSPECTION_DUE: Severity.NORMAL,
    Condition.MAINTENANCE_DUE: Severity.NORMAL,
    Condition.SCRAP_DUE: Severity.NORMAL,
    Condition.OFFLINE: Severity.NORMAL,
}

_TITLES: Mapping[Condition, tuple[str, str]] = {
    Condition.LOW_LEVEL: ("蓄水池水位过低", "Tank level low"),
    Condition.HIGH_LEVEL: ("蓄水池水位过高", "Tank level high"),
    Condition.OVERFLOW: ("蓄水池溢流", "Tank overflowing"),
    Condition.TURBIDITY_HIGH: (
        "蓄水池水质浑浊，需提前清洗消毒",
        "Tank water turbid: clean and disinfect early",
    ),
    Condition.CLEANING_DUE: ("蓄水池清洗消毒到期", "Tank cleaning and disinfection due"),
    Condition.MISSING: ("灭火器不在挂架上", "Extinguisher missing from its bracket"),
    Condition.PRESSURE_LOW: ("灭火器压力不在绿区", "Extinguisher gauge out of the green zone"),
    Condition.DOOR_OPEN: ("灭火器箱门未关", "Extinguisher cabinet door left open"),
    Condition.INSPECTION_DUE: ("灭火器月度检查到期", "Monthly extinguisher inspection due"),
    Condition.MAINTENANCE_DUE: ("灭火器送修到期", "Extinguisher due for maintenance"),
    Condition.SCRAP_DUE: ("灭火器到期报废", "Extinguisher due to be scrapped"),
    Condition.OFFLINE: ("传感器节点离线", "Sensor node offline"),
}

_OVERDUE_TITLES: Mapping[Condition, tuple[str, str]] = {
    Condition.CLEANING_DUE: ("蓄水池清洗消毒已逾期", "Tank cleaning and disinfection overdue"),
    Condition.INSPECTION_DUE: ("灭火器月度检查已逾期", "Monthly extinguisher inspection overdue"),
    Condition.MAINTENANCE_DUE: ("灭火器送修已逾期", "Extinguisher maintenance overdue"),
    Condition.SCRAP_DUE: ("灭火器已过报废年限", "Extinguisher past its scrap age"),
}


_NAMES: Mapping[Condition, tuple[str, str]] = {
    Condition.LOW_LEVEL: ("低水位", "Low level"),
    Condition.HIGH_LEVEL: ("高水位", "High level"),
    Condition.OVERFLOW: ("溢流", "Overflow"),
    Condition.TURBIDITY_HIGH: ("浊度偏高", "Turbidity high"),
    Condition.CLEANING_DUE: ("到期需清洗消毒", "Cleaning due"),
    Condition.MISSING: ("灭火器不在位", "Extinguisher missing"),
    Condition.PRESSURE_LOW: ("压力不在绿区", "Gauge out of green"),
    Condition.DOOR_OPEN: ("箱门打开", "Cabinet door open"),
    Condition.INSPECTION_DUE: ("需月度检查", "Monthly check due"),
    Condition.MAINTENANCE_DUE: ("需送修保养", "Maintenance due"),
    Condition.SCRAP_DUE: ("需报废更换", "Scrap due"),
    Condition.OFFLINE: ("离线", "Offline"),
}


def name_of(condition: Condition) -> tuple[str, str]:
    """The short (zh_CN, en) name of a condition, for a badge beside its asset."""
    return _NAMES[condition]


def title_of(condition: Condition, *, overdue: bool = False) -> tuple[str, str]:
    """The (zh_CN, en) title of a condition."""
    if overdue and condition in _OVERDUE_TITLES:
        return _OVERDUE_TITLES[condition]
    return _TITLES[condition]


@dataclass(frozen=True)
class ConditionChange:
    """A condition on an asset was raised, is still present (with fresh evidence), or cleared.

    ``at`` is the time of the evaluation that decided it; ``since`` is when the signal
    started (for a raise) or stopped (for a clear), so a ticket can say "low since 09:12".
    """

    asset_id: str
    condition: Condition
    kind: ChangeKind
    severity: Severity
    at: datetime
    since: datetime
    evidence: Evidence = field(default_factory=dict)

    @property
    def urgent(self) -> bool:
        return self.severity is Severity.URGENT

    @property
    def title_zh(self) -> str:
        return title_of(self.condition)[0]

    @property
    def title_en(self) -> str:
        return title_of(self.condition)[1]

    @property
    def open_key(self) -> str:
        """The ticket layer's one-open-ticket key (see :func:`open_key`)."""
        return open_key(self.asset_id, self.condition)


@dataclass(frozen=True)
class DueCondition:
    """A schedule condition that is due now (or inside its lead window).

    ``due_key`` is globally unique (``asset|condition|due date``): the scheduler creates a ticket
    only when no ticket carries this key yet, so re-running the schedule never raises a second
    ticket for the same due date. ``due_on`` is None when the register has no date to count from
    (never cleaned, never inspected); its key then ends in ``unrecorded``.
    """

    asset_id: str
    condition: Condition
    severity: Severity
    due_on: date | None
    due_key: str
    overdue: bool
    evidence: Evidence = field(default_factory=dict)

    @property
    def urgent(self) -> bool:
        return self.severity is Severity.URGENT

    @property
    def open_key(self) -> str:
        """The ticket layer's one-open-ticket key (see :func:`open_key`)."""
        return open_key(self.asset_id, self.condition)

    @property
    def title_zh(self) -> str:
        return title_of(self.condition, overdue=self.overdue)[0]

    @property
    def title_en(self) -> str:
        return title_of(self.condition, overdue=self.overdue)[1]
