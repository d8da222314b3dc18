"""The alert book's tables: one row per staff alert, and one per delivery of it to one
recipient on one channel (the outbox). The table names are those of migration 0201.

:class:`AlertRow` is the stored alert; :class:`~server.alerts.model.AlertMessage` is what one
channel carries of it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models import Base, Ticket, User

__all__ = ["AlertDelivery", "AlertRow"]


class AlertRow(Base):
    """A staff alert about a ticket (raised, escalated or cleared), as the alert book keeps it:
    shown on the dashboard, published on MQTT, acknowledged by staff."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    level: Mapped[int] = mapped_column(Integer, default=0)
    urgent: Mapped[bool] = mapped_column(Boolean)
    site_id: Mapped[str] = mapped_column(String(40))
    asset_id: Mapped[str | None] = mapped_column(String(40))
    condition: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    ticket: Mapped[Ticket] = relationship()
    acknowledger: Mapped[User | None] = relationship()


class AlertDelivery(Base):
    """One alert to one recipient on one channel; the unique key makes it at most once."""

    __tablename__ = "alert_deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    level: Mapped[int] = mapped_column(Integer, default=0)
    staff_id: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None]
    alert: Mapped[AlertRow] = relationship()
