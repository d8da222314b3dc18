"""The 管理 page: the admin sections, each a link to its own pages.

    GET /admin        (admin)
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from server.web.admin.forms import WebAdmin
from server.web.admin.sections import SECTIONS
from server.web.common import WebRoute, render

__all__ = ["router"]

router = APIRouter(route_class=WebRoute)


@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, user: WebAdmin) -> HTMLResponse:
    return render(request, "admin/home.html", {"sections": SECTIONS}, user=user)
