"""What the request forms offer (the public form at /new and the staff's 代办 form): the
services a person may ask for there, and the places, compound → building → unit. Read-only;
kept here so the page routes (server/web/request_form.py) hold no SQL.

    filable_categories(db, staff=False)   # [Category] residents may file, in the kiosk's order
    compounds_with_buildings(db)          # [Compound] with .buildings loaded
    building_by_code(db, "C01-B01")       # Building with .units and .compound, or None
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from server.models import Building, Category, Compound

__all__ = ["building_by_code", "compounds_with_buildings", "filable_categories"]


def filable_categories(db: Session, *, staff: bool) -> list[Category]:
    """Active services in the kiosk's order: for residents only the public ones (the same the
    kiosk and Open311 offer); staff taking a call may also file the staff-only ones."""
    query = select(Category).where(Category.active.is_(True))
    if not staff:
        query = query.where(Category.public.is_(True))
    return list(db.scalars(query.order_by(Category.sort_order, Category.code)))


def compounds_with_buildings(db: Session) -> list[Compound]:
    return list(db.scalars(select(Compound).order_by(Compound.code)
                           .options(selectinload(Compound.buildings))))


def building_by_code(db: Session, code: str) -> Building | None:
    if not code:
        return None
    return db.scalar(select(Building).where(Building.code == code)
                     .options(joinedload(Building.compound), selectinload(Building.units)))
