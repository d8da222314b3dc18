"""The audit log page (admins): every change made on the admin pages and every sensitive read,
newest first, filtered by who, what, record and dates, fifty a page.

    GET /admin/audit?who=&what=&subject=&since=YYYY-MM-DD&until=YYYY-MM-DD&kind=reads|changes&page=
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from server.api.deps import SessionDep, SettingsDep
from server.services import audit
from server.web.admin.forms import AdminForm, WebAdmin
from server.web.common import WebRoute, render
from server.web.words import N_

__all__ = ["router"]

router = APIRouter(route_class=WebRoute)
PAGE_SIZE = 50
DATE_SHAPE = N_("请按 年-月-日 填写，例如 2026-12-01")


def _day(form: AdminForm, name: str, tz: ZoneInfo) -> datetime | None:
    text = form.get(name)
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=tz)
    except ValueError:
        form.refuse(name, DATE_SHAPE)
        return None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None
            ) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field that differs; a new record's filled fields."""
    old, new = before or {}, after or {}
    return [(key, _text(old[key]) if key in old else "", _text(new[key]) if key in new else "")
            for key in list(dict.fromkeys([*old, *new]))
            if old.get(key) != new.get(key) and (key in old or new.get(key) not in ("", None, []))]


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, db: SessionDep, settings: SettingsDep, user: WebAdmin,
               who: Annotated[str, Query(max_length=60)] = "",
               what: Annotated[str, Query(max_length=40)] = "",
               subject: Annotated[str, Query(max_length=60)] = "",
               since: Annotated[str, Query(max_length=20)] = "",
               until: Annotated[str, Query(max_length=20)] = "",
               kind: Annotated[str, Query(max_length=10)] = "",
               page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    form = AdminForm.of(who=who, what=what, subject=subject, since=since, until=until,
                        kind=kind)
    tz = ZoneInfo(settings.site.timezone)
    start, end = _day(form, "since", tz), _day(form, "until", tz)
    reads = {"reads": True, "changes": False}.get(kind)
    result = audit.entries(db, who=form.get("who"), what=form.get("what"),
                           subject=form.get("subject"), since=start,
                           until=end + timedelta(days=1) if end else None, reads=reads,
                           page=page, size=PAGE_SIZE) if form.ok else None
    return render(request, "admin/audit.html", {
        "form": form, "result": result, "changes": changes,
        "query": urlencode([(k, v) for k, v in request.query_params.multi_items()
                            if k != "page"]),
    }, status=200 if form.ok else 422, user=user)
