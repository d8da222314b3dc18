"""Tables of the Open311 interface (places' positions and other names: server/place_locations.py).

- :class:`Open311Client`: a city platform or tool that may file requests, with the hash of the
  API key staff issued to it (``servicepoint open311 key NAME``); the key itself is never stored.
- :class:`Open311Filing`: what an Open311 client sent with a request beyond the request itself
  (who filed it, e-mail, device id, photo link, the address or position as given, and how the
  server placed it), one row per ticket filed through Open311.

Registered for migrations in server/all_models.py; created by migration 0301.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models import Base, Ticket, utcnow

__all__ = ["Open311Client", "Open311Filing"]


class Open311Client(Base):
    """An outside system allowed to file requests through Open311."""

    __tablename__ = "open311_clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class Open311Filing(Base):
    """The Open311 side of one filed request."""

    __tablename__ = "open311_filings"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("open311_clients.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(100))
    device_id: Mapped[str | None] = mapped_column(String(64))
    account_id: Mapped[str | None] = mapped_column(String(64))
    media_url: Mapped[str | None] = mapped_column(String(500))
    address_string: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    # How the server placed it ("name 劳动新村", "position, 40 m from its centre", "code"), or
    # why it went to the triage queue.
    placed_how: Mapped[str] = mapped_column(Text, default="")
    ticket: Mapped[Ticket] = relationship()
    client: Mapped[Open311Client] = relationship()
