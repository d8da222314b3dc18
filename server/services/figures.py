"""Monthly figures for staff reports: requests, residents served, and how fast help came.

Grouped by month, category and squad, as the community reports its work. Medians are computed
in Python so SQLite and PostgreSQL give the same answer.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server.models import ServiceRequest, Ticket

__all__ = ["MonthlyFigure", "monthly_figures"]


@dataclass(frozen=True)
class MonthlyFigure:
    month: str  # 2026-11, in the site's time zone
    category: str
    squad: str | None
    requests: int
    residents: int
    completed: int
    median_hours_to_accept: float | None
    median_hours_to_resolve: float | None


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def monthly_figures(db: Session, *, year: int, timezone: str, site_id: str | None = None
                    ) -> list[MonthlyFigure]:
    """The year's figures of the sites ``db`` sees (server/sites/ scopes it: staff see their
    site's), or of ``site_id`` alone (the street office's columns per site)."""
    tz = ZoneInfo(timezone)
    start = datetime(year, 1, 1, tzinfo=tz)
    end = datetime(year + 1, 1, 1, tzinfo=tz)
    statement = select(Ticket).where(Ticket.kind == "request", Ticket.created_at >= start,
                                     Ticket.created_at < end,
                                     Ticket.status.not_in(["cancelled", "duplicate"]))
    if site_id is not None:
        statement = statement.where(Ticket.site_id == site_id)
    rows = db.scalars(
        statement.options(selectinload(Ticket.request).selectinload(ServiceRequest.resident),
                          selectinload(Ticket.squad))
    ).all()
    groups: dict[tuple[str, str, str | None], list[Ticket]] = defaultdict(list)
    for ticket in rows:
        month = ticket.created_at.astimezone(tz).strftime("%Y-%m")
        groups[(month, ticket.category_code, ticket.squad.code if ticket.squad else None)].append(
            ticket)
    figures = []
    for (month, category, squad), tickets in sorted(groups.items(),
                                                    key=lambda kv: (kv[0][0], kv[0][1],
                                                                    kv[0][2] or "")):
        residents = {t.request.resident_id for t in tickets
                     if t.request is not None and t.request.resident_id is not None}
        anonymous = sum(1 for t in tickets if t.request is None or t.request.resident_id is None)
        accept = [_hours(t.accepted_at - t.created_at) for t in tickets if t.accepted_at]
        resolve = [_hours(t.resolved_at - t.created_at) for t in tickets if t.resolved_at]
        figures.append(MonthlyFigure(
            month=month, category=category, squad=squad, requests=len(tickets),
            residents=len(residents) + anonymous,
            completed=sum(1 for t in tickets if t.status in ("resolved", "closed")),
            median_hours_to_accept=statistics.median(accept) if accept else None,
            median_hours_to_resolve=statistics.median(resolve) if resolve else None,
        ))
    return figures
