"""The photos of a request: what the resident sent when filing, and the volunteer's "after".

One row per photo: the attachment keys of the re-encoded picture and its thumbnail (the bytes
live in the attachment store, server/attachments.py), its size, and who added it. A table of its
own beside server/models.py, registered in server/all_models.py and created by migration 0702.
server/services/photos.py makes and reads the rows; server/web/photos.py serves the pictures to
those who may see the request.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models import Base, Ticket, utcnow

__all__ = ["Photo", "PhotoKind"]


class PhotoKind(StrEnum):
    RESIDENT = "resident"  # sent with the request (the leak, the broken switch)
    AFTER = "after"  # the volunteer's picture of the job done


class Photo(Base):
    """One stored picture of a request."""

    __tablename__ = "photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(40), unique=True)
    thumb_key: Mapped[str] = mapped_column(String(40), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    # resident | volunteer | staff: who sent it (a 代办 filing's photos are the staff's)
    added_by: Mapped[str] = mapped_column(String(20))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ticket: Mapped[Ticket] = relationship()
