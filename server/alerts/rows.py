"""The alert book's tables: one row per staff alert or request notice, and one per delivery of
it to one recipient on one channel (the outbox). The table names are those of migrations 0201
and 0401.

:class:`AlertRow` is the stored alert or notice; :class:`~server.alerts.model.AlertMessage` is
what one channel carries of it. :class:`ContactChannel` is how a squad or a person is reached
(from the site file; the URL itself stays in the environment variable it names), and
:class:`NoticeCursor` how far the ticket history has been read for notices.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models import Base, SiteScoped, Squad, Ticket, User, Volunteer

__all__ = ["AlertDelivery", "AlertRow", "ContactChannel", "NoticeCursor"]


class AlertRow(SiteScoped, Base):
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
    # A request notice names the history row it tells of; unique, so two server replicas reading
    # the same history cannot both make it.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id"), unique=True)
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


class ContactChannel(Base):
    """One way to reach a squad (its WeCom or DingTalk group robot, a mailbox), a volunteer or a
    signed-in user (a squad leader, staff): an Apprise URL kept in the environment variable
    ``url_env`` names. Exactly one of the three owners is set."""

    __tablename__ = "contact_channels"
    id: Mapped[int] = mapped_column(primary_key=True)
    squad_id: Mapped[int | None] = mapped_column(ForeignKey("squads.id"), index=True)
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    url_env: Mapped[str] = mapped_column(String(80))
    squad: Mapped[Squad | None] = relationship()
    volunteer: Mapped[Volunteer | None] = relationship()
    user: Mapped[User | None] = relationship()


class NoticeCursor(Base):
    """The newest ticket history row already read for notices (one row, id 1). Migration 0401
    starts it at the history's end, so an upgraded database does not announce its past."""

    __tablename__ = "notice_cursor"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer, default=0)
