"""The pure rules of appointments: what a slot may be, the weekly repeat and who may pick it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from server.appointments.rules import (
    MAX_WEEKS,
    SlotChoice,
    SlotProblem,
    choice_problem,
    slot_problem,
    slot_times,
)

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def test_four_tuesday_mornings_in_changsha() -> None:
    times = slot_times(day=date(2026, 12, 8), start=time(9), end=time(11), weeks=4,
                       timezone="Asia/Shanghai")
    assert [s.isoformat() for s, _ in times] == [
        "2026-12-08T01:00:00+00:00", "2026-12-15T01:00:00+00:00",
        "2026-12-22T01:00:00+00:00", "2026-12-29T01:00:00+00:00"]
    assert all(e - s == timedelta(hours=2) for s, e in times)


def test_a_repeat_keeps_its_wall_clock_hour_across_a_change_of_offset() -> None:
    # Berlin leaves summer time on 25 October 2026: 09:00 stays 09:00, so UTC moves an hour.
    times = slot_times(day=date(2026, 10, 20), start=time(9), end=time(10), weeks=2,
                       timezone="Europe/Berlin")
    assert [s.hour for s, _ in times] == [7, 8]


def test_the_repeat_is_held_to_its_limits() -> None:
    assert len(slot_times(day=date(2026, 12, 8), start=time(9), end=time(10), weeks=99,
                          timezone="Asia/Shanghai")) == MAX_WEEKS
    assert len(slot_times(day=date(2026, 12, 8), start=time(9), end=time(10), weeks=0,
                          timezone="Asia/Shanghai")) == 1


def test_what_is_wrong_with_a_slot() -> None:
    later = NOW + timedelta(days=1)
    assert slot_problem(later, later + timedelta(hours=2), capacity=4, now=NOW) is None
    assert slot_problem(later, later, capacity=4, now=NOW) is SlotProblem.ENDS_BEFORE_START
    assert slot_problem(later, later + timedelta(hours=13), capacity=4,
                        now=NOW) is SlotProblem.TOO_LONG
    assert slot_problem(NOW, NOW + timedelta(hours=1), capacity=4,
                        now=NOW) is SlotProblem.IN_THE_PAST
    assert slot_problem(later, later + timedelta(hours=1), capacity=0,
                        now=NOW) is SlotProblem.CAPACITY
    assert slot_problem(later, later + timedelta(hours=1), capacity=51,
                        now=NOW) is SlotProblem.CAPACITY


def test_who_may_pick_a_slot() -> None:
    later = NOW + timedelta(days=1)
    ok = {"slot_category": "haircut", "category": "haircut", "cancelled": False,
          "starts_at": later, "now": NOW}
    assert choice_problem(**ok) is None  # type: ignore[arg-type]
    assert choice_problem(**{**ok, "category": "certificates"}) is SlotChoice.INVALID  # type: ignore[arg-type]
    assert choice_problem(**{**ok, "cancelled": True}) is SlotChoice.INVALID  # type: ignore[arg-type]
    assert choice_problem(**{**ok, "starts_at": NOW}) is SlotChoice.INVALID  # type: ignore[arg-type]
