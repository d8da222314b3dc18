"""The latest heartbeat of each kiosk: when it last spoke to the server and what it still holds.

A kiosk posts its heartbeat every minute (kiosk/heartbeat.py → ``POST /api/v1/kiosk/heartbeat``,
server/api/routes/kiosk_heartbeat.py); one row per kiosk of a site is kept and overwritten
(server/services/kiosk_heartbeats.py), so the table stays as small as the number of kiosks.
Staff read it on the site status and Prometheus at each scrape of ``/metrics``.

Registered in server/all_models.py; created by migration 0712. The row is the kiosk's site's
(``SiteOwned``): a site's staff see only their own kiosks.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models import Base, SiteOwned

__all__ = ["KioskHeartbeat"]


class KioskHeartbeat(SiteOwned, Base):
    """What a kiosk said in its latest heartbeat, and when the server heard it."""

    __tablename__ = "kiosk_heartbeats"
    __table_args__ = (UniqueConstraint("site_id", "kiosk_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(4))
    # Where it stands (the kiosk's ``place`` setting), the name staff know it by.
    place: Mapped[str] = mapped_column(String(80), default="")
    last_seen_at: Mapped[datetime]
    # Requests filed at the kiosk and not yet taken by the server (its outbox).
    queued: Mapped[int] = mapped_column(Integer, default=0)
    # How long the oldest of them had waited when the heartbeat was sent; None: none waiting.
    oldest_queued_s: Mapped[int | None] = mapped_column(Integer)
    # The kiosk found its outbox file damaged at start and set it aside.
    outbox_damaged: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[str] = mapped_column(String(40), default="")
