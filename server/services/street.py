"""The street office's (街道) overview: every site of its street side by side, read only.

For each site: its open requests, how many are overdue, its unacknowledged alerts, its sensor
nodes that are offline, and this month's figures (requests, residents served, completed); then
the street's total. Every count is one grouped query over the sites, so ten sites cost what one
does. The caller's session is the street office's, scoped (server/sites/) to its street's sites.

Used by server/web/street.py (``/street``); the monthly figures per site come from
server/services/figures.py with its ``site_id``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.alerts.rows import AlertRow
from server.lifecycle import OPEN_STATUSES
from server.models import Ticket
from server.sensing.models import SensorNode
from server.services.figures import monthly_figures
from server.sites.models import Site

__all__ = ["SiteLine", "StreetOverview", "YearBySite", "street_overview", "year_by_site"]

_OPEN = [s.value for s in OPEN_STATUSES]


@dataclass(frozen=True)
class SiteLine:
    """One site's line (or the street's total, with ``site`` None)."""

    site: Site | None
    open_requests: int
    overdue: int
    open_alerts: int
    nodes_offline: int
    month_requests: int
    month_residents: int
    month_completed: int


@dataclass(frozen=True)
class StreetOverview:
    month: str
    lines: list[SiteLine]
    total: SiteLine


def _counts(db: Session, statement: object) -> dict[str, int]:
    return {site: count for site, count in db.execute(statement)}  # type: ignore[call-overload]


def street_overview(db: Session, *, sites: Iterable[str], now: datetime,
                    timezone: str) -> StreetOverview:
    ids = sorted(set(sites))
    rows = {s.id: s for s in db.scalars(select(Site).where(Site.id.in_(ids)))}
    requests = Ticket.kind == "request"
    open_requests = _counts(db, select(Ticket.site_id, func.count()).where(
        requests, Ticket.status.in_(_OPEN), Ticket.site_id.in_(ids)).group_by(Ticket.site_id))
    overdue = _counts(db, select(Ticket.site_id, func.count()).where(
        Ticket.status.in_(_OPEN), Ticket.due_at < now, Ticket.site_id.in_(ids))
        .group_by(Ticket.site_id))
    alerts = _counts(db, select(AlertRow.site_id, func.count()).where(
        AlertRow.acknowledged_at.is_(None), AlertRow.kind == "raised",
        AlertRow.site_id.in_(ids)).group_by(AlertRow.site_id))
    # Sensor nodes carry a site but no scope of their own: filtered here by the street's ids.
    offline = _counts(db, select(SensorNode.site_id, func.count()).where(
        SensorNode.online.is_(False), SensorNode.site_id.in_(ids)).group_by(SensorNode.site_id))
    local = now.astimezone(ZoneInfo(timezone))
    month = local.strftime("%Y-%m")
    lines = []
    for site_id in ids:
        if site_id not in rows:
            continue
        figures = [f for f in monthly_figures(db, year=local.year, timezone=timezone,
                                              site_id=site_id) if f.month == month]
        lines.append(SiteLine(
            site=rows[site_id], open_requests=open_requests.get(site_id, 0),
            overdue=overdue.get(site_id, 0), open_alerts=alerts.get(site_id, 0),
            nodes_offline=offline.get(site_id, 0),
            month_requests=sum(f.requests for f in figures),
            month_residents=sum(f.residents for f in figures),
            month_completed=sum(f.completed for f in figures)))
    total = SiteLine(site=None, **{
        name: sum(getattr(line, name) for line in lines)
        for name in ("open_requests", "overdue", "open_alerts", "nodes_offline",
                     "month_requests", "month_residents", "month_completed")})
    return StreetOverview(month=month, lines=lines, total=total)


@dataclass(frozen=True)
class YearBySite:
    """The year's requests by month, one column a site, and the street's total."""

    sites: list[Site]
    months: list[tuple[str, list[int], int]]  # (month, requests per site in order, total)


def year_by_site(db: Session, *, sites: Iterable[str], year: int, timezone: str,
                 months: int = 12) -> YearBySite:
    """The first ``months`` months of ``year`` (this year: up to this month, none to come)."""
    rows = list(db.scalars(select(Site).where(Site.id.in_(sorted(set(sites))))
                           .order_by(Site.id)))
    per_site = []
    for site in rows:
        counts: dict[str, int] = {}
        for figure in monthly_figures(db, year=year, timezone=timezone, site_id=site.id):
            counts[figure.month] = counts.get(figure.month, 0) + figure.requests
        per_site.append(counts)
    lines = []
    for number in range(1, months + 1):
        month = f"{year}-{number:02d}"
        values = [counts.get(month, 0) for counts in per_site]
        lines.append((month, values, sum(values)))
    return YearBySite(sites=rows, months=lines)
