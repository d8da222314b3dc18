"""Who reached a resident's request from outside the staff pages, and what they saw.

Two tables beside server/models.py, registered in server/all_models.py and created by migration
0501:

- :class:`TaskLink`: a volunteer's one-tap link to one task (server/services/task_links.py issues
  and checks them). Only the SHA-256 of the link's token is kept, so a copied database holds no
  usable link.
- :class:`PhoneReveal`: one row each time a resident's full phone number was shown to someone
  (server/services/privacy.py writes them): who, when, which request, by which way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models import Base, Ticket, User, Volunteer, utcnow

__all__ = ["PhoneReveal", "TaskLink"]


class TaskLink(Base):
    """A signed-in-by-link grant: this volunteer, this task, until it expires, closes or is
    revoked."""

    __tablename__ = "task_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    ticket: Mapped[Ticket] = relationship()
    volunteer: Mapped[Volunteer] = relationship()


class PhoneReveal(Base):
    """A resident's full phone number was shown: to whom, when, for which request, how."""

    __tablename__ = "phone_reveals"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    who: Mapped[str] = mapped_column(String(60))
    # page (a signed-in page), link (a volunteer's task link), api (the JSON API)
    via: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user: Mapped[User | None] = relationship()
