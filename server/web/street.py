"""The street office's (街道) page: every site of its street side by side, read only.

    GET  /street?year=       each site's open requests, overdue, alerts and offline sensors,
                             this month's figures, and the year's requests by month per site

The street office signs in and lands here (server/web/auth.py); its session is scoped to its
street's sites (server/sites/), and every write it sends is refused before any route runs.
The numbers are server/services/street.py's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.models import Role, User
from server.services.street import street_overview, year_by_site
from server.sites.scoping import scope_of
from server.web.common import WebRoute, _roles, render

__all__ = ["router"]

router = APIRouter(route_class=WebRoute)
WebStreetOffice = Annotated[User, Depends(_roles(Role.STREET_OFFICE))]


@router.get("/street", response_class=HTMLResponse)
def street_page(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                user: WebStreetOffice,
                year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> Response:
    scope = scope_of(db)
    sites = sorted(scope.sites or ()) if scope is not None else []
    timezone = settings.site.timezone
    overview = street_overview(db, sites=sites, now=now, timezone=timezone)
    this_year, this_month = (int(part) for part in overview.month.split("-"))
    shown_year = year or this_year
    months = this_month if shown_year == this_year else 0 if shown_year > this_year else 12
    return render(request, "street.html", {
        "overview": overview, "street": user.street or "", "year": shown_year,
        "by_site": year_by_site(db, sites=sites, year=shown_year, timezone=timezone,
                                months=months)},
        user=user)
