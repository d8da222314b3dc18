"""A volunteer's service record read from the tickets they resolved, a squad leader's correction
of one job's hours, and issuing a certificate for a period.

Every request a volunteer resolved counts as service (resolved or closed: a resident who never
confirms does not take the volunteer's hours away); its day is the day of the volunteer's last
"done", in the site's time zone. Minutes come from :func:`server.records.hours.job_minutes`
unless a leader corrected them (the newest correction counts). Group activities they signed in
to count too, by their day (server/records/activities.py).

    record = volunteer_record(db, volunteer=v, start=date(2026, 1, 1), end=date(2026, 12, 31),
                              timezone="Asia/Shanghai", now=now)
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from server.errors import Forbidden, NotFound
from server.lifecycle import HistoryAction, Status
from server.models import Role, Ticket, TicketEvent, User, Volunteer
from server.records.activities import attendance_minutes
from server.records.hours import HistoryStep, check_correction, job_minutes
from server.records.models import Activity, Attendance, HoursCorrection, ServiceCertificate
from server.ticketing import Actor, record

__all__ = ["Attended", "CorrectionRefused", "HoursFigure", "Job", "Month", "Record",
           "certificate_by_number", "certificate_by_token", "correct_hours",
           "issue_certificate", "may_correct", "monthly_hours", "volunteer_record"]

log = logging.getLogger(__name__)
_COUNTED = (Status.RESOLVED, Status.CLOSED)


@dataclass(frozen=True)
class Job:
    ticket_id: int
    number: str
    category_zh: str
    category_en: str
    day: date
    minutes: int
    timed: bool  # the volunteer tapped "on my way", so the minutes were measured
    corrected: bool
    rating: int | None


@dataclass(frozen=True)
class Attended:
    activity_id: int
    title: str
    day: date
    minutes: int | None  # None: still going on, not signed out yet


@dataclass(frozen=True)
class Month:
    month: str  # YYYY-MM
    jobs: int
    minutes: int


@dataclass(frozen=True)
class Record:
    volunteer: Volunteer
    start: date
    end: date
    jobs: list[Job] = field(default_factory=list)
    activities: list[Attended] = field(default_factory=list)

    @property
    def services(self) -> int:
        """Requests resolved and activities attended."""
        return len(self.jobs) + len(self.activities)

    @property
    def minutes(self) -> int:
        return sum(job.minutes for job in self.jobs) + sum(
            a.minutes or 0 for a in self.activities)

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)

    @property
    def months(self) -> list[Month]:
        by_month: dict[str, list[int]] = defaultdict(list)
        for job in self.jobs:
            by_month[job.day.strftime("%Y-%m")].append(job.minutes)
        for attended in self.activities:
            by_month[attended.day.strftime("%Y-%m")].append(attended.minutes or 0)
        return [Month(m, len(minutes), sum(minutes))
                for m, minutes in sorted(by_month.items(), reverse=True)]

    @property
    def average_rating(self) -> float | None:
        ratings = [job.rating for job in self.jobs if job.rating is not None]
        return round(sum(ratings) / len(ratings), 1) if ratings else None


def _utc_bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    low = datetime.combine(start, time.min, tz).astimezone(UTC)
    high = datetime.combine(end + timedelta(days=1), time.min, tz).astimezone(UTC)
    return low, high


def volunteer_record(db: Session, *, volunteer: Volunteer, start: date, end: date,
                     timezone: str, now: datetime) -> Record:
    """The jobs ``volunteer`` resolved and the activities they attended between ``start`` and
    ``end`` (site dates, inclusive)."""
    tz = ZoneInfo(timezone)
    low, high = _utc_bounds(start, end, tz)
    last_done = (select(TicketEvent.ticket_id, func.max(TicketEvent.at).label("done_at"))
                 .where(TicketEvent.volunteer_id == volunteer.id,
                        TicketEvent.action == HistoryAction.RESOLVE)
                 .group_by(TicketEvent.ticket_id).subquery())
    rows = db.execute(
        select(Ticket, last_done.c.done_at).join(last_done, last_done.c.ticket_id == Ticket.id)
        .where(Ticket.status.in_(_COUNTED), last_done.c.done_at >= low,
               last_done.c.done_at < high)
        .options(selectinload(Ticket.category), selectinload(Ticket.events))
        .order_by(last_done.c.done_at.desc())).all()
    corrections = _latest_corrections(db, volunteer.id, [ticket.id for ticket, _ in rows])
    jobs = []
    for ticket, done_at in rows:
        steps = [HistoryStep(e.at, e.action, e.volunteer_id) for e in ticket.events]
        measured = job_minutes(steps, volunteer.id)
        corrected = corrections.get(ticket.id)
        done = done_at if done_at.tzinfo else done_at.replace(tzinfo=UTC)
        jobs.append(Job(
            ticket_id=ticket.id, number=ticket.number, category_zh=ticket.category.name_zh,
            category_en=ticket.category.name_en, day=done.astimezone(tz).date(),
            minutes=corrected if corrected is not None else measured.minutes,
            timed=measured.timed, corrected=corrected is not None, rating=ticket.rating))
    return Record(volunteer=volunteer, start=start, end=end, jobs=jobs,
                  activities=_attended(db, volunteer, low, high, tz, now))


def _attended(db: Session, volunteer: Volunteer, low: datetime, high: datetime, tz: ZoneInfo,
              now: datetime) -> list[Attended]:
    rows = db.scalars(select(Attendance).join(Activity)
                      .where(Attendance.volunteer_id == volunteer.id,
                             Activity.starts_at >= low, Activity.starts_at < high)
                      .options(selectinload(Attendance.activity))
                      .order_by(Activity.starts_at.desc())).all()
    return [Attended(activity_id=row.activity_id, title=row.activity.title,
                     day=row.activity.starts_at.astimezone(tz).date(),
                     minutes=attendance_minutes(row, now)) for row in rows]


def _latest_corrections(db: Session, volunteer_id: int, ticket_ids: list[int]) -> dict[int, int]:
    if not ticket_ids:
        return {}
    rows = db.execute(select(HoursCorrection.ticket_id, HoursCorrection.minutes)
                      .where(HoursCorrection.volunteer_id == volunteer_id,
                             HoursCorrection.ticket_id.in_(ticket_ids))
                      .order_by(HoursCorrection.id)).all()
    return {ticket_id: minutes for ticket_id, minutes in rows}  # the newest wins


def may_correct(user: User, ticket: Ticket) -> bool:
    """Staff and admins correct any job's hours; a squad leader those of their own squad."""
    if user.role in (Role.ADMIN, Role.STAFF):
        return True
    return user.role == Role.SQUAD_LEADER and user.squad_id is not None \
        and user.squad_id == ticket.squad_id


class CorrectionRefused(ValueError):
    """A correction that may not be saved; ``errors`` maps each form field to a reason code."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))


def correct_hours(db: Session, *, ticket: Ticket, volunteer: Volunteer, minutes: object,
                  reason: str, user: User, now: datetime) -> HoursCorrection:
    """Record a leader's correction of the minutes ``volunteer`` served on ``ticket``, and a
    line in the ticket's history saying from what to what and why."""
    if not may_correct(user, ticket):
        raise Forbidden("only staff or this job's squad leader may correct its hours")
    errors = check_correction(minutes, reason)
    if errors:
        raise CorrectionRefused(errors)
    assert isinstance(minutes, int)
    served = any(e.action == HistoryAction.RESOLVE and e.volunteer_id == volunteer.id
                 for e in ticket.events)
    if not served or ticket.status not in _COUNTED:
        raise NotFound("this volunteer has no resolved service on this ticket")
    before = volunteer_record_minutes(db, ticket=ticket, volunteer=volunteer)
    correction = HoursCorrection(ticket_id=ticket.id, volunteer_id=volunteer.id, minutes=minutes,
                                 reason=reason.strip(), corrected_by_user_id=user.id, at=now)
    db.add(correction)
    record(db, ticket=ticket, action=HistoryAction.NOTE, actor=Actor.of(user), now=now,
           volunteer_id=volunteer.id, from_status=ticket.status,
           note=f"服务时长 {before} → {minutes} 分钟（{volunteer.given_name}）：{reason.strip()}")
    log.info("hours of volunteer %s on %s corrected %d -> %d by %s", volunteer.code,
             ticket.number, before, minutes, user.username)
    return correction


def volunteer_record_minutes(db: Session, *, ticket: Ticket, volunteer: Volunteer) -> int:
    """The minutes that count now for one job (a correction, or the measured span)."""
    corrected = _latest_corrections(db, volunteer.id, [ticket.id]).get(ticket.id)
    if corrected is not None:
        return corrected
    steps = [HistoryStep(e.at, e.action, e.volunteer_id) for e in ticket.events]
    return job_minutes(steps, volunteer.id).minutes


def issue_certificate(db: Session, *, volunteer: Volunteer, start: date, end: date,
                      timezone: str, issuer_name: str, site_id: str, user: User,
                      now: datetime) -> ServiceCertificate:
    """Issue a numbered certificate of the hours in ``start``..``end`` as they stand now."""
    if end < start:
        raise CorrectionRefused({"end": "before_start"})
    found = volunteer_record(db, volunteer=volunteer, start=start, end=end, timezone=timezone,
                             now=now)
    year = now.astimezone(ZoneInfo(timezone)).year
    for _attempt in range(5):
        issued = db.scalar(select(func.count()).select_from(ServiceCertificate)
                           .where(ServiceCertificate.number.like(f"ZY{year}-%"))) or 0
        certificate = ServiceCertificate(
            number=f"ZY{year}-{issued + 1:04d}", verify_token=secrets.token_urlsafe(16),
            site_id=site_id, volunteer_id=volunteer.id, period_start=start, period_end=end,
            minutes=found.minutes, jobs=found.services, issuer_name=issuer_name,
            issued_by_user_id=user.id, issued_at=now)
        try:
            with db.begin_nested():  # two staff issuing at once: the number is taken again
                db.add(certificate)
        except IntegrityError:
            continue
        log.info("certificate %s issued to volunteer %s: %d minutes, %d jobs, by %s",
                 certificate.number, volunteer.code, certificate.minutes, certificate.jobs,
                 user.username)
        return certificate
    raise RuntimeError("could not number the certificate after 5 attempts")


def certificate_by_token(db: Session, token: str) -> ServiceCertificate:
    found = db.scalar(select(ServiceCertificate).where(ServiceCertificate.verify_token == token))
    if found is None:
        raise NotFound("no such certificate")
    return found


def certificate_by_number(db: Session, number: str) -> ServiceCertificate:
    found = db.scalar(select(ServiceCertificate).where(ServiceCertificate.number == number))
    if found is None:
        raise NotFound("no such certificate")
    return found


@dataclass(frozen=True)
class HoursFigure:
    """One volunteer's service in one month: a line of the branch's 台账."""

    month: str  # YYYY-MM in the site's time zone
    squad: str  # the squad's name, or "" for none
    volunteer_code: str
    volunteer_name: str
    party_member: bool
    services: int
    minutes: int


def monthly_hours(db: Session, *, year: int, timezone: str, now: datetime) -> list[HoursFigure]:
    """Every volunteer's services and minutes by month of ``year``, by squad then volunteer."""
    figures = []
    volunteers = db.scalars(select(Volunteer).options(selectinload(Volunteer.squad))
                            .order_by(Volunteer.code)).all()
    for volunteer in volunteers:
        found = volunteer_record(db, volunteer=volunteer, start=date(year, 1, 1),
                                 end=date(year, 12, 31), timezone=timezone, now=now)
        for month in found.months:
            figures.append(HoursFigure(
                month=month.month, squad=volunteer.squad.name if volunteer.squad else "",
                volunteer_code=volunteer.code,
                volunteer_name=volunteer.full_name or volunteer.given_name,
                party_member=volunteer.party_member, services=month.jobs,
                minutes=month.minutes))
    return sorted(figures, key=lambda f: (f.month, f.squad, f.volunteer_code))
