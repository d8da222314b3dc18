"""Where the site's places are, and the other names people write for them.

:class:`PlaceLocation` holds, for a compound or building code, its ``aliases`` (an old name, a
street address, "邮电大楼") and, for a compound, its centre (``lat``/``long``, WGS-84) and how far
it reaches (``radius_m``). ``servicepoint seed`` loads it from the site file
(server/services/site_data.py); Open311 places free-text addresses and positions with it
(server/open311/service.py). A table of its own beside server/models.py, registered in
server/all_models.py and created by migration 0301.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models import Base

__all__ = ["PlaceLocation"]


class PlaceLocation(Base):
    """Other names of a compound or building, and a compound's centre and reach."""

    __tablename__ = "place_locations"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[int | None] = mapped_column(Integer)
