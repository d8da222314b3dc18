"""Pages for staff and squad leaders: the ticket queue, one ticket with its history, dispatch
(分队下单), acknowledge / resolve / close, and the monthly figures (page and CSV).

    GET  /staff                               the queue, with filters; new requests on top,
                                              refreshed in place every QUEUE_REFRESH_S
    GET  /staff/tickets/<id>                  one ticket: facts, dispatch, actions, history
    POST /staff/tickets/<id>/dispatch         volunteer_id, note
    POST /staff/tickets/<id>/act/<action>     acknowledge | resolve | close | cancel | reopen
    POST /staff/tickets/<id>/revoke-links     the volunteer's one-tap links stop working
    GET  /staff/figures?year=                 monthly figures (staff, admin)
    GET  /staff/figures.csv?year=             the same as CSV, UTF-8 with BOM for Excel

Squad leaders see and dispatch their own squad's tickets; the services decide who may do what,
these routes only show the buttons a person may press.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.errors import Forbidden, IllegalTransition, Invalid
from server.ledgers.monthly import year_series
from server.lifecycle import OPEN_STATUSES, Action, HistoryAction, Status, allowed_actions
from server.models import Ticket, User
from server.services import tickets as ticket_service
from server.services.figures import MonthlyFigure, monthly_figures
from server.services.privacy import Viewer, phone_for
from server.services.requests import place_label
from server.services.task_links import revoke_task_links
from server.services.web_choices import categories, squads
from server.web.charts import bar_chart
from server.web.common import (
    CsrfChecked,
    WebDispatcher,
    WebRoute,
    WebStaff,
    lang_of,
    redirect,
    render,
    spreadsheet_cell,
)
from server.web.photos import photo_links
from server.web.views import answer_lines
from server.web.words import N_, Words, words_for

__all__ = ["figures_csv", "router"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)
TicketId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PAGE_SIZE = 50
# The queue page polls itself this often (static/queue.js); new requests shown at the top.
QUEUE_REFRESH_S = 20
FRESH_SHOWN = 10
MAX_NOTE = 500
STAFF_ACTIONS = {"resolve": Action.RESOLVE, "close": Action.CLOSE, "cancel": Action.CANCEL,
                 "reopen": Action.REOPEN, "acknowledge": Action.NOTE}


# --- the queue ------------------------------------------------------------------------------

@router.get("/staff", response_class=HTMLResponse)
def queue(request: Request, db: SessionDep, now: NowDep, user: WebDispatcher,
          status: Annotated[str, Query(max_length=20)] = "",
          squad: Annotated[str, Query(max_length=40)] = "",
          category: Annotated[str, Query(max_length=40)] = "",
          kind: Annotated[str, Query(max_length=20)] = "",
          overdue: Annotated[str, Query(max_length=5)] = "",
          page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    # Unknown filter values are ignored rather than refused: a hand-edited URL shows everything.
    status_ok = status if status in {s.value for s in Status} else ""
    rows = ticket_service.list_tickets(
        db, user=user, now=now, status=status_ok or None,
        open_only=not status_ok and status != "all",
        squad=squad or None, category=category or None,
        kind=kind if kind in ("request", "maintenance") else None,
        overdue=True if overdue else None, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    # The plain queue (what a leader opens on the phone) leads with the new requests; a
    # filtered one shows just what was asked for.
    plain = not any((status, squad, category, kind, overdue)) and page == 1
    fresh = ticket_service.list_tickets(db, user=user, now=now, status=Status.NEW.value,
                                        kind="request", limit=FRESH_SHOWN) if plain else None
    return render(request, "queue.html", {
        "fresh": fresh, "refresh_s": QUEUE_REFRESH_S,
        "tickets": rows[:PAGE_SIZE], "more": len(rows) > PAGE_SIZE, "page": page,
        "filters": {"status": status, "squad": squad, "category": category, "kind": kind,
                    "overdue": overdue},
        "statuses": [s.value for s in Status], "squads": squads(db),
        "categories": categories(db), "place": place_label,
        "is_overdue": lambda t: ticket_service.is_overdue(t, now),
        "query_without_page": urlencode(
            [(k, v) for k, v in request.query_params.multi_items() if k != "page"]),
    }, user=user)


# --- one ticket -----------------------------------------------------------------------------

def _may_dispatch(user: User, ticket: Ticket) -> bool:
    return ticket_service.is_staff(user) or (
        user.role == "squad_leader" and ticket.squad_id is not None
        and ticket.squad_id == user.squad_id)


def _ticket_page(request: Request, db: SessionDep, now: datetime, user: User, ticket: Ticket,
                 *, status: int = 200, error: str = "", error_detail: str = "",
                 form: dict[str, str] | None = None) -> HTMLResponse:
    ticket_service.require_view(user, ticket)
    staff = ticket_service.is_staff(user)
    allowed = {str(a) for a in allowed_actions(ticket.status, staff=staff)}
    can_dispatch = "dispatch" in allowed and _may_dispatch(user, ticket)
    still_open = ticket.status in {s.value for s in OPEN_STATUSES}
    actions = [name for name, action in STAFF_ACTIONS.items()
               if staff and (str(action) in allowed or (action is Action.NOTE and still_open))]
    shown = phone_for(db, ticket=ticket, viewer=Viewer.of(user), now=now, via="page")
    page = render(request, "ticket.html", {
        "ticket": ticket, "proposals": ticket_service.proposals(db, ticket=ticket)
        if can_dispatch else [],
        "can_dispatch": can_dispatch, "actions": actions,
        "can_revoke": still_open and ticket.assignee_id is not None
        and _may_dispatch(user, ticket),
        "overdue": ticket_service.is_overdue(ticket, now), "place": place_label(ticket),
        "answers": answer_lines(ticket, lang_of(request)),
        "phone": shown, "photos": photo_links(db, ticket_id=ticket.id, base="/photos"),
        "error": error, "error_detail": error_detail, "form": form or {},
    }, status=status, user=user)
    if shown is not None and shown.full:
        db.commit()  # the reveal
    return page


@router.get("/staff/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(request: Request, db: SessionDep, now: NowDep, user: WebDispatcher,
                ticket_id: TicketId) -> Response:
    return _ticket_page(request, db, now, user,
                        ticket_service.get_ticket(db, ticket_id=ticket_id))


@router.post("/staff/tickets/{ticket_id}/dispatch", response_class=HTMLResponse)
def dispatch(request: Request, db: SessionDep, now: NowDep, user: WebDispatcher,
             _csrf: CsrfChecked, ticket_id: TicketId,
             volunteer_id: Annotated[str, Form()] = "",
             note: Annotated[str, Form()] = "") -> Response:
    ticket = ticket_service.get_ticket(db, ticket_id=ticket_id)
    ticket_service.require_view(user, ticket)
    form = {"volunteer_id": volunteer_id, "note": note}
    if not volunteer_id.isdigit() or not 0 < int(volunteer_id) < 2**31:
        return _ticket_page(request, db, now, user, ticket, status=422, error="no_volunteer",
                            form=form)
    if len(note) > MAX_NOTE:
        return _ticket_page(request, db, now, user, ticket, status=422, error="note_long",
                            form=form)
    try:
        ticket_service.dispatch(db, ticket=ticket, user=user, volunteer_id=int(volunteer_id),
                                now=now, note=note.strip())
    except Invalid as exc:
        db.rollback()
        return _ticket_page(request, db, now, user, ticket, status=422, error="invalid",
                            error_detail=exc.message, form=form)
    except IllegalTransition:
        db.rollback()
        return _ticket_page(request, db, now, user, ticket, status=409, error="changed",
                            form=form)
    return redirect(f"/staff/tickets/{ticket_id}?done=dispatch")


@router.post("/staff/tickets/{ticket_id}/act/{action}", response_class=HTMLResponse)
def act(request: Request, db: SessionDep, now: NowDep, user: WebDispatcher, _csrf: CsrfChecked,
        ticket_id: TicketId,
        action: Annotated[str, Path(pattern="^(acknowledge|resolve|close|cancel|reopen)$")],
        note: Annotated[str, Form()] = "") -> Response:
    ticket = ticket_service.get_ticket(db, ticket_id=ticket_id)
    ticket_service.require_view(user, ticket)
    form = {"note": note, "action": action}
    if len(note) > MAX_NOTE:
        return _ticket_page(request, db, now, user, ticket, status=422, error="note_long",
                            form=form)
    text = note.strip()
    if action == "acknowledge" and not text:
        text = "已知悉 / acknowledged"
    try:
        ticket_service.staff_action(db, ticket=ticket, user=user, action=STAFF_ACTIONS[action],
                                    now=now, note=text)
    except IllegalTransition:
        db.rollback()
        return _ticket_page(request, db, now, user, ticket, status=409, error="changed",
                            form=form)
    return redirect(f"/staff/tickets/{ticket_id}?done={action}")


@router.post("/staff/tickets/{ticket_id}/revoke-links", response_class=HTMLResponse)
def revoke_links(request: Request, db: SessionDep, now: NowDep, user: WebDispatcher,
                 _csrf: CsrfChecked, ticket_id: TicketId) -> Response:
    """A volunteer's phone is lost, or the link went to the wrong group: end its links. The
    volunteer keeps the task (and their password); a re-dispatch sends a fresh link."""
    ticket = ticket_service.get_ticket(db, ticket_id=ticket_id)
    if not _may_dispatch(user, ticket):
        raise Forbidden("only the squad leader of this grid or staff may do this")
    count = revoke_task_links(db, now=now, ticket=ticket)
    ticket_service.record(db, ticket=ticket, action=HistoryAction.NOTE,
                          actor=ticket_service.Actor.of(user), now=now,
                          note=f"收回任务链接 {count} 个 / task links withdrawn: {count}",
                          from_status=ticket.status)
    db.commit()
    return redirect(f"/staff/tickets/{ticket_id}?done=revoke")


# --- monthly figures ------------------------------------------------------------------------

def _year_now(now: datetime, timezone: str) -> int:
    return now.astimezone(ZoneInfo(timezone)).year


@router.get("/staff/figures", response_class=HTMLResponse)
def figures_page(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                 user: WebStaff,
                 year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> Response:
    this_year = _year_now(now, settings.site.timezone)
    year = year or this_year
    rows = monthly_figures(db, year=year, timezone=settings.site.timezone)
    return render(request, "figures.html", {
        "year": year, "years": list(range(this_year, this_year - 5, -1)), "rows": rows,
        "charts": _year_charts(db, year=year, now=now, timezone=settings.site.timezone,
                               words=words_for(lang_of(request))),
        "this_month": now.astimezone(ZoneInfo(settings.site.timezone)).month,
        "categories": categories(db), "squad_names": {s.code: s.name for s in squads(db)},
        "total_requests": sum(r.requests for r in rows),
        "total_residents": sum(r.residents for r in rows),
        "total_completed": sum(r.completed for r in rows),
    }, user=user)


# The year at a glance, a bar per month: (title, which series, decimals).
_CHARTS = ((N_("每月居民请求（件）"), "requests", 0), (N_("每月已完成（件）"), "completed", 0),
           (N_("每月志愿服务时长（小时）"), "hours", 1), (N_("每月平均评分（5分制）"), "rating", 1),
           (N_("每月维修工单（件）"), "maintenance", 0), (N_("每月图书借出（册次）"), "loans", 0))


def _year_charts(db: SessionDep, *, year: int, now: datetime, timezone: str,
                 words: Words) -> list[tuple[str, str]]:
    """(title, SVG) for each chart of the figures page, drawn on the server (no script)."""
    series = year_series(db, year=year, timezone=timezone, now=now)
    months = [str(month) for month in range(1, 13)]
    charts = []
    for title, name, decimals in _CHARTS:
        values: list[float] = list(getattr(series, name))
        said = words.gettext(title)
        charts.append((said, bar_chart(list(zip(months, values, strict=True)), title=said,
                                       decimals=decimals)))
    return charts


def _csv_head(words: Words) -> list[str]:
    # A context of their own: in English the heads are field names (month, category_code).
    return [words.pgettext("CSV column", "月份"), words.pgettext("CSV column", "服务类别"),
            words.pgettext("CSV column", "类别代码"), words.pgettext("CSV column", "小分队"),
            words.pgettext("CSV column", "请求数"), words.pgettext("CSV column", "服务居民数"),
            words.pgettext("CSV column", "已完成"),
            words.pgettext("CSV column", "接单用时中位数（小时）"),
            words.pgettext("CSV column", "完成用时中位数（小时）")]


def figures_csv(rows: list[MonthlyFigure], *, lang: str, category_names: dict[str, str],
                squad_names: dict[str, str]) -> bytes:
    """The figures as CSV in UTF-8 with a BOM, so Excel on Chinese Windows opens it right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_csv_head(words_for(lang)))
    for r in rows:
        writer.writerow([spreadsheet_cell(v) for v in (
            r.month, category_names.get(r.category, r.category), r.category,
            squad_names.get(r.squad, r.squad) if r.squad else "", r.requests, r.residents,
            r.completed,
            "" if r.median_hours_to_accept is None else r.median_hours_to_accept,
            "" if r.median_hours_to_resolve is None else r.median_hours_to_resolve)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@router.get("/staff/figures.csv")
def figures_download(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                     user: WebStaff,
                     year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> Response:
    year = year or _year_now(now, settings.site.timezone)
    lang = lang_of(request)
    cats = categories(db)
    body = figures_csv(
        monthly_figures(db, year=year, timezone=settings.site.timezone), lang=lang,
        category_names={c: (cat.name_en if lang == "en" else cat.name_zh)
                        for c, cat in cats.items()},
        squad_names={s.code: s.name for s in squads(db)})
    log.info("figures %s downloaded by %s", year, user.username)
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="servicepoint-figures-{year}.csv"',
        "Cache-Control": "no-store"})
