"""Tables of appointments (预约上门).

- :class:`AppointmentSlot`: a time staff or a squad leader published for one category, with
  how many places it has (``capacity``) and how many are taken (``taken``). The database holds
  ``0 <= taken <= capacity`` with a CHECK, and a place is taken only by a conditional UPDATE
  (``server.appointments.booking.take_place``), so two kiosks booking the last place at once
  cannot both have it, on SQLite or PostgreSQL, with no lock in Python.
- :class:`Booking`: the place one request holds in one slot (one booking per ticket), its
  status (``rules.BookingStatus``), and when each reminder went out, so a reminder is sent once
  even across a restart.

``Category.by_appointment`` (server/models.py) says which categories need a slot. Both tables
are :class:`~server.models.SiteScoped`: a site's staff see and change only their site's slots
(server/sites/scoping.py), and a slot published without a site takes the acting one.
Registered for migrations in server/all_models.py; created by migration 0708.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models import Base, Category, SiteScoped, Ticket, utcnow

__all__ = ["AppointmentSlot", "Booking"]


class AppointmentSlot(SiteScoped, Base):
    __tablename__ = "appointment_slots"
    __table_args__ = (
        CheckConstraint("taken <= capacity", name="taken_within_capacity"),
        CheckConstraint("taken >= 0", name="taken_not_negative"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(String(40), default="site-01")
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_at: Mapped[datetime | None]
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    category: Mapped[Category] = relationship()
    bookings: Mapped[list[Booking]] = relationship(back_populates="slot",
                                                   order_by="Booking.id")

    @property
    def remaining(self) -> int:
        return max(0, self.capacity - self.taken)


class Booking(SiteScoped, Base):
    __tablename__ = "appointment_bookings"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(String(40), default="site-01")
    slot_id: Mapped[int] = mapped_column(ForeignKey("appointment_slots.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="booked")
    booked_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the place was freed, or the visit marked done or no-show, and by whom.
    ended_at: Mapped[datetime | None]
    ended_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Each reminder once: set in the same transaction as its notice.
    day_before_sent_at: Mapped[datetime | None]
    hour_before_sent_at: Mapped[datetime | None]
    # A booking ended because its whole slot was cancelled: when its people were told.
    cancel_told_at: Mapped[datetime | None]
    slot: Mapped[AppointmentSlot] = relationship(back_populates="bookings")
    ticket: Mapped[Ticket] = relationship()
