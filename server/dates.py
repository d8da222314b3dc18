"""The range of dates the server takes from anyone who sends one: a client, a kiosk, a staff form.

Python's dates run from year 1 to 9999, and a date at either end, moved to UTC or by a day,
overflows (``0001-01-01T00:00:00+05:00`` has no UTC time at all). Nothing this service point
records is that old or that far ahead, so every date that comes in from outside is held to
:data:`EARLIEST` … :data:`LATEST` where it arrives, and a date outside is refused with a message
naming the field, never a 500 further in. Pure: the pydantic aliases are plain validators.

    class CleaningCreate(BaseModel):
        cleaned_on: RecordDate            # 0001-01-01 → 422 "cleaned_on: … between 1970 and 2100"
    check_moment("start_date", parsed)    # raises DateOutOfRange (a ValueError)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

__all__ = ["EARLIEST", "LATEST", "DateOutOfRange", "RecordDate", "RecordMoment", "check_date",
           "check_moment", "in_range"]

# Extinguishers made in the 1990s are still on some walls; a due date may run decades ahead.
EARLIEST = date(1970, 1, 1)
LATEST = date(2100, 12, 31)


class DateOutOfRange(ValueError):
    """A date before 1970 or after 2100."""


def in_range(value: date) -> bool:
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST <= day <= LATEST


def check_date(value: date, name: str = "") -> date:
    """``value`` if it lies between 1970-01-01 and 2100-12-31, else :class:`DateOutOfRange`."""
    if not in_range(value):
        where = f"{name}: " if name else ""
        raise DateOutOfRange(f"{where}must be between {EARLIEST} and {LATEST}")
    return value


def check_moment(name: str, value: datetime) -> datetime:
    """The same for a date-time, judged on its own wall-clock date (its offset is never applied
    before the check, so the check itself cannot overflow)."""
    check_date(value.date(), name)
    return value


def _date(value: date) -> date:
    return check_date(value)


def _moment(value: datetime) -> datetime:
    return check_moment("", value)


RecordDate = Annotated[date, AfterValidator(_date)]
RecordMoment = Annotated[AwareDatetime, AfterValidator(_moment)]
