"""The rules of appointments (预约上门), all pure: what a slot may be, the weekly repeat, whether a
slot can still be booked, and when each reminder is due.

No database and no framework here; ``server.appointments.booking`` and ``.service`` apply these
rules to rows, and the tests read them directly::

    times = slot_times(day=date(2026, 12, 8), start=time(9), end=time(11), weeks=4,
                       timezone="Asia/Shanghai")          # four Tuesdays, as aware UTC pairs
    problem = slot_problem(starts_at, ends_at, capacity=4, now=now)   # None, or a SlotProblem
    due = reminders_due(starts_at=slot.starts_at, booked_at=b.booked_at, now=now,
                        timezone="Asia/Shanghai", sent=frozenset({"day_before"}))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

__all__ = [
    "BOOKABLE_DAYS",
    "DAY_BEFORE_AT",
    "MAX_CAPACITY",
    "MAX_WEEKS",
    "BookingStatus",
    "Places",
    "Reminder",
    "SlotChoice",
    "SlotProblem",
    "choice_problem",
    "reminders_due",
    "slot_problem",
    "slot_times",
]

# How far ahead residents see slots (the kiosk and the phone form list this many days).
BOOKABLE_DAYS = 14
MAX_CAPACITY = 50
MAX_WEEKS = 12
# The evening reminder of the day before, in the site's own time.
DAY_BEFORE_AT = time(18, 0)
HOUR_BEFORE = timedelta(hours=1)


class BookingStatus(StrEnum):
    """Where one resident's place in a slot stands."""

    BOOKED = "booked"
    CANCELLED = "cancelled"  # by the resident, by staff, or with the whole slot: place freed
    DONE = "done"
    NO_SHOW = "no_show"  # the volunteer came (or was ready) and nobody was home


class SlotProblem(StrEnum):
    """Why a slot cannot be published as given; the form shows it beside the field."""

    ENDS_BEFORE_START = "ends_before_start"
    IN_THE_PAST = "in_the_past"
    CAPACITY = "capacity"
    TOO_LONG = "too_long"


class SlotChoice(StrEnum):
    """Why a resident's chosen slot cannot be booked (the API's error codes)."""

    REQUIRED = "slot_required"
    INVALID = "slot_invalid"
    FULL = "slot_full"


class Reminder(StrEnum):
    """The two reminders a booking's volunteer (and resident, where reachable) gets."""

    DAY_BEFORE = "day_before"
    HOUR_BEFORE = "hour_before"


def slot_problem(starts_at: datetime, ends_at: datetime, *, capacity: int, now: datetime
                 ) -> SlotProblem | None:
    """The first thing wrong with a slot staff are publishing, or None."""
    if ends_at <= starts_at:
        return SlotProblem.ENDS_BEFORE_START
    if ends_at - starts_at > timedelta(hours=12):
        return SlotProblem.TOO_LONG
    if starts_at <= now:
        return SlotProblem.IN_THE_PAST
    if not 1 <= capacity <= MAX_CAPACITY:
        return SlotProblem.CAPACITY
    return None


def slot_times(*, day: date, start: time, end: time, weeks: int, timezone: str
               ) -> list[tuple[datetime, datetime]]:
    """The slot on ``day`` from ``start`` to ``end`` (the site's wall clock), and the same
    weekday and hours for ``weeks`` weeks in all, as aware UTC pairs. Wall-clock times are
    turned to UTC per date, so a repeat keeps its hour across a change of offset."""
    zone = ZoneInfo(timezone)
    weeks = max(1, min(weeks, MAX_WEEKS))
    pairs = []
    for week in range(weeks):
        on = day + timedelta(weeks=week)
        pairs.append((datetime.combine(on, start, zone).astimezone(UTC),
                      datetime.combine(on, end, zone).astimezone(UTC)))
    return pairs


def choice_problem(*, slot_category: str, category: str, cancelled: bool,
                   starts_at: datetime, now: datetime) -> SlotChoice | None:
    """Whether a resident may pick this slot for this category (capacity aside: the database
    decides that, atomically, when the place is taken)."""
    if slot_category != category or cancelled or starts_at <= now:
        return SlotChoice.INVALID
    return None


def reminders_due(*, starts_at: datetime, booked_at: datetime, now: datetime, timezone: str,
                  sent: frozenset[str]) -> list[Reminder]:
    """The reminders of one booking due at ``now`` and not yet sent.

    - the day before: at 18:00 site time on the eve of the slot's day; booked after that
      moment (or on the day itself), at once;
    - an hour before the start.

    Once the slot has started nothing is due: a reminder after the fact helps nobody. When
    both are due at once (booked 40 minutes ahead), only the hour's is sent: it says more."""
    if now >= starts_at:
        return []
    zone = ZoneInfo(timezone)
    eve = starts_at.astimezone(zone).date() - timedelta(days=1)
    evening = datetime.combine(eve, DAY_BEFORE_AT, zone).astimezone(UTC)
    due = []
    hour_due = now >= starts_at - HOUR_BEFORE
    if Reminder.HOUR_BEFORE not in sent and hour_due:
        due.append(Reminder.HOUR_BEFORE)
    elif Reminder.DAY_BEFORE not in sent and not hour_due and now >= min(
            max(evening, booked_at), starts_at):
        due.append(Reminder.DAY_BEFORE)
    return due


@dataclass(frozen=True)
class Places:
    """How full a slot is, as the pages and the kiosk show it."""

    capacity: int
    taken: int

    @property
    def remaining(self) -> int:
        return max(0, self.capacity - self.taken)

    @property
    def full(self) -> bool:
        return self.remaining == 0
