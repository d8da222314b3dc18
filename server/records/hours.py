"""How long a volunteer served on one job, from the ticket's history: a pure core.

The Ministry of Civil Affairs' rules on volunteer service records (民政部令第67号) count the
hours actually served. A job's hours run from the volunteer's "on my way" (the history's
``start``) to their "done" (``resolve``). Three things happen in real histories and are
handled here rather than in the pages:

- a volunteer forgets to tap "on my way": the job counts with no hours (``minutes`` 0,
  ``timed`` False) until the squad leader enters them;
- a volunteer forgets to tap "done" until the next morning: a span is capped at
  :data:`MAX_JOB_MINUTES`, and the leader may correct it;
- a job is reopened and done again: every start→resolve span of the same volunteer counts.

A leader's correction replaces the computed minutes; it must stay within 0 and
:data:`MAX_JOB_MINUTES` and give a reason (it is written into the ticket's history).

A group activity (the morning patrol, a door-to-door repair drive) counts from the volunteer's
sign-in to their sign-out by the activity's QR code, within the activity's time give or take
a little (:func:`activity_minutes`): coming early to set up counts half an hour at most,
staying late an hour at most, and a forgotten sign-out counts until the activity's end.
Nothing here imports a framework; :mod:`server.records.service` feeds it the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["EARLY", "LATE", "MAX_JOB_MINUTES", "HistoryStep", "JobTime", "activity_minutes",
           "check_correction", "job_minutes"]

# One visit to fix a tap or sit with an elderly neighbour rarely passes half a working day; a
# longer span is almost always a "done" tapped the next morning.
MAX_JOB_MINUTES = 8 * 60
MAX_REASON = 200
EARLY = timedelta(minutes=30)  # setting up before an activity starts
LATE = timedelta(hours=1)  # clearing up after it ends


@dataclass(frozen=True)
class HistoryStep:
    """The part of a ticket history row this core reads."""

    at: datetime
    action: str  # server.lifecycle.HistoryAction values: "start", "resolve", ...
    volunteer_id: int | None


@dataclass(frozen=True)
class JobTime:
    minutes: int
    timed: bool  # False: no "on my way" was recorded, so the hours are unknown


def job_minutes(steps: Iterable[HistoryStep], volunteer_id: int) -> JobTime:
    """The minutes ``volunteer_id`` served on a job, from its history in time order."""
    started: datetime | None = None
    total = 0.0
    timed = False
    for step in steps:
        if step.volunteer_id != volunteer_id:
            continue
        if step.action == "start":
            started = step.at
        elif step.action == "resolve" and started is not None:
            total += max(0.0, (step.at - started).total_seconds() / 60)
            started = None
            timed = True
    return JobTime(minutes=min(MAX_JOB_MINUTES, round(total)), timed=timed)


def check_correction(minutes: object, reason: str) -> dict[str, str]:
    """Errors by field name for a leader's correction; empty when it may be saved."""
    errors: dict[str, str] = {}
    if not isinstance(minutes, int) or isinstance(minutes, bool):
        errors["minutes"] = "not_a_number"
    elif not 0 <= minutes <= MAX_JOB_MINUTES:
        errors["minutes"] = "out_of_range"
    reason = reason.strip()
    if not reason:
        errors["reason"] = "required"
    elif len(reason) > MAX_REASON:
        errors["reason"] = "too_long"
    return errors


def activity_minutes(*, signed_in: datetime, signed_out: datetime | None, starts: datetime,
                     ends: datetime, now: datetime) -> int | None:
    """The minutes one volunteer served at an activity; None while it is still going on and
    they have not signed out (nothing to count yet)."""
    if signed_out is None:
        if now < ends:
            return None
        signed_out = ends  # forgot to sign out: the activity's end
    low = max(signed_in, starts - EARLY)
    high = min(signed_out, ends + LATE)
    served = max(0.0, (high - low).total_seconds() / 60)
    return min(MAX_JOB_MINUTES, round(served))
