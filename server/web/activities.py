"""Group activities in the browser: staff set one up and show or print its QR code; volunteers
scan it and sign in, then out, on their phone; their minutes go into their service record
(server/records/activities.py holds the rules).

    GET  /staff/activities            upcoming and recent activities, and the form for a new one
    POST /staff/activities            set one up
    GET  /staff/activities/<id>       its QR code to show or print, and who signed in and out
    GET  /staff/activities/<id>/qr.png
    GET  /a/<token>                   the volunteer's page the QR code opens (sign-in needed)
    POST /a/<token>/in | /a/<token>/out
"""

from __future__ import annotations

import io
import logging
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.errors import NotFound
from server.printing import qr_image
from server.records.activities import (
    ActivityRefused,
    activity_by_token,
    attendance_minutes,
    create_activity,
    sign_in,
    sign_out,
)
from server.records.models import Activity, Attendance
from server.settings import ServerSettings
from server.sites.scoping import acting_site
from server.web.common import CsrfChecked, WebDispatcher, WebRoute, WebVolunteer, redirect, render
from server.web.words import N_

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)
ActivityId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Token = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$")]

_ERRORS = {
    "required": N_("请填写活动名称"),
    "too_long": N_("太长了，请写短一些"),
    "bad_time": N_("请按 年-月-日 和 时:分 填写"),
    "out_of_range": N_("开始时间应在一周前到一年后之间"),
    "bad_length": N_("结束时间应晚于开始时间，且活动不超过 12 小时"),
    "not_open": N_("活动还没开始，开始前一小时可以签到"),
    "over": N_("活动已经结束，不能再签到了"),
    "not_signed_in": N_("您还没有签到"),
}


def _when(day: str, clock: str, tz: ZoneInfo) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tz)
    except ValueError:
        return None


def _list_page(request: Request, db: SessionDep, now: datetime, settings: ServerSettings,
               user: WebDispatcher, *, form: dict[str, str] | None = None,
               errors: dict[str, str] | None = None, status: int = 200) -> HTMLResponse:
    recent = db.scalars(select(Activity).where(Activity.ends_at >= now - timedelta(days=30))
                        .order_by(Activity.starts_at)).all()
    today = now.astimezone(ZoneInfo(settings.site.timezone)).date().isoformat()
    return render(request, "activities.html", {
        "activities": recent, "now": now, "error_words": _ERRORS, "errors": errors or {},
        "form": form or {"day": today, "start": "08:00", "end": "10:00"},
    }, user=user, status=status)


@router.get("/staff/activities", response_class=HTMLResponse)
def activities(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
               user: WebDispatcher) -> HTMLResponse:
    return _list_page(request, db, now, settings, user)


@router.post("/staff/activities", response_class=HTMLResponse)
def add_activity(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                 user: WebDispatcher, _csrf: CsrfChecked,
                 title: Annotated[str, Form(max_length=500)] = "",
                 place: Annotated[str, Form(max_length=500)] = "",
                 day: Annotated[str, Form(max_length=10)] = "",
                 start: Annotated[str, Form(max_length=5)] = "",
                 end: Annotated[str, Form(max_length=5)] = "") -> Response:
    tz = ZoneInfo(settings.site.timezone)
    form = {"title": title, "place": place, "day": day, "start": start, "end": end}
    try:
        activity = create_activity(db, title=title, place=place,
                                   starts_at=_when(day, start, tz), ends_at=_when(day, end, tz),
                                   site_id=acting_site(db, settings.site.id), user=user,
                                   now=now)
    except ActivityRefused as refused:
        db.rollback()
        errors = {{"starts_at": "start", "ends_at": "end"}.get(k, k): v
                  for k, v in refused.errors.items()}
        return _list_page(request, db, now, settings, user, form=form, errors=errors,
                          status=422)
    db.commit()
    return redirect(f"/staff/activities/{activity.id}")


def _activity(db: SessionDep, activity_id: int) -> Activity:
    activity = db.get(Activity, activity_id)
    if activity is None:
        raise NotFound("no such activity")
    return activity


@router.get("/staff/activities/{activity_id}", response_class=HTMLResponse)
def activity_page(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                  user: WebDispatcher, activity_id: ActivityId) -> HTMLResponse:
    activity = _activity(db, activity_id)
    rows = [(a, attendance_minutes(a, now)) for a in activity.attendance]
    return render(request, "activity.html", {
        "activity": activity, "rows": rows,
        "sign_url": f"{settings.http.public_url}/a/{activity.token}"}, user=user)


@router.get("/staff/activities/{activity_id}/qr.png")
def activity_qr(db: SessionDep, settings: SettingsDep, user: WebDispatcher,
                activity_id: ActivityId) -> Response:
    activity = _activity(db, activity_id)
    buffer = io.BytesIO()
    qr_image(f"{settings.http.public_url}/a/{activity.token}", 600).save(buffer, format="PNG")
    return Response(buffer.getvalue(), media_type="image/png",
                    headers={"Cache-Control": "private, no-store"})


def _sign_page(request: Request, db: SessionDep, now: datetime, user: WebVolunteer,
               activity: Activity, *, error: str = "", status: int = 200) -> HTMLResponse:
    mine = None
    if user.volunteer is not None:
        mine = db.scalar(select(Attendance).where(Attendance.activity_id == activity.id,
                                                  Attendance.volunteer_id == user.volunteer.id))
    return render(request, "activity_sign.html", {
        "activity": activity, "mine": mine, "error": _ERRORS.get(error, ""),
        "minutes": attendance_minutes(mine, now) if mine is not None else None,
        "token": activity.token}, user=user, status=status)


@router.get("/a/{token}", response_class=HTMLResponse)
def sign_page(request: Request, db: SessionDep, now: NowDep, user: WebVolunteer,
              token: Token) -> HTMLResponse:
    return _sign_page(request, db, now, user, activity_by_token(db, token))


@router.post("/a/{token}/{move}", response_class=HTMLResponse)
def sign(request: Request, db: SessionDep, now: NowDep, user: WebVolunteer, _csrf: CsrfChecked,
         token: Token, move: Annotated[str, Path(pattern=r"^(in|out)$")]) -> Response:
    activity = activity_by_token(db, token)
    if user.volunteer is None:
        raise NotFound("this sign-in has no volunteer record")
    try:
        if move == "in":
            sign_in(db, activity=activity, volunteer=user.volunteer, now=now)
        else:
            sign_out(db, activity=activity, volunteer=user.volunteer, now=now)
    except ActivityRefused as refused:
        db.rollback()
        return _sign_page(request, db, now, user, activity, error=refused.errors["when"],
                          status=409)
    db.commit()
    return redirect(f"/a/{token}")
