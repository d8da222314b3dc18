"""What staff and squad leaders do with appointment slots: publish them (one, or the same hours
every week for a few weeks), list them with their bookings, cancel a slot (its requests are
cancelled and their places freed; the residents and volunteers are told by the notice courier,
``server.appointments.reminders``), and mark a booking done or a no-show.

Who may: staff and squad leaders (``DISPATCH_ROLES``), checked by the pages' guard; the rules of
what a slot may be are the pure ``server.appointments.rules``.

    slots = publish_slots(db, category_code="haircut", day=date(2026, 12, 8), start=time(9),
                          end=time(11), capacity=4, weeks=4, user=leader, now=now,
                          timezone="Asia/Shanghai")
    cancel_slot(db, slot_id=slots[0].id, user=leader, now=now)
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from server.appointments.models import AppointmentSlot, Booking
from server.appointments.rules import BookingStatus, SlotProblem, slot_problem, slot_times
from server.errors import IllegalTransition, Invalid, NotFound
from server.lifecycle import OPEN_STATUSES, Action
from server.models import Category, ServiceRequest, User
from server.ticketing import Actor, apply_action

__all__ = ["SlotRefused", "appointment_categories", "cancel_slot", "end_booking",
           "no_shows_of", "publish_slots", "slot_with_bookings", "upcoming_slots"]

log = logging.getLogger(__name__)


class SlotRefused(Invalid):
    """A slot staff tried to publish breaks a rule; ``problem`` names which (and so the field
    the form shows it beside)."""

    def __init__(self, problem: SlotProblem) -> None:
        super().__init__(f"slot: {problem.value}", code=f"slot_{problem.value}")
        self.problem = problem


def appointment_categories(db: Session) -> list[Category]:
    return list(db.scalars(select(Category).where(Category.by_appointment.is_(True),
                                                  Category.active.is_(True))
                           .order_by(Category.sort_order)))


def publish_slots(db: Session, *, category_code: str, day: date, start: time, end: time,
                  capacity: int, weeks: int, user: User, now: datetime, timezone: str,
                  site_id: str | None = None) -> list[AppointmentSlot]:
    """Publish the slot, repeated weekly for ``weeks`` weeks in all; all or none. Commits.
    Without ``site_id`` the slots are the acting site's (stamped at flush)."""
    category = db.get(Category, category_code)
    if category is None or not category.by_appointment:
        raise Invalid(f"category {category_code!r}: not a service by appointment")
    slots = []
    for starts_at, ends_at in slot_times(day=day, start=start, end=end, weeks=weeks,
                                         timezone=timezone):
        problem = slot_problem(starts_at, ends_at, capacity=capacity, now=now)
        if problem is not None:
            raise SlotRefused(problem)
        slots.append(AppointmentSlot(category_code=category.code, starts_at=starts_at,
                                     ends_at=ends_at, capacity=capacity, taken=0,
                                     site_id=site_id, created_by_user_id=user.id,
                                     created_at=now))
    db.add_all(slots)
    db.commit()
    log.info("%s published %d slot(s) of %s from %s", user.username, len(slots), category.code,
             slots[0].starts_at.isoformat())
    return slots


def upcoming_slots(db: Session, *, now: datetime, days: int = 28) -> list[AppointmentSlot]:
    """Slots from the start of today (UTC-wise, a little generous) for ``days`` days, with
    their bookings, cancelled ones included (staff see what they cancelled)."""
    return list(db.scalars(
        select(AppointmentSlot)
        .where(AppointmentSlot.ends_at > now - timedelta(hours=12),
               AppointmentSlot.starts_at <= now + timedelta(days=days))
        .options(selectinload(AppointmentSlot.category),
                 selectinload(AppointmentSlot.bookings).selectinload(Booking.ticket))
        .order_by(AppointmentSlot.starts_at, AppointmentSlot.id)))


def slot_with_bookings(db: Session, *, slot_id: int) -> AppointmentSlot:
    slot = db.scalar(select(AppointmentSlot).where(AppointmentSlot.id == slot_id)
                     .options(selectinload(AppointmentSlot.bookings)
                              .selectinload(Booking.ticket)))
    if slot is None:
        raise NotFound("no such slot")
    return slot


def cancel_slot(db: Session, *, slot_id: int, user: User, now: datetime) -> AppointmentSlot:
    """Cancel a slot: no one can book it any more, and each open request booked into it is
    cancelled with its place given back (the courier then tells its resident and volunteer).
    Commits."""
    slot = slot_with_bookings(db, slot_id=slot_id)
    if slot.cancelled_at is not None:
        raise IllegalTransition("this time was cancelled already")
    slot.cancelled_at = now
    actor = Actor.of(user)
    when = slot.starts_at.strftime("%m-%d %H:%M")
    for booking in slot.bookings:
        if booking.status != BookingStatus.BOOKED:
            continue
        booking.status = BookingStatus.CANCELLED.value
        booking.ended_at, booking.ended_by_user_id = now, user.id
        if booking.ticket.status in {s.value for s in OPEN_STATUSES}:
            apply_action(db, ticket=booking.ticket, action=Action.CANCEL, actor=actor, now=now,
                         note=f"预约时段取消 {when} UTC", staff=True)
    db.execute(update(AppointmentSlot).where(AppointmentSlot.id == slot.id).values(taken=0)
               .execution_options(synchronize_session=False))
    db.commit()
    db.refresh(slot)
    log.info("%s cancelled slot %s (%d booking(s))", user.username, slot.id,
             sum(1 for b in slot.bookings if b.ended_at == now))
    return slot


def end_booking(db: Session, *, booking_id: int, status: BookingStatus, user: User,
                now: datetime) -> Booking:
    """Mark a booked visit done or a no-show (the place stays used: the time has passed).
    Commits."""
    if status not in (BookingStatus.DONE, BookingStatus.NO_SHOW):
        raise Invalid(f"status: {status} is not how a visit ends")
    booking = db.get(Booking, booking_id)
    if booking is None:
        raise NotFound("no such booking")
    if booking.status != BookingStatus.BOOKED:
        raise IllegalTransition("this booking is no longer open")
    booking.status = status.value
    booking.ended_at, booking.ended_by_user_id = now, user.id
    db.commit()
    log.info("booking %s (ticket %s) marked %s by %s", booking.id, booking.ticket_id, status,
             user.username)
    return booking


def no_shows_of(db: Session, *, resident_id: int) -> list[Booking]:
    """The resident's missed appointments, newest first (their record page shows them)."""
    return list(db.scalars(
        select(Booking).join(ServiceRequest, ServiceRequest.ticket_id == Booking.ticket_id)
        .where(Booking.status == BookingStatus.NO_SHOW.value,
               ServiceRequest.resident_id == resident_id)
        .options(selectinload(Booking.slot).selectinload(AppointmentSlot.category),
                 selectinload(Booking.ticket))
        .order_by(Booking.ended_at.desc())))
