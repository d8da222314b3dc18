"""Tables of the equipment records: each monthly extinguisher inspection with its checklist,
and the full water test after a tank cleaning (who cleaned, with what, which lab, each
indicator and the lab's report).

The register's own tables (``tanks``, ``extinguisher_bays``, ``tank_cleanings``) are the
sensing side's (:mod:`server.sensing.models`); these rows point at them. Registered in
``server/all_models.py``; created by migration 0705.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models import Base, SiteOwned, utcnow

__all__ = ["ExtinguisherInspection", "TankWaterTest"]


class ExtinguisherInspection(SiteOwned, Base):
    """One monthly inspection of one extinguisher: the six answers (``items``, by
    :class:`server.equipment.checklist.Item`), and the ticket a failed item opened."""

    __tablename__ = "extinguisher_inspections"
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("extinguisher_bays.asset_id"), index=True)
    inspected_on: Mapped[date] = mapped_column(Date)
    items: Mapped[dict[str, Any]] = mapped_column()
    passed: Mapped[bool] = mapped_column(Boolean)
    notes: Mapped[str] = mapped_column(Text, default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    inspected_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class TankWaterTest(SiteOwned, Base):
    """The cleaning's details and its lab test, one per logged cleaning. ``passed`` is
    :func:`server.equipment.water.judge`'s verdict, never typed; ``report_key`` is the lab
    report's key in the attachment store (staff only read it)."""

    __tablename__ = "tank_water_tests"
    id: Mapped[int] = mapped_column(primary_key=True)
    cleaning_id: Mapped[int] = mapped_column(ForeignKey("tank_cleanings.id"), unique=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("tanks.asset_id"), index=True)
    company: Mapped[str] = mapped_column(String(100))
    certificate_no: Mapped[str] = mapped_column(String(60))
    disinfectant: Mapped[str] = mapped_column(String(100))
    tested_on: Mapped[date] = mapped_column(Date)
    lab: Mapped[str] = mapped_column(String(100))
    report_no: Mapped[str] = mapped_column(String(60), default="")
    turbidity_ntu: Mapped[float | None] = mapped_column(Float)
    free_chlorine_mg_l: Mapped[float | None] = mapped_column(Float)
    coliforms_detected: Mapped[bool | None] = mapped_column(Boolean)
    colony_cfu_ml: Mapped[float | None] = mapped_column(Float)
    colour: Mapped[float | None] = mapped_column(Float)
    odour_none: Mapped[bool | None] = mapped_column(Boolean)
    passed: Mapped[bool] = mapped_column(Boolean)
    report_key: Mapped[str | None] = mapped_column(String(60))
    report_media_type: Mapped[str | None] = mapped_column(String(60))
