"""The library's tables, on the server's one ``Base`` (so one migration history and one drift
check cover them).

Two invariants are kept by the database itself, because two server replicas or a replayed kiosk
queue can race:

- a copy has at most one open loan: ``Loan.open_key`` holds the copy's id while the loan is open
  and NULL after, under a UNIQUE constraint (NULLs never collide);
- a copy is kept for at most one hold: ``Hold.ready_key`` works the same way.

Dates that are whole days in the site's time zone (a due date) are ``Date``; instants are the
server's timezone-aware UTC datetimes.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models import Base, Resident, SiteOwned, utcnow

__all__ = ["Book", "Copy", "Hold", "KioskSession", "Loan", "Patron", "PinFailure", "Reminder",
           "ReturnReceipt"]


class Book(Base):
    """A title in the catalog; the shelves hold its copies."""

    __tablename__ = "library_books"
    id: Mapped[int] = mapped_column(primary_key=True)
    isbn: Mapped[str | None] = mapped_column(String(13), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(100), default="")
    publisher: Mapped[str] = mapped_column(String(100), default="")  # typed on the admin page
    category: Mapped[str] = mapped_column(String(40), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    copies: Mapped[list[Copy]] = relationship(back_populates="book", order_by="Copy.label")


class Copy(SiteOwned, Base):
    """One physical copy, known by the id on its label (what the scanner types)."""

    __tablename__ = "library_copies"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(40), unique=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("library_books.id"), index=True)
    shelf: Mapped[str] = mapped_column(String(40), default="")
    # available | withdrawn | lost; "on loan" is not a status but an open Loan row.
    status: Mapped[str] = mapped_column(String(20), default="available")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # NULL until a label sheet with this copy has been printed ("new copies" to label).
    labelled_at: Mapped[datetime | None]
    book: Mapped[Book] = relationship(back_populates="copies")


class Patron(SiteOwned, Base):
    """A resident's library membership: the card id on their card, a hashed PIN for the
    phone-number sign-in, and the token of their phone page."""

    __tablename__ = "library_patrons"
    __site_from__ = "resident"  # the site a new row takes (server/sites/scoping.py)
    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), unique=True)
    card_id: Mapped[str] = mapped_column(String(20), unique=True)
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    phone_token: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    card_printed_at: Mapped[datetime | None]
    resident: Mapped[Resident] = relationship()


class Loan(SiteOwned, Base):
    """A copy lent to a patron. Rows stay after the return: they are the loan history."""

    __tablename__ = "library_loans"
    __site_from__ = "copy"  # the site a new row takes (server/sites/scoping.py)
    id: Mapped[int] = mapped_column(primary_key=True)
    copy_id: Mapped[int] = mapped_column(ForeignKey("library_copies.id"), index=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("library_patrons.id"), index=True)
    borrowed_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    returned_at: Mapped[datetime | None]
    open_key: Mapped[int | None] = mapped_column(Integer, unique=True)
    # The kiosk's id for the borrow, so a retried borrow answers with the first one.
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    via: Mapped[str] = mapped_column(String(60), default="kiosk")
    copy: Mapped[Copy] = relationship()
    patron: Mapped[Patron] = relationship()


class ReturnReceipt(Base):
    """Every return attempt, keyed by the kiosk's client id: a replayed return answers from
    here and is never applied twice, even if the copy has been lent again since."""

    __tablename__ = "library_returns"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    copy_label: Mapped[str] = mapped_column(String(40))
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("library_loans.id"))
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("library_holds.id"))
    # returned | unknown_copy | not_on_loan
    outcome: Mapped[str] = mapped_column(String(20))
    returned_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    via: Mapped[str] = mapped_column(String(60), default="kiosk")
    loan: Mapped[Loan | None] = relationship()
    hold: Mapped[Hold | None] = relationship()


class Hold(SiteOwned, Base):
    """A patron waiting for a title. ``waiting`` until a copy comes back (or is on the shelf
    when the hold is placed); then ``ready`` with that copy kept for them; ``fulfilled`` when
    they borrow it, or ``cancelled``."""

    __tablename__ = "library_holds"
    __site_from__ = "patron"  # the site a new row takes (server/sites/scoping.py)
    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("library_books.id"), index=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("library_patrons.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="waiting", index=True)
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    copy_id: Mapped[int | None] = mapped_column(ForeignKey("library_copies.id"))
    ready_key: Mapped[int | None] = mapped_column(Integer, unique=True)
    ready_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    book: Mapped[Book] = relationship()
    patron: Mapped[Patron] = relationship()
    copy: Mapped[Copy | None] = relationship()


class Reminder(Base):
    """A due-soon or overdue notice recorded by the daily job; shown on the patron's phone page
    and in the staff's overdue list. UNIQUE (loan, key) makes the job idempotent."""

    __tablename__ = "library_reminders"
    __table_args__ = (UniqueConstraint("loan_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("library_loans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(60))
    due_on: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    loan: Mapped[Loan] = relationship()


class PinFailure(Base):
    """A wrong PIN at the kiosk, kept in the database so throttling holds across replicas."""

    __tablename__ = "library_pin_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class KioskSession(Base):
    """A patron identified at the kiosk; borrowing and renewing name this session, not the
    card id, so a phone-and-PIN reader is never reduced to a guessable number. Only the
    token's hash is stored."""

    __tablename__ = "library_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("library_patrons.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    patron: Mapped[Patron] = relationship()
