"""The sites of a district and their kiosks' keys.

A site is one service point (社区服务站). Its id is the one the sensor side already uses in its
MQTT topics and in ``[site] id`` (for example ``site-01``). A single Pi has one row, its own
site (the "home site", kept in step with the settings at start); a district's centre has one
row per service point, added by the district admin (server/web/admin/sites.py). Every row that
belongs to a site names it (``server.models.SiteOwned``). Created by migration 0709.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models import Base, utcnow

__all__ = ["Site", "SiteKiosk"]


class Site(Base):
    """A service point: its names, the street (街道) it belongs to and its time zone."""

    __tablename__ = "sites"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    street: Mapped[str] = mapped_column(String(60), default="", index=True)
    timezone: Mapped[str] = mapped_column(String(60), default="Asia/Shanghai")
    # Set by migration 0709 when it had to guess an installed Pi's site id; the server's start,
    # which knows ``[site] id``, renames the guess to it once and clears this.
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class SiteKiosk(Base):
    """A kiosk's key (only its SHA-256 is kept): the centre knows a kiosk's site from the
    X-Kiosk-Key it sends. The home site's ``[security] kiosk_key`` needs no row."""

    __tablename__ = "site_kiosks"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(String(40), ForeignKey("sites.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
