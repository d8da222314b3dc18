"""Schedules: tank cleaning, extinguisher inspection, maintenance and scrap, closing a cleaning."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from server.rules import (
    Condition,
    DueCondition,
    ExtinguisherRecord,
    ExtinguisherType,
    RulesConfig,
    RulesError,
    Severity,
    TankRecord,
    WaterTest,
    add_months,
    add_years,
    can_close_cleaning,
    cleaning_due_on,
    due_conditions,
    extinguisher_schedule,
    maintenance_due_on,
    rules_config_from_mapping,
    scrap_on,
    tank_schedule,
)


def noon(day: date) -> datetime:
    """Midday in Changsha on ``day`` (04:00 UTC)."""
    return datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)


# --- calendar arithmetic -------------------------------------------------------------------


@pytest.mark.parametrize(("start", "months", "expected"), [
    (date(2026, 1, 15), 1, date(2026, 2, 15)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),
    (date(2026, 3, 31), 1, date(2026, 4, 30)),
    (date(2026, 12, 15), 1, date(2027, 1, 15)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
])
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(("start", "years", "expected"), [
    (date(2020, 2, 29), 1, date(2021, 2, 28)),
    (date(2020, 2, 29), 4, date(2024, 2, 29)),
    (date(2020, 3, 1), 6, date(2026, 3, 1)),
])
def test_add_years_lands_a_leap_day_on_the_28th(start: date, years: int, expected: date) -> None:
    assert add_years(start, years) == expected


# --- tank cleaning -------------------------------------------------------------------------


def test_cleaning_is_due_180_days_after_the_last(config: RulesConfig) -> None:
    tank = TankRecord("tank-1", last_cleaned_on=date(2026, 1, 1))
    assert cleaning_due_on(tank, config) == date(2026, 6, 30)


def test_cleaning_schedule_boundaries(config: RulesConfig) -> None:
    tank = TankRecord("tank-1", last_cleaned_on=date(2026, 1, 1),
                      last_passed_test_on=date(2026, 1, 3))
    # Lead window 14 days: nothing on 15 June, due from 16 June.
    assert tank_schedule(tank, now=noon(date(2026, 6, 15)), config=config) == ()
    (due,) = tank_schedule(tank, now=noon(date(2026, 6, 16)), config=config)
    assert due == DueCondition(
        asset_id="tank-1", condition=Condition.CLEANING_DUE, severity=Severity.NORMAL,
        due_on=date(2026, 6, 30), due_key="tank-1|cleaning_due|2026-06-30", overdue=False,
        evidence={"last_cleaned_on": "2026-01-01", "last_passed_test_on": "2026-01-03",
                  "interval_days": 180, "days_overdue": None},
    )
    assert due.title_zh == "蓄水池清洗消毒到期"
    (on_the_day,) = tank_schedule(tank, now=noon(date(2026, 6, 30)), config=config)
    assert not on_the_day.overdue
    (late,) = tank_schedule(tank, now=noon(date(2026, 7, 1)), config=config)
    assert late.overdue
    assert late.evidence["days_overdue"] == 1
    assert late.title_en == "Tank cleaning and disinfection overdue"
    # Same due date, same key: the scheduler will not open a second ticket.
    assert late.due_key == due.due_key


def test_the_day_changes_at_midnight_in_changsha(config: RulesConfig) -> None:
    tank = TankRecord("tank-1", last_cleaned_on=date(2026, 1, 1))
    before = datetime(2026, 6, 15, 15, 59, tzinfo=UTC)  # 23:59 on 15 June in Changsha
    after = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)  # 00:00 on 16 June
    assert tank_schedule(tank, now=before, config=config) == ()
    assert len(tank_schedule(tank, now=after, config=config)) == 1


def test_a_recorded_cleaning_restarts_the_schedule(config: RulesConfig) -> None:
    now = noon(date(2026, 7, 10))
    old = TankRecord("tank-1", last_cleaned_on=date(2026, 1, 1))
    assert tank_schedule(old, now=now, config=config)[0].overdue
    cleaned = TankRecord("tank-1", last_cleaned_on=date(2026, 7, 8),
                         last_passed_test_on=date(2026, 7, 9))
    assert tank_schedule(cleaned, now=now, config=config) == ()
    assert cleaning_due_on(cleaned, config) == date(2027, 1, 4)


def test_the_register_interval_beats_the_config(config: RulesConfig) -> None:
    quarterly = TankRecord("tank-1", last_cleaned_on=date(2026, 1, 1), cleaning_interval_days=90)
    assert cleaning_due_on(quarterly, config) == date(2026, 4, 1)
    override = rules_config_from_mapping(
        {"tank": {"overrides": {"tank-1": {"cleaning_interval_days": 120}}}},
        timezone="Asia/Shanghai"
    )
    assert cleaning_due_on(TankRecord("tank-1", last_cleaned_on=date(2026, 1, 1)), override) == (
        date(2026, 5, 1)
    )
    assert cleaning_due_on(quarterly, override) == date(2026, 4, 1)


@pytest.mark.parametrize("days", [89, 366, 0])
def test_interval_outside_90_to_365_is_refused(days: int) -> None:
    with pytest.raises(RulesError, match="90..365"):
        TankRecord("tank-1", cleaning_interval_days=days)


def test_a_tank_never_cleaned_is_due_at_once(config: RulesConfig) -> None:
    (due,) = tank_schedule(TankRecord("tank-9"), now=noon(date(2026, 3, 1)), config=config)
    assert due.due_on is None
    assert due.overdue
    assert due.due_key == "tank-9|cleaning_due|unrecorded"


# --- closing a cleaning ticket -------------------------------------------------------------

TODAY = noon(date(2026, 7, 10))


def test_close_with_a_passed_test_is_allowed(config: RulesConfig) -> None:
    assert can_close_cleaning(cleaned_on=date(2026, 7, 8),
                              water_test=WaterTest(date(2026, 7, 9), passed=True),
                              now=TODAY, config=config) is None
    # Same-day sampling is fine.
    assert can_close_cleaning(cleaned_on=date(2026, 7, 8),
                              water_test=WaterTest(date(2026, 7, 8), passed=True),
                              now=TODAY, config=config) is None


@pytest.mark.parametrize(("cleaned_on", "test", "code"), [
    (None, WaterTest(date(2026, 7, 9), True), "no_cleaning_date"),
    (date(2026, 7, 11), WaterTest(date(2026, 7, 11), True), "cleaning_in_future"),
    (date(2026, 7, 8), None, "no_water_test"),
    (date(2026, 7, 8), WaterTest(date(2026, 7, 9), False), "test_failed"),
    (date(2026, 7, 8), WaterTest(date(2026, 7, 12), True), "test_in_future"),
    (date(2026, 7, 8), WaterTest(date(2026, 7, 1), True), "test_before_cleaning"),
    (date(2026, 5, 1), WaterTest(date(2026, 7, 1), True), "test_too_late"),
])
def test_close_is_refused_with_a_reason(
    config: RulesConfig, cleaned_on: date | None, test: WaterTest | None, code: str
) -> None:
    refusal = can_close_cleaning(cleaned_on=cleaned_on, water_test=test, now=TODAY, config=config)
    assert refusal is not None
    assert refusal.code == code
    assert refusal.message_zh and refusal.message_en


# --- extinguishers -------------------------------------------------------------------------

MADE = date(2020, 3, 15)


@pytest.mark.parametrize(("kind", "first", "then", "scrap"), [
    (ExtinguisherType.WATER, date(2023, 3, 15), date(2024, 3, 20), date(2026, 3, 15)),
    (ExtinguisherType.DRY_POWDER, date(2025, 3, 15), date(2025, 3, 20), date(2030, 3, 15)),
    (ExtinguisherType.CO2, date(2025, 3, 15), date(2025, 3, 20), date(2032, 3, 15)),
    (ExtinguisherType.CLEAN_AGENT, date(2025, 3, 15), date(2025, 3, 20), date(2030, 3, 15)),
])
def test_ages_by_type(
    config: RulesConfig, kind: ExtinguisherType, first: date, then: date, scrap: date
) -> None:
    new = ExtinguisherRecord("ext-1", kind, manufactured_on=MADE)
    assert maintenance_due_on(new, config) == first
    assert scrap_on(new, config) == scrap
    # Maintained 5 days after the first due date: water then every year, the others every 2.
    serviced = ExtinguisherRecord("ext-1", kind, manufactured_on=MADE,
                                  last_maintained_on=date(2023, 3, 20))
    assert maintenance_due_on(serviced, config) == then


@pytest.mark.parametrize(("kind", "scrap"), [
    (ExtinguisherType.WATER, date(2022, 2, 28)),
    (ExtinguisherType.DRY_POWDER, date(2026, 2, 28)),
    (ExtinguisherType.CLEAN_AGENT, date(2026, 2, 28)),
    (ExtinguisherType.CO2, date(2028, 2, 29)),  # 2028 is a leap year again
])
def test_made_on_a_leap_day(config: RulesConfig, kind: ExtinguisherType, scrap: date) -> None:
    ext = ExtinguisherRecord("ext-1", kind, manufactured_on=date(2016, 2, 29))
    assert scrap_on(ext, config) == scrap
    # The day before the scrap date it is not yet past its age; the scrap day itself is due.
    (due,) = [d for d in extinguisher_schedule(ext, now=noon(scrap), config=config)
              if d.condition is Condition.SCRAP_DUE]
    assert not due.overdue
    assert due.due_key == f"ext-1|scrap_due|{scrap.isoformat()}"


def test_monthly_inspection(config: RulesConfig) -> None:
    ext = ExtinguisherRecord("ext-1", ExtinguisherType.DRY_POWDER, manufactured_on=date(2025, 1, 1),
                             last_maintained_on=None, last_inspected_on=date(2026, 1, 31))

    def inspection(day: date) -> list[DueCondition]:
        return [d for d in extinguisher_schedule(ext, now=noon(day), config=config)
                if d.condition is Condition.INSPECTION_DUE]

    assert inspection(date(2026, 2, 24)) == []
    (due,) = inspection(date(2026, 2, 25))  # 3 days' lead before 28 February
    assert due.due_on == date(2026, 2, 28)
    assert not due.overdue
    (late,) = inspection(date(2026, 3, 1))
    assert late.overdue
    assert late.title_zh == "灭火器月度检查已逾期"


def test_never_inspected_is_due_at_once(config: RulesConfig) -> None:
    ext = ExtinguisherRecord("ext-1", ExtinguisherType.CO2, manufactured_on=date(2025, 1, 1))
    found = extinguisher_schedule(ext, now=noon(date(2025, 6, 1)), config=config)
    assert [(d.condition, d.due_key) for d in found] == [
        (Condition.INSPECTION_DUE, "ext-1|inspection_due|unrecorded")
    ]


def test_maintenance_lead_window(config: RulesConfig) -> None:
    ext = ExtinguisherRecord("ext-1", ExtinguisherType.DRY_POWDER, manufactured_on=MADE,
                             last_inspected_on=date(2025, 2, 10))

    def maintenance(day: date) -> list[DueCondition]:
        return [d for d in extinguisher_schedule(ext, now=noon(day), config=config)
                if d.condition is Condition.MAINTENANCE_DUE]

    assert maintenance(date(2025, 2, 12)) == []
    (due,) = maintenance(date(2025, 2, 13))  # 30 days before 15 March
    assert due.due_key == "ext-1|maintenance_due|2025-03-15"


def test_no_maintenance_when_the_unit_must_be_scrapped_first(config: RulesConfig) -> None:
    # Water type serviced in 2025: next service 2026-03-20, but it is scrapped on 2026-03-15.
    ext = ExtinguisherRecord("ext-1", ExtinguisherType.WATER, manufactured_on=MADE,
                             last_maintained_on=date(2025, 3, 20),
                             last_inspected_on=date(2026, 3, 1))
    found = extinguisher_schedule(ext, now=noon(date(2026, 3, 16)), config=config)
    assert [d.condition for d in found] == [Condition.SCRAP_DUE]
    assert found[0].overdue
    assert found[0].title_en == "Extinguisher past its scrap age"


def test_register_dates_before_manufacture_are_refused() -> None:
    with pytest.raises(RulesError):
        ExtinguisherRecord("ext-1", ExtinguisherType.CO2, manufactured_on=MADE,
                           last_inspected_on=date(2019, 1, 1))


def test_due_conditions_covers_the_whole_register(config: RulesConfig) -> None:
    now = noon(date(2026, 7, 1))
    found = due_conditions(
        tanks=[TankRecord("tank-1", last_cleaned_on=date(2026, 1, 1)),
               TankRecord("tank-2", last_cleaned_on=date(2026, 6, 1))],
        extinguishers=[ExtinguisherRecord("ext-1", ExtinguisherType.WATER,
                                          manufactured_on=date(2019, 1, 1),
                                          last_inspected_on=date(2026, 6, 20))],
        now=now, config=config,
    )
    assert [(d.asset_id, d.condition) for d in found] == [
        ("tank-1", Condition.CLEANING_DUE),
        ("ext-1", Condition.SCRAP_DUE),
    ]
    # Running it again the same day gives the same keys.
    again = due_conditions(tanks=[TankRecord("tank-1", last_cleaned_on=date(2026, 1, 1))],
                           now=now, config=config)
    assert again[0].due_key == found[0].due_key
