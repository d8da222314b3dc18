"""Lists the web pages offer as choices: squads and service categories for the queue's filters
and labels. Read-only; kept here so page routes hold no SQL.

    squads(db)       # [Squad, ...] by code
    categories(db)   # {code: Category}, in the kiosk's order
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Category, Squad

__all__ = ["categories", "squads"]


def squads(db: Session) -> list[Squad]:
    return list(db.scalars(select(Squad).order_by(Squad.code)))


def categories(db: Session) -> dict[str, Category]:
    rows = db.scalars(select(Category).order_by(Category.sort_order, Category.code))
    return {c.code: c for c in rows}
