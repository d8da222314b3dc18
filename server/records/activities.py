"""Group activities (the morning patrol, sanitation, visits to empty-nest elderly, a door-to-door
repair drive): staff set one up with a time and a place, print or show its QR code, and each
volunteer signs in and out by scanning it on their phone. Their minutes count in their service
record (:func:`server.records.hours.activity_minutes` says how).

    activity = create_activity(db, title="早间巡逻", place="劳动新村东门", starts_at=…, ends_at=…,
                               site_id="site-01", user=staff, now=now)
    sign_in(db, activity=activity, volunteer=v, now=now)
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.errors import Invalid, NotFound
from server.models import User, Volunteer
from server.records.hours import activity_minutes
from server.records.models import Activity, Attendance

__all__ = ["ActivityRefused", "SIGN_IN_EARLY", "attendance_minutes", "activity_by_token",
           "check_activity", "create_activity", "sign_in", "sign_out"]

log = logging.getLogger(__name__)
SIGN_IN_EARLY = timedelta(hours=1)  # the QR code opens for sign-in an hour before the start
MAX_LENGTH = timedelta(hours=12)
MAX_TITLE = 80
MAX_PLACE = 120


class ActivityRefused(Invalid):
    """An activity that may not be saved; ``errors`` maps each form field to a reason code."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))


def check_activity(*, title: str, place: str, starts_at: datetime | None,
                   ends_at: datetime | None, now: datetime) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "required"
    elif len(title.strip()) > MAX_TITLE:
        errors["title"] = "too_long"
    if len(place.strip()) > MAX_PLACE:
        errors["place"] = "too_long"
    if starts_at is None:
        errors["starts_at"] = "bad_time"
    elif not now - timedelta(days=7) <= starts_at <= now + timedelta(days=366):
        errors["starts_at"] = "out_of_range"
    if ends_at is None:
        errors["ends_at"] = "bad_time"
    elif starts_at is not None and not starts_at < ends_at <= starts_at + MAX_LENGTH:
        errors["ends_at"] = "bad_length"
    return errors


def create_activity(db: Session, *, title: str, place: str, starts_at: datetime | None,
                    ends_at: datetime | None, site_id: str, user: User,
                    now: datetime) -> Activity:
    errors = check_activity(title=title, place=place, starts_at=starts_at, ends_at=ends_at,
                            now=now)
    if errors:
        raise ActivityRefused(errors)
    assert starts_at is not None and ends_at is not None
    activity = Activity(token=secrets.token_urlsafe(16), site_id=site_id, title=title.strip(),
                        place=place.strip(), starts_at=starts_at, ends_at=ends_at,
                        created_by_user_id=user.id, created_at=now)
    db.add(activity)
    db.flush()
    log.info("activity %d '%s' set up by %s", activity.id, activity.title, user.username)
    return activity


def activity_by_token(db: Session, token: str) -> Activity:
    found = db.scalar(select(Activity).where(Activity.token == token))
    if found is None:
        raise NotFound("no such activity")
    return found


def _attendance(db: Session, activity: Activity, volunteer: Volunteer) -> Attendance | None:
    return db.scalar(select(Attendance).where(Attendance.activity_id == activity.id,
                                              Attendance.volunteer_id == volunteer.id))


def sign_in(db: Session, *, activity: Activity, volunteer: Volunteer,
            now: datetime) -> Attendance:
    """Sign ``volunteer`` in (a second scan changes nothing); only from an hour before the
    start to the end."""
    if not activity.starts_at - SIGN_IN_EARLY <= now <= activity.ends_at:
        raise ActivityRefused({"when": "not_open" if now < activity.starts_at else "over"})
    found = _attendance(db, activity, volunteer)
    if found is not None:
        return found
    found = Attendance(activity_id=activity.id, volunteer_id=volunteer.id, signed_in_at=now)
    db.add(found)
    db.flush()
    log.info("volunteer %s signed in to activity %d", volunteer.code, activity.id)
    return found


def sign_out(db: Session, *, activity: Activity, volunteer: Volunteer,
             now: datetime) -> Attendance:
    found = _attendance(db, activity, volunteer)
    if found is None:
        raise ActivityRefused({"when": "not_signed_in"})
    if found.signed_out_at is None:
        found.signed_out_at = now
        log.info("volunteer %s signed out of activity %d", volunteer.code, activity.id)
    return found


def attendance_minutes(attendance: Attendance, now: datetime) -> int | None:
    activity = attendance.activity
    return activity_minutes(signed_in=attendance.signed_in_at,
                            signed_out=attendance.signed_out_at, starts=activity.starts_at,
                            ends=activity.ends_at, now=now)
