"""Schedule rules: what the asset register says is due, as a pure function of (facts, now, config).

Nothing here keeps state. A daily job (and the dashboard) calls::

    for due in due_conditions(tanks=tanks, extinguishers=extinguishers, now=clock(), config=config):
        tickets.open_once(due)          # keyed by due.due_key, so never twice for one due date

Each :class:`DueCondition` carries ``due_key = "asset|condition|due date"``. Recording the work
(a cleaning, an inspection, a maintenance) moves the due date and so the key; the old ticket is
closed by that work, and the next due date gets its own ticket when it comes into its lead window.

Dates are whole local days at the site (``config.timezone``). Adding years to 29 February lands
on 28 February, and adding a month to 31 January on the last day of February: the earlier day,
because a late fire-safety date is worse than an early one.

:func:`can_close_cleaning` is the rule the ticket layer applies before closing a cleaning
ticket: it must carry a passed water test taken on or after the cleaning.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from server.rules.conditions import Condition, DueCondition
from server.rules.config import RulesConfig
from server.rules.observations import ExtinguisherRecord, TankRecord, WaterTest

__all__ = [
    "CloseRefusal",
    "add_months",
    "add_years",
    "can_close_cleaning",
    "cleaning_due_on",
    "cleaning_interval_days",
    "due_conditions",
    "extinguisher_schedule",
    "inspection_due_on",
    "maintenance_due_on",
    "scrap_on",
    "tank_schedule",
]

UNRECORDED = "unrecorded"


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months, clamped to the end of a shorter month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_years(day: date, years: int) -> date:
    """``day`` plus whole years; 29 February becomes 28 February in a common year."""
    return add_months(day, 12 * years)


def _due_key(asset_id: str, condition: Condition, due_on: date | None) -> str:
    return f"{asset_id}|{condition.value}|{due_on.isoformat() if due_on else UNRECORDED}"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


# --- tanks ---------------------------------------------------------------------------------


def cleaning_interval_days(tank: TankRecord, config: RulesConfig) -> int:
    """The tank's own interval from the register, else the configured one (per tank or site)."""
    if tank.cleaning_interval_days is not None:
        return tank.cleaning_interval_days
    return config.tank_rules(tank.asset_id).cleaning_interval_days


def cleaning_due_on(tank: TankRecord, config: RulesConfig) -> date | None:
    """When the next cleaning is due; None if no cleaning was ever recorded (due at once)."""
    if tank.last_cleaned_on is None:
        return None
    return tank.last_cleaned_on + timedelta(days=cleaning_interval_days(tank, config))


def tank_schedule(
    tank: TankRecord, *, now: datetime, config: RulesConfig
) -> tuple[DueCondition, ...]:
    """``cleaning_due`` once the due date is within ``cleaning_lead_days``, overdue after it."""
    today = config.local_date(now)
    due_on = cleaning_due_on(tank, config)
    lead = timedelta(days=config.tank_rules(tank.asset_id).cleaning_lead_days)
    if due_on is not None and today < due_on - lead:
        return ()
    overdue = due_on is None or today > due_on
    return (
        DueCondition(
            asset_id=tank.asset_id,
            condition=Condition.CLEANING_DUE,
            severity=config.severity_of(Condition.CLEANING_DUE),
            due_on=due_on,
            due_key=_due_key(tank.asset_id, Condition.CLEANING_DUE, due_on),
            overdue=overdue,
            evidence={
                "last_cleaned_on": _iso(tank.last_cleaned_on),
                "last_passed_test_on": _iso(tank.last_passed_test_on),
                "interval_days": cleaning_interval_days(tank, config),
                "days_overdue": (today - due_on).days if due_on and overdue else None,
            },
        ),
    )


@dataclass(frozen=True)
class CloseRefusal:
    """Why a cleaning ticket cannot be closed yet, for the API's 409 and the staff page."""

    code: str
    message_zh: str
    message_en: str


def can_close_cleaning(
    *,
    cleaned_on: date | None,
    water_test: WaterTest | None,
    now: datetime,
    config: RulesConfig,
    asset_id: str = "",
) -> CloseRefusal | None:
    """None when a cleaning ticket may close; otherwise the reason it may not.

    After a successful close the ticket layer records ``last_cleaned_on = cleaned_on`` and
    ``last_passed_test_on = water_test.tested_on`` on the tank, which restarts the schedule.
    """
    today = config.local_date(now)
    within = config.tank_rules(asset_id).water_test_within_days
    if cleaned_on is None:
        return CloseRefusal("no_cleaning_date", "请填写清洗消毒日期", "Record the cleaning date")
    if cleaned_on > today:
        return CloseRefusal(
            "cleaning_in_future", "清洗日期不能晚于今天", "The cleaning date is in the future"
        )
    if water_test is None:
        return CloseRefusal(
            "no_water_test",
            "须先登记合格的水质检测结果",
            "Record a passed water-quality test first",
        )
    if not water_test.passed:
        return CloseRefusal(
            "test_failed",
            "水质检测不合格，须重新清洗消毒并复检",
            "The water test failed: clean again and retest",
        )
    if water_test.tested_on > today:
        return CloseRefusal(
            "test_in_future", "检测日期不能晚于今天", "The test date is in the future"
        )
    if water_test.tested_on < cleaned_on:
        return CloseRefusal(
            "test_before_cleaning",
            "水质检测须在清洗之后取样",
            "The water test must be taken after the cleaning",
        )
    if (water_test.tested_on - cleaned_on).days > within:
        return CloseRefusal(
            "test_too_late",
            f"水质检测须在清洗后{within}天内取样",
            f"The water test must be taken within {within} days of the cleaning",
        )
    return None


# --- extinguishers -------------------------------------------------------------------------


def inspection_due_on(ext: ExtinguisherRecord, config: RulesConfig) -> date | None:
    """The next monthly inspection; None if it was never inspected (due at once)."""
    if ext.last_inspected_on is None:
        return None
    months = config.extinguisher_rules(ext.asset_id).inspection_every_months
    return add_months(ext.last_inspected_on, months)


def maintenance_due_on(ext: ExtinguisherRecord, config: RulesConfig) -> date:
    """GA 95: first maintenance N years after manufacture, then every M years after the last.

    A maintenance recorded before the first due date (done early) starts the every-M cycle
    from that date, which can only bring the next one forward.
    """
    ages = config.ages[ext.type]
    if ext.last_maintained_on is None:
        return add_years(ext.manufactured_on, ages.first_maintenance_years)
    return add_years(ext.last_maintained_on, ages.maintenance_every_years)


def scrap_on(ext: ExtinguisherRecord, config: RulesConfig) -> date:
    """The day the extinguisher reaches its scrap age (water 6, dry powder 10, CO2 12 years…)."""
    return add_years(ext.manufactured_on, config.ages[ext.type].scrap_years)


def _due(
    ext: ExtinguisherRecord,
    condition: Condition,
    due_on: date | None,
    lead_days: int,
    today: date,
    config: RulesConfig,
) -> DueCondition | None:
    if due_on is not None and today < due_on - timedelta(days=lead_days):
        return None
    overdue = due_on is None or today > due_on
    return DueCondition(
        asset_id=ext.asset_id,
        condition=condition,
        severity=config.severity_of(condition),
        due_on=due_on,
        due_key=_due_key(ext.asset_id, condition, due_on),
        overdue=overdue,
        evidence={
            "type": ext.type.value,
            "manufactured_on": ext.manufactured_on.isoformat(),
            "last_maintained_on": _iso(ext.last_maintained_on),
            "last_inspected_on": _iso(ext.last_inspected_on),
            "days_overdue": (today - due_on).days if due_on and overdue else None,
        },
    )


def extinguisher_schedule(
    ext: ExtinguisherRecord, *, now: datetime, config: RulesConfig
) -> tuple[DueCondition, ...]:
    """Monthly inspection, maintenance by type and scrap age, each inside its lead window.

    Maintenance is not raised when the scrap date comes first or scrapping is already due: the
    unit is replaced, not serviced.
    """
    today = config.local_date(now)
    rules = config.extinguisher_rules(ext.asset_id)
    scrap = scrap_on(ext, config)
    maintenance = maintenance_due_on(ext, config)
    scrap_due = _due(ext, Condition.SCRAP_DUE, scrap, rules.scrap_lead_days, today, config)
    replaced_first = scrap_due is not None or scrap <= maintenance
    found = [
        _due(ext, Condition.INSPECTION_DUE, inspection_due_on(ext, config),
             rules.inspection_lead_days, today, config),
        None if replaced_first else _due(
            ext, Condition.MAINTENANCE_DUE, maintenance, rules.maintenance_lead_days, today, config
        ),
        scrap_due,
    ]
    return tuple(due for due in found if due is not None)


def due_conditions(
    *,
    tanks: Iterable[TankRecord] = (),
    extinguishers: Iterable[ExtinguisherRecord] = (),
    now: datetime,
    config: RulesConfig,
) -> tuple[DueCondition, ...]:
    """Everything due across the register, tanks first, in register order."""
    found: list[DueCondition] = []
    for tank in tanks:
        found.extend(tank_schedule(tank, now=now, config=config))
    for ext in extinguishers:
        found.extend(extinguisher_schedule(ext, now=now, config=config))
    return tuple(found)
