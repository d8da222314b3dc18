"""Taking and freeing a place in a slot, inside the transaction of whatever files or cancels the
request, and the slots residents may pick from.

The capacity is the database's to keep, never a count read in Python and then acted on: a
place is taken by one conditional statement,

    UPDATE appointment_slots SET taken = taken + 1
     WHERE id = :slot AND taken < capacity AND cancelled_at IS NULL

and only if it changed a row is the booking written, in the same transaction as the request.
Two kiosks asking for the last place at once are serialised by the database (SQLite's single
writer, PostgreSQL's row lock, after which the second UPDATE re-reads the row and matches
nothing); the ``CHECK (taken <= capacity)`` stands behind it. Freeing a place is the mirror
UPDATE in the cancel's own transaction.

Used by ``server.services.requests`` (filing, the resident's cancel) and
``server.services.tickets`` (staff cancelling a ticket)::

    slot = chosen_slot(db, category=category, slot_id=new.slot_id, now=now)   # or SlotRefused
    ...                                                                        # ticket added
    take_place(db, slot=slot, ticket=ticket, now=now)                          # or SlotRefused
    release_place(db, ticket=ticket, now=now)                                  # on a cancel
    retake_place(db, ticket=ticket, now=now)                                   # on a reopen

A request back in work whose place was given back (reopened after its booking was cancelled)
re-takes that same place while the time is still to come and a place is free, by the same
conditional UPDATE; otherwise :func:`appointment_lost` is true and the staff's ticket page says
预约已取消，请重新约时间 instead of showing no time at all.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, object_session

from server.appointments.models import AppointmentSlot, Booking
from server.appointments.rules import BOOKABLE_DAYS, BookingStatus, SlotChoice, choice_problem
from server.errors import Conflict, Invalid, NotFound
from server.models import Category, Ticket

__all__ = ["SlotFull", "appointment_at", "appointment_lost", "booking_of", "chosen_slot",
           "open_slots", "release_place", "retake_place", "take_place"]

log = logging.getLogger(__name__)


class SlotFull(Conflict):
    """The slot's last place went to someone else: 409 ``slot_full``."""

    code = SlotChoice.FULL.value


def chosen_slot(db: Session, *, category: Category, slot_id: int | None, now: datetime,
                site_id: str | None = None) -> AppointmentSlot | None:
    """The slot a filing asks for, checked against its category: None for a category not by
    appointment that names no slot; Invalid ``slot_required`` / ``slot_invalid`` otherwise.
    ``site_id``: the request's site (its place's); another site's slot is ``slot_invalid``
    (a district centre's anonymous phone form sees every site's rows)."""
    if slot_id is None:
        if category.by_appointment:
            raise Invalid("slot_id: this service is by appointment: choose a time",
                          code=SlotChoice.REQUIRED.value)
        return None
    slot = db.get(AppointmentSlot, slot_id)
    elsewhere = slot is not None and site_id is not None and slot.site_id != site_id
    problem = (SlotChoice.INVALID if slot is None or elsewhere or not category.by_appointment else
               choice_problem(slot_category=slot.category_code, category=category.code,
                              cancelled=slot.cancelled_at is not None,
                              starts_at=slot.starts_at, now=now))
    if problem is not None or slot is None:
        raise Invalid("slot_id: this time cannot be booked for this service",
                      code=SlotChoice.INVALID.value)
    return slot


def take_place(db: Session, *, slot: AppointmentSlot, ticket: Ticket, now: datetime) -> Booking:
    """Take one place for ``ticket`` (flushed, with an id) in ``slot``, in the caller's
    transaction; :class:`SlotFull` if none is left. The caller commits, or rolls back on any
    error, which gives the place back with everything else."""
    result = cast(CursorResult[Any], db.execute(
        update(AppointmentSlot)
        .where(AppointmentSlot.id == slot.id, AppointmentSlot.taken < AppointmentSlot.capacity,
               AppointmentSlot.cancelled_at.is_(None))
        .values(taken=AppointmentSlot.taken + 1)
        .execution_options(synchronize_session=False)))
    if result.rowcount != 1:
        log.info("slot %s is full: ticket %s not booked", slot.id, ticket.id)
        raise SlotFull("slot_id: this time is full now: choose another")
    booking = Booking(slot_id=slot.id, ticket_id=ticket.id, site_id=ticket.site_id,
                      status=BookingStatus.BOOKED.value, booked_at=now)
    db.add(booking)
    db.expire(slot, ["taken"])
    log.info("ticket %s booked into slot %s", ticket.id, slot.id)
    return booking


def release_place(db: Session, *, ticket: Ticket, now: datetime, user_id: int | None = None
                  ) -> Booking | None:
    """Give back the place ``ticket`` holds, if it holds one (in the caller's transaction)."""
    booking = booking_of(db, ticket_id=ticket.id)
    if booking is None or booking.status != BookingStatus.BOOKED:
        return booking
    booking.status = BookingStatus.CANCELLED.value
    booking.ended_at, booking.ended_by_user_id = now, user_id
    db.execute(update(AppointmentSlot).where(AppointmentSlot.id == booking.slot_id,
                                             AppointmentSlot.taken > 0)
               .values(taken=AppointmentSlot.taken - 1)
               .execution_options(synchronize_session=False))
    db.expire(booking.slot, ["taken"])
    log.info("ticket %s gave back its place in slot %s", ticket.id, booking.slot_id)
    return booking


def retake_place(db: Session, *, ticket: Ticket, now: datetime) -> Booking | None:
    """Take back the place a cancelled booking of ``ticket`` gave up, if its slot is still to
    come, not cancelled, and has a place free (in the caller's transaction); the booking if
    it holds a place afterwards, else None."""
    booking = booking_of(db, ticket_id=ticket.id)
    if booking is None or booking.status == BookingStatus.BOOKED:
        return booking
    if booking.status != BookingStatus.CANCELLED:
        return None  # the visit was made or missed: a past time, not a place to take back
    result = cast(CursorResult[Any], db.execute(
        update(AppointmentSlot)
        .where(AppointmentSlot.id == booking.slot_id,
               AppointmentSlot.taken < AppointmentSlot.capacity,
               AppointmentSlot.cancelled_at.is_(None), AppointmentSlot.starts_at > now)
        .values(taken=AppointmentSlot.taken + 1)
        .execution_options(synchronize_session=False)))
    if result.rowcount != 1:
        log.info("ticket %s: its slot %s is gone or full; staff are asked to book again",
                 ticket.id, booking.slot_id)
        return None
    booking.status = BookingStatus.BOOKED.value
    booking.ended_at = booking.ended_by_user_id = None
    booking.day_before_sent_at = booking.hour_before_sent_at = None
    db.expire(booking.slot, ["taken"])
    log.info("ticket %s took its place in slot %s back", ticket.id, booking.slot_id)
    return booking


def appointment_lost(ticket: Ticket) -> bool:
    """True for an open request of a service by appointment that holds no place (its booking
    was cancelled and could not be taken back): staff must book it a time again."""
    db = object_session(ticket)
    if db is None or ticket.kind != "request" or ticket.closed_at is not None:
        return False
    if ticket.category is None or not ticket.category.by_appointment:
        return False
    booking = booking_of(db, ticket_id=ticket.id)
    return booking is not None and booking.status == BookingStatus.CANCELLED


def booking_of(db: Session, *, ticket_id: int) -> Booking | None:
    return db.scalar(select(Booking).where(Booking.ticket_id == ticket_id))


def open_slots(db: Session, *, category_code: str, now: datetime,
               days: int = BOOKABLE_DAYS, staff: bool = False,
               site_id: str | None = None) -> list[AppointmentSlot]:
    """The next ``days`` days' slots of a category not yet started and not cancelled, in time
    order, full ones included (residents see them greyed out). ``staff``: a staff-only
    category's too (the 代办 form). ``site_id``: that site's only (the phone form, whose
    session sees every site, for the chosen building's); a scoped session (a kiosk's, staff's)
    sees its own site's anyway."""
    category = db.get(Category, category_code)
    if category is None or not category.active or not (category.public or staff):
        raise NotFound(f"category {category_code!r}: no such service")
    if not category.by_appointment:
        return []
    query = (select(AppointmentSlot)
             .where(AppointmentSlot.category_code == category_code,
                    AppointmentSlot.cancelled_at.is_(None), AppointmentSlot.starts_at > now,
                    AppointmentSlot.starts_at <= now + timedelta(days=days))
             .order_by(AppointmentSlot.starts_at, AppointmentSlot.id))
    if site_id is not None:
        query = query.where(AppointmentSlot.site_id == site_id)
    return list(db.scalars(query))


def appointment_at(ticket: Ticket) -> datetime | None:
    """The start of the slot ``ticket`` holds a place in (kept after the visit; None once the
    place is given back), read through the ticket's own session."""
    db = object_session(ticket)
    booking = booking_of(db, ticket_id=ticket.id) if db is not None else None
    if booking is None or booking.status == BookingStatus.CANCELLED:
        return None
    return booking.slot.starts_at
