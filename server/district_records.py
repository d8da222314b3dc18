"""The import's own record in the centre: which Pi each site's rows came from, and each moved
row's id at the Pi and at the centre, so that a second run finds every row already there.
Created by migration 0710; written only by server/district_move/move.py (outside that package,
so that server/all_models.py can import it without a circle through the move, which reads
every model)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models import Base, utcnow

__all__ = ["DistrictImport", "DistrictImportId"]


class DistrictImport(Base):
    """One Pi moved into one site: ``source`` is the Pi database's fingerprint (its first
    sign-in, ticket, request and compound), so another Pi's file is refused for this site."""

    __tablename__ = "district_imports"
    site_id: Mapped[str] = mapped_column(String(40), ForeignKey("sites.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    first_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_at: Mapped[datetime] = mapped_column(default=utcnow)
    runs: Mapped[int] = mapped_column(Integer, default=1)


class DistrictImportId(Base):
    """A row moved: its key at the Pi (``old_key``) and at the centre (``new_key``), both as
    text (a JSON list of the primary key's values)."""

    __tablename__ = "district_import_ids"
    site_id: Mapped[str] = mapped_column(String(40), ForeignKey("sites.id"), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    old_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    new_key: Mapped[str] = mapped_column(String(200))
