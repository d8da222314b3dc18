"""What a resident's request carries beyond its form: the shared asset it concerns, and a
spoken description.

Two tables beside server/models.py, registered in server/all_models.py and created by migration
0703:

- :class:`FacilityReport`: a request about the water or a shared facility, linked to the asset it
  concerns (a tank, an extinguisher bay, or just the stairwell unit) and to the maintenance
  ticket whose history got it (server/services/facility_reports.py writes them).
- :class:`SpokenDescription`: the resident's recorded description of a request (a WAV from the
  kiosk's microphone); the audio itself lives in the attachment store (server/attachments.py)
  under ``attachment_key`` (server/services/recordings.py writes and serves them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from server.models import Base, Ticket, utcnow

__all__ = ["FacilityReport", "SpokenDescription"]


class FacilityReport(Base):
    """A resident's request about a shared asset, and the maintenance ticket that heard of it."""

    __tablename__ = "facility_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    # One link per request: filing again (the kiosk's outbox retrying) finds it made.
    request_ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    asset_kind: Mapped[str] = mapped_column(String(20))  # server.facilities.AssetKind
    # None: no tank or bay is registered for the resident's building or compound.
    asset_id: Mapped[str | None] = mapped_column(String(40), index=True)
    concern: Mapped[str] = mapped_column(String(20))  # server.facilities.Concern
    maintenance_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"),
                                                              index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The backrefs let the staff's ticket page show the link from either end
    # (``ticket.facility_link``, ``ticket.resident_reports``) without touching server/models.py.
    request_ticket: Mapped[Ticket] = relationship(
        foreign_keys=[request_ticket_id],
        backref=backref("facility_link", uselist=False, viewonly=True))
    maintenance_ticket: Mapped[Ticket | None] = relationship(
        foreign_keys=[maintenance_ticket_id],
        backref=backref("resident_reports", viewonly=True, order_by="FacilityReport.id"))


class SpokenDescription(Base):
    """A request's spoken description: the stored audio's key and what it is."""

    __tablename__ = "spoken_descriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    attachment_key: Mapped[str] = mapped_column(String(60))
    media_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ticket: Mapped[Ticket] = relationship(
        backref=backref("spoken_description", uselist=False, viewonly=True))
