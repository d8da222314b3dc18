"""Reminders of visits by appointment, and word of a cancelled slot, through the notices of the
people loop (the alert book's outbox, retries and quiet hours).

Run by the notice courier every round (``server.services.notices.NoticeCourier.run_once``)::

    remind_appointments(db, book=book, public_url="https://sp.example", now=now)

- **the evening before** (18:00 site time; at once if booked later) and **an hour before**
  (``rules.reminders_due``): to the volunteer the job was given to, or, while nobody has it,
  to the squad's leaders (so someone dispatches it in time); and to the resident where the
  site has a channel for residents (SMS, ``alerts.toml``'s resident URL);
- **a slot cancelled by staff**: the same people are told their visit will not happen.

Each goes through the alert book of the booking's own site (``AlertBook.for_site``: a district
centre's courier holds the home site's book, and site B's visit is told to site B's squad, with
site B's id on the alert row and its recipients from ``alerts.toml``). Each is sent once, even
across a restart or with two server replicas: the booking's
``*_sent_at`` column is claimed by a conditional UPDATE before the notice is written, in the same
transaction, so the notice exists exactly when the claim does.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, selectinload

from server.alerts.model import AlertMessage, NoticeKind, Recipient
from server.alerts.notices import notice_key
from server.alerts.outbox import AlertBook
from server.alerts.policy import SiteInfo
from server.appointments.models import AppointmentSlot, Booking
from server.appointments.rules import BookingStatus, Reminder, reminders_due
from server.lifecycle import OPEN_STATUSES
from server.models import Ticket
from server.sites.models import Site

__all__ = ["compose_appointment_notice", "remind_appointments"]

log = logging.getLogger(__name__)
_OPEN = frozenset(s.value for s in OPEN_STATUSES)
_LEVEL = {Reminder.DAY_BEFORE: 1, Reminder.HOUR_BEFORE: 2}
_COLUMN = {Reminder.DAY_BEFORE: Booking.day_before_sent_at,
           Reminder.HOUR_BEFORE: Booking.hour_before_sent_at}
_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def compose_appointment_notice(*, key: str, kind: NoticeKind, level: int, site_id: str,
                               ticket_id: int, number: str, category_zh: str,
                               category_en: str, place: str, starts_at: datetime,
                               ends_at: datetime, timezone: str, link: str, for_resident: bool,
                               at: datetime) -> AlertMessage:
    """The words of one appointment notice, Chinese first and English after (pure).
    ``level``: 1 the evening before, 2 an hour before, 0 a cancelled slot; 10 more for the
    resident's copy, whose words differ and which so has an outbox key of its own."""
    zone = ZoneInfo(timezone)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    when_zh = f"{start:%m月%d日} {_WEEKDAYS[start.weekday()]} {start:%H:%M}-{end:%H:%M}"
    when_en = f"{start:%a %d %b} {start:%H:%M}-{end:%H:%M}"
    if kind is NoticeKind.APPOINTMENT_CANCELLED:
        title = f"预约已取消 {number} {when_zh} | Appointment cancelled: {number} {when_en}"
        lines = [f"{category_zh}（{number}）原定 {when_zh} 上门，服务站取消了这个时段。",
                 f"The {category_en} visit ({number}) on {when_en} is cancelled by the "
                 f"service point."]
        if for_resident:
            lines.append(f"如需重新预约，请打开 / To book again: {link}")
    else:
        hour_before = level % 10 == _LEVEL[Reminder.HOUR_BEFORE]  # +10: the resident's
        soon_zh, soon_en = ("一小时后", "in an hour") if hour_before else ("明天", "tomorrow")
        if start.date() == at.astimezone(zone).date() and not hour_before:
            soon_zh, soon_en = ("今天", "today")
        title = (f"预约提醒：{soon_zh} {start:%H:%M} {category_zh} {number} | "
                 f"Reminder: {category_en} {soon_en} at {start:%H:%M} ({number})")
        lines = [f"预约时间 Time：{when_zh} / {when_en}",
                 f"类别 Category：{category_zh} {category_en}"]
        if for_resident:
            lines.append(f"请在家等候志愿者上门。查看或取消 / View or cancel: {link}")
        else:
            lines += [f"地点 Place：{place or '—'}", f"打开任务 Open the task：{link}"]
    return AlertMessage(key=key, kind=kind, urgent=False, level=level, site_id=site_id,
                        ticket_id=str(ticket_id), title=title, body="\n".join(lines),
                        created_at=at)


def _claim(db: Session, booking: Booking, column: Any, now: datetime) -> bool:
    """Mark the booking's notice as sent, if no one (no other replica) did; True if we did."""
    result = cast(CursorResult[Any], db.execute(
        update(Booking).where(Booking.id == booking.id, column.is_(None))
        .values({column.key: now}).execution_options(synchronize_session=False)))
    return result.rowcount == 1


def _place(ticket: Ticket) -> str:
    if ticket.unit is not None:
        b = ticket.unit.building
        return f"{b.compound.name_zh} {b.name} {ticket.unit.name}"
    if ticket.building is not None:
        return f"{ticket.building.compound.name_zh} {ticket.building.name}"
    return ticket.compound.name_zh if ticket.compound is not None else ""


def _tell(db: Session, book: AlertBook, *, booking: Booking, kind: NoticeKind, level: int,
          public_url: str, now: datetime) -> int:
    ticket, slot = booking.ticket, booking.slot
    request = ticket.request
    contacts = book.contacts
    if ticket.assignee is not None:
        staff = contacts.for_volunteer(db, ticket.assignee, urgent=False)
        link = f"{public_url}/v"
    else:  # nobody has the job yet: its leaders must see to it
        staff = contacts.for_leaders(db, squad_id=ticket.squad_id, urgent=False)
        link = f"{public_url}/staff/tickets/{ticket.id}"
    resident = contacts.for_resident(request) if request is not None else None
    made = 0
    for recipients, for_resident, to in ((staff.recipients, False, link),
                                         ((resident,) if resident else (), True,
                                          f"{public_url}/r/{request.phone_token}"
                                          if request is not None else "")):
        if not recipients:
            continue
        # One alert row per audience: the resident's words differ from the volunteer's.
        key = notice_key(book.site.id, ticket_id=ticket.id, kind=kind,
                         level=level + (10 if for_resident else 0), event_id=None)
        message = compose_appointment_notice(
            key=key, kind=kind, level=level + (10 if for_resident else 0),
            site_id=book.site.id, ticket_id=ticket.id, number=ticket.number,
            category_zh=ticket.category.name_zh, category_en=ticket.category.name_en,
            place=_place(ticket), starts_at=slot.starts_at, ends_at=slot.ends_at,
            timezone=book.timezone, link=to, for_resident=for_resident, at=now)
        book.notice(db, ticket=ticket, message=message,
                    recipients=cast(tuple[Recipient, ...], tuple(recipients)), now=now)
        made += 1
    if not made:
        log.warning("ticket %s: nobody can be told of its appointment (%s)", ticket.id,
                    kind.value)
    return made


def remind_appointments(db: Session, *, book: AlertBook, public_url: str, now: datetime) -> int:
    """Write the reminders due at ``now`` and the word of cancelled slots, each in its
    booking's site's book (``book`` is the home site's); commits. Returns how many notices
    were made."""
    public_url = public_url.rstrip("/")
    made = 0
    books: dict[str, AlertBook] = {}

    def book_of(booking: Booking) -> AlertBook:
        if booking.site_id == book.site.id:
            return book
        if booking.site_id not in books:
            # As server.services.sites.book_for_site, which this package cannot import (the
            # services import the appointments: a circle).
            site = db.get(Site, booking.site_id)
            name_zh = site.name_zh if site is not None else booking.site_id
            name_en = (site.name_en or site.name_zh) if site is not None else booking.site_id
            books[booking.site_id] = book.for_site(
                SiteInfo(id=booking.site_id, name_zh=name_zh, name_en=name_en))
        return books[booking.site_id]

    soon = db.scalars(
        select(Booking).join(AppointmentSlot)
        .where(Booking.status == BookingStatus.BOOKED.value,
               AppointmentSlot.cancelled_at.is_(None), AppointmentSlot.starts_at > now,
               AppointmentSlot.starts_at <= now + timedelta(days=2),
               Booking.hour_before_sent_at.is_(None))
        .options(selectinload(Booking.slot), selectinload(Booking.ticket))).all()
    for booking in soon:
        if booking.ticket.status not in _OPEN:
            continue
        sent = frozenset(r.value for r, column in _COLUMN.items()
                         if getattr(booking, column.key) is not None)
        for reminder in reminders_due(starts_at=booking.slot.starts_at,
                                      booked_at=booking.booked_at, now=now,
                                      timezone=book.timezone, sent=sent):
            if _claim(db, booking, _COLUMN[reminder], now):
                made += _tell(db, book_of(booking), booking=booking, kind=NoticeKind.APPOINTMENT,
                              level=_LEVEL[reminder], public_url=public_url, now=now)
                log.info("booking %s (ticket %s): %s reminder", booking.id, booking.ticket_id,
                         reminder.value)
    cancelled = db.scalars(
        select(Booking).join(AppointmentSlot)
        .where(Booking.status == BookingStatus.CANCELLED.value,
               AppointmentSlot.cancelled_at.is_not(None), Booking.cancel_told_at.is_(None),
               Booking.ended_at >= AppointmentSlot.cancelled_at)
        .options(selectinload(Booking.slot), selectinload(Booking.ticket))).all()
    for booking in cancelled:
        if _claim(db, booking, Booking.cancel_told_at, now):
            made += _tell(db, book_of(booking), booking=booking,
                          kind=NoticeKind.APPOINTMENT_CANCELLED,
                          level=0, public_url=public_url, now=now)
    db.commit()
    return made
