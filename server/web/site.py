"""The site's state for staff and squad leaders: tanks (level now and over days and weeks, the
cleaning due date and log, recording a cleaning with its water test), the extinguisher
register, sensor nodes online or offline, and alerts that appear live on every staff page.

    GET  /staff/site                             tanks, extinguisher bays, nodes, open alerts
    GET  /staff/site/tanks/<asset>?range=7d|12w  level chart, cleaning log and form
    POST /staff/site/tanks/<asset>/cleaning      staff record a cleaning and its water test
    GET  /staff/alerts.json?after=<id>           new alerts since a cursor (the page polls it)
    POST /staff/alerts/<id>/ack                  acknowledge an alert

Everything about sensors comes from ``server.sensing.services`` (sensor ingest). It is looked
up through :func:`sensing`, the one seam tests replace; while ingest is not installed the pages
say so instead of failing.
"""

from __future__ import annotations

import importlib
import logging
from datetime import date, datetime, timedelta
from types import ModuleType
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.errors import Invalid, NotFound
from server.models import User
from server.services.kiosk_heartbeats import kiosk_lines
from server.web.charts import level_chart, summarise
from server.web.common import (
    CsrfChecked,
    WebDispatcher,
    WebRoute,
    WebStaff,
    redirect,
    render,
)

__all__ = ["router", "sensing"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)
AssetId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,80}$")]
RANGES = {"7d": (timedelta(days=7), timedelta(hours=1), timedelta(days=1)),
          "12w": (timedelta(weeks=12), timedelta(days=1), timedelta(weeks=1))}
MAX_NOTES = 500


def sensing() -> ModuleType | None:
    """The sensor services, or None while sensor ingest is not part of this server."""
    try:
        return importlib.import_module("server.sensing.services")
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == "server.sensing" or exc.name.startswith("server.sensing.")):
            return None
        raise


def _tz(settings: Any) -> ZoneInfo:
    return ZoneInfo(settings.site.timezone)


# --- the overview ---------------------------------------------------------------------------

@router.get("/staff/site", response_class=HTMLResponse)
def site_page(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
              user: WebDispatcher) -> Response:
    s = sensing()
    kiosks = kiosk_lines(db, now=now)  # each kiosk's latest heartbeat, sensors or not
    if s is None:
        return render(request, "site.html", {"ready": False, "kiosks": kiosks}, user=user)
    overview = s.site_overview(db, now=now, rules=request.app.state.rules)
    return render(request, "site.html", {
        "kiosks": kiosks,
        "ready": True, "tanks": overview.get("tanks", []),
        "nodes": overview.get("nodes", []), "alerts": overview.get("alerts", []),
        "register": s.extinguisher_register(db, now=now, rules=request.app.state.rules),
        "today": now.astimezone(_tz(settings)).date(),
        "as_date": _as_date,
    }, user=user)


def _as_date(value: Any) -> date | None:
    """Dates from the sensing services may come as date, datetime or ISO text."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


# --- one tank -------------------------------------------------------------------------------

def _tank_page(request: Request, db: SessionDep, now: datetime, settings: Any, user: User,
               asset_id: str, *, span: str = "7d", status: int = 200,
               errors: dict[str, str] | None = None,
               form: dict[str, str] | None = None) -> HTMLResponse:
    s = sensing()
    if s is None:
        return render(request, "site.html", {"ready": False}, user=user)
    tank = next((t for t in s.site_overview(db, now=now, rules=request.app.state.rules)
                 .get("tanks", [])
                 if t.get("asset_id") == asset_id), None)
    if tank is None:
        raise NotFound(f"no tank {asset_id}")
    length, bucket, tick = RANGES.get(span, RANGES["7d"])
    since = now - length
    points = list(s.tank_history(db, asset_id=asset_id, since=since, until=now))
    tz = _tz(settings)
    title = tank.get("name") or asset_id
    chart = level_chart(points, since=since, until=now, bucket=bucket, tick=tick, tz=tz,
                        title=f"{title} · {span}")
    today = now.astimezone(tz).date().isoformat()
    # Residents' reports link to the sensor register, so like it they load only with sensing.
    from server.services.facility_reports import recent_reports

    return render(request, "tank.html", {
        "tank": tank, "span": span, "chart": Markup(chart), "summary": summarise(points),
        "log": s.cleaning_log(db, asset_id=asset_id), "as_date": _as_date,
        "errors": errors or {}, "form": form or {"cleaned_on": today}, "today": today,
        "may_record": user.role in ("admin", "staff"),
        # What residents said of this tank's water lately, beside its readings (issue 17).
        "reports": recent_reports(db, asset_id=asset_id, since=now - timedelta(days=30)),
    }, status=status, user=user)


@router.get("/staff/site/tanks/{asset_id}", response_class=HTMLResponse)
def tank_page(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
              user: WebDispatcher, asset_id: AssetId,
              range: Annotated[str, Query(pattern="^(7d|12w)$")] = "7d") -> Response:
    return _tank_page(request, db, now, settings, user, asset_id, span=range)


def _check_cleaning(form: dict[str, str], *, today: date) -> tuple[dict[str, str], Any]:
    """Field errors (by field name) and the parsed values."""
    errors: dict[str, str] = {}
    cleaned_on: date | None = None
    try:
        cleaned_on = date.fromisoformat(form["cleaned_on"].strip())
        if cleaned_on > today:
            errors["cleaned_on"] = "future"
        elif cleaned_on < today - timedelta(days=366):
            errors["cleaned_on"] = "old"
    except ValueError:
        errors["cleaned_on"] = "format"
    if form["water_test"] not in ("passed", "failed"):
        errors["water_test"] = "missing"
    turbidity: float | None = None
    if form["turbidity_ntu"].strip():
        try:
            turbidity = float(form["turbidity_ntu"].strip().replace("，", ".").replace(",", "."))
            if not 0 <= turbidity <= 1000:
                errors["turbidity_ntu"] = "range"
        except ValueError:
            errors["turbidity_ntu"] = "format"
    if len(form["notes"]) > MAX_NOTES:
        errors["notes"] = "long"
    return errors, (cleaned_on, form["water_test"] == "passed", turbidity,
                    form["notes"].strip())


@router.post("/staff/site/tanks/{asset_id}/cleaning", response_class=HTMLResponse)
def record_cleaning(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                    user: WebStaff, _csrf: CsrfChecked, asset_id: AssetId,
                    cleaned_on: Annotated[str, Form()] = "",
                    water_test: Annotated[str, Form()] = "",
                    turbidity_ntu: Annotated[str, Form()] = "",
                    notes: Annotated[str, Form()] = "") -> Response:
    form = {"cleaned_on": cleaned_on, "water_test": water_test,
            "turbidity_ntu": turbidity_ntu, "notes": notes}
    errors, parsed = _check_cleaning(form, today=now.astimezone(_tz(settings)).date())
    if errors:
        return _tank_page(request, db, now, settings, user, asset_id, status=422,
                          errors=errors, form=form)
    s = sensing()
    if s is None:
        return render(request, "site.html", {"ready": False}, user=user, status=503)
    day, passed, turbidity, text = parsed
    try:
        s.record_cleaning(db, asset_id=asset_id, user=user, cleaned_on=day,
                          water_test_passed=passed, turbidity_ntu=turbidity, notes=text, now=now,
                          timezone=settings.site.timezone)
    except Invalid as exc:
        db.rollback()
        return _tank_page(request, db, now, settings, user, asset_id, status=422,
                          errors={"service": exc.message}, form=form)
    log.info("cleaning of %s on %s recorded by %s (test %s)", asset_id, day, user.username,
             "passed" if passed else "failed")
    return redirect(f"/staff/site/tanks/{asset_id}?done=cleaning")


# --- live alerts ----------------------------------------------------------------------------

def _alert_public(alert: dict[str, Any]) -> dict[str, Any]:
    created = alert.get("created_at")
    return {"id": alert.get("id"), "ticket_id": alert.get("ticket_id"),
            "title": alert.get("title", ""), "urgent": bool(alert.get("urgent")),
            "created_at": created.isoformat() if isinstance(created, datetime) else created}


@router.get("/staff/alerts.json")
def alerts_feed(db: SessionDep, user: WebDispatcher,
                after: Annotated[int | None, Query(ge=0, le=2**62)] = None) -> Response:
    """New unacknowledged alerts since ``after``; without it, the open ones and the cursor."""
    s = sensing()
    if s is None:
        return JSONResponse({"alerts": [], "cursor": after or 0, "sensing": False})
    cursor = after or 0
    found: list[dict[str, Any]] = []
    for _ in range(20):  # page through a backlog, bounded
        batch = s.alerts_since(db, after_id=cursor, limit=200)
        if not batch:
            break
        found.extend(a for a in batch
                     if not a.get("acknowledged") and a.get("kind") != "cleared")
        cursor = max(cursor, *(int(a["id"]) for a in batch))
        if len(batch) < 200:
            break
    return JSONResponse({"alerts": [_alert_public(a) for a in found][-20:], "cursor": cursor,
                         "sensing": True}, headers={"Cache-Control": "no-store"})


@router.post("/staff/alerts/{alert_id}/ack")
def acknowledge(request: Request, db: SessionDep, now: NowDep, user: WebDispatcher,
                _csrf: CsrfChecked, alert_id: Annotated[int, Path(ge=1, le=2**62)]) -> Response:
    s = sensing()
    if s is None:
        raise NotFound("sensor ingest is not installed")
    s.acknowledge_alert(db, alert_id=alert_id, user=user, now=now)
    log.info("alert %s acknowledged by %s", alert_id, user.username)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"ok": True, "id": alert_id})
    return redirect("/staff/site?done=ack")

