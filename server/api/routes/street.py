"""The street office's (街道) JSON: every site of its street, read only.

    GET /api/v1/street/overview          each site's open requests, overdue, unhandled alerts,
                                         offline sensors and this month's figures; the total
    GET /api/v1/street/figures?year=     each site's monthly figures (as /figures/monthly
                                         gives a site's staff) and the street's total by month

Only the street office (``street_office``) is let in; its session is scoped to its street's
sites (server/sites/), and any write it sends is a 403 before a route runs. The page with the
same numbers is server/web/street.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from server.api import schemas
from server.api.deps import NowDep, SessionDep, SettingsDep, require_roles
from server.models import Role, User
from server.services.figures import monthly_figures
from server.services.street import SiteLine, street_overview
from server.sites.models import Site
from server.sites.scoping import scope_of

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/street", tags=["street office"],
                   responses={401: {"model": schemas.ErrorPublic},
                              403: {"model": schemas.ErrorPublic}})
StreetOffice = Annotated[User, Depends(require_roles(Role.STREET_OFFICE))]


class SiteLinePublic(BaseModel):
    site: str | None  # None: the street's total
    name_zh: str
    name_en: str
    open_requests: int
    overdue: int
    open_alerts: int
    nodes_offline: int
    month_requests: int
    month_residents: int
    month_completed: int


class StreetOverviewPublic(BaseModel):
    month: str
    sites: list[SiteLinePublic]
    total: SiteLinePublic


class SiteFiguresPublic(BaseModel):
    site: str
    name_zh: str
    name_en: str
    figures: list[schemas.MonthlyFigurePublic]


class StreetMonthPublic(BaseModel):
    month: str
    requests: int
    residents: int
    completed: int


class StreetFiguresPublic(BaseModel):
    year: int
    sites: list[SiteFiguresPublic]
    total: list[StreetMonthPublic]


def _sites(db: SessionDep) -> list[Site]:
    scope = scope_of(db)
    ids = sorted(scope.sites or ()) if scope is not None else []
    return [site for site in (db.get(Site, site_id) for site_id in ids) if site is not None]


def _line(line: SiteLine) -> SiteLinePublic:
    site = line.site
    return SiteLinePublic(
        site=site.id if site else None, name_zh=site.name_zh if site else "合计",
        name_en=(site.name_en or site.name_zh) if site else "Total",
        open_requests=line.open_requests, overdue=line.overdue, open_alerts=line.open_alerts,
        nodes_offline=line.nodes_offline, month_requests=line.month_requests,
        month_residents=line.month_residents, month_completed=line.month_completed)


@router.get("/overview", response_model=StreetOverviewPublic)
def overview(db: SessionDep, now: NowDep, settings: SettingsDep,
             _user: StreetOffice) -> StreetOverviewPublic:
    found = street_overview(db, sites=[s.id for s in _sites(db)], now=now,
                            timezone=settings.site.timezone)
    return StreetOverviewPublic(month=found.month, sites=[_line(line) for line in found.lines],
                                total=_line(found.total))


@router.get("/figures", response_model=StreetFiguresPublic)
def figures(db: SessionDep, settings: SettingsDep, _user: StreetOffice,
            year: Annotated[int, Query(ge=2000, le=2100)]) -> StreetFiguresPublic:
    per_site = []
    total: dict[str, StreetMonthPublic] = {}
    for site in _sites(db):
        rows = monthly_figures(db, year=year, timezone=settings.site.timezone, site_id=site.id)
        per_site.append(SiteFiguresPublic(
            site=site.id, name_zh=site.name_zh, name_en=site.name_en or site.name_zh,
            figures=[schemas.MonthlyFigurePublic.model_validate(r, from_attributes=True)
                     for r in rows]))
        for row in rows:
            month = total.setdefault(row.month, StreetMonthPublic(
                month=row.month, requests=0, residents=0, completed=0))
            month.requests += row.requests
            month.residents += row.residents
            month.completed += row.completed
    return StreetFiguresPublic(year=year, sites=per_site,
                               total=[total[month] for month in sorted(total)])
