"""Appointment slots in the browser (预约时段), for staff and squad leaders on a phone: publish
the times a service by appointment can be booked, see who booked each, cancel a time, and mark
each visit done or a no-show. The rules are server/appointments/ (rules.py, service.py).

    GET  /staff/appointments                 the coming four weeks' slots, and the form
    POST /staff/appointments                 publish one slot, or the same hours weekly
    GET  /staff/appointments/<id>            one slot: its bookings (phone per the privacy rule)
    POST /staff/appointments/<id>/cancel     cancel it: its requests are cancelled, people told
    POST /staff/appointments/bookings/<id>/<done|no_show>

Also the request forms' time step (:func:`slot_context`, read by _slot_choice.html), and two
template globals set when this module is imported (server/web/pages.py does): ``weekdays`` and
``appointment_at(ticket)``, with which the resident's status page and the volunteer's task pages
(_appointment_time.html, _task_facts.html) show a booked time in big type, and
``appointment_lost(ticket)``, with which the staff's ticket page (_ticket_appointment.html)
says a request back in work has no time any more.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.appointments.booking import appointment_at, appointment_lost, open_slots
from server.appointments.models import Booking
from server.appointments.rules import MAX_CAPACITY, MAX_WEEKS, BookingStatus, SlotProblem
from server.appointments.service import (
    SlotRefused,
    appointment_categories,
    cancel_slot,
    end_booking,
    publish_slots,
    slot_with_bookings,
    upcoming_slots,
)
from server.errors import NotFound
from server.models import Category
from server.services.privacy import Viewer, phone_for
from server.services.requests import place_label
from server.services.tickets import can_view
from server.settings import ServerSettings
from server.web.common import (
    CsrfChecked,
    WebDispatcher,
    WebRoute,
    redirect,
    render,
    templates,
)
from server.web.words import N_

__all__ = ["WEEKDAYS", "router", "slot_context"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)
SlotId = Annotated[int, Path(ge=1, le=2**31 - 1)]

_ERRORS = {
    "category": N_("请选择一项预约服务"),
    "bad_time": N_("请按 年-月-日 和 时:分 填写"),
    SlotProblem.ENDS_BEFORE_START.value: N_("结束时间应晚于开始时间"),
    SlotProblem.TOO_LONG.value: N_("一个时段不超过 12 小时"),
    SlotProblem.IN_THE_PAST.value: N_("这个时间已经过去了"),
    SlotProblem.CAPACITY.value: N_("名额请填 1 到 50 之间的数字"),
}
# The field each problem is shown beside.
_FIELD = {SlotProblem.ENDS_BEFORE_START: "end", SlotProblem.TOO_LONG: "end",
          SlotProblem.IN_THE_PAST: "day", SlotProblem.CAPACITY: "capacity"}
# strftime's %w order (Sunday first).
WEEKDAYS = (N_("周日"), N_("周一"), N_("周二"), N_("周三"), N_("周四"), N_("周五"), N_("周六"))
templates.env.globals.update(weekdays=WEEKDAYS, appointment_at=appointment_at,
                             appointment_lost=appointment_lost)
_STATUS_WORDS = {
    BookingStatus.BOOKED.value: N_("已预约"),
    BookingStatus.CANCELLED.value: N_("已取消"),
    BookingStatus.DONE.value: N_("已上门"),
    BookingStatus.NO_SHOW.value: N_("未见到人"),
}


def slot_context(request: Request, db: Session, category: Category | None, *,
                 staff: bool = False, site_id: str | None = None) -> dict[str, Any]:
    """What the request forms' time step (_slot_choice.html) reads: the chosen service's
    slots, when it is by appointment (server/web/new_request.py, staff_filing.py);
    ``site_id``: that site's only (the phone form: the chosen building's site)."""
    slots = []
    if category is not None and category.by_appointment:
        slots = open_slots(db, category_code=category.code, now=request.app.state.clock(),
                           staff=staff, site_id=site_id)
    return {"slots": slots, "weekdays": WEEKDAYS}


def _parse(day: str, start: str, end: str) -> tuple[date, time, time] | None:
    try:
        return date.fromisoformat(day), time.fromisoformat(start), time.fromisoformat(end)
    except ValueError:
        return None


def _list_page(request: Request, db: SessionDep, now: datetime, settings: ServerSettings,
               user: WebDispatcher, *, form: dict[str, str] | None = None,
               errors: dict[str, str] | None = None, status: int = 200) -> HTMLResponse:
    zone = ZoneInfo(settings.site.timezone)
    tomorrow = (now.astimezone(zone) + timedelta(days=1)).date().isoformat()
    categories = appointment_categories(db)
    days: dict[str, list[object]] = {}
    for slot in upcoming_slots(db, now=now):
        days.setdefault(slot.starts_at.astimezone(zone).date().isoformat(), []).append(slot)
    return render(request, "appointments.html", {
        "days": days, "categories": categories, "weekdays": WEEKDAYS, "error_words": _ERRORS,
        "errors": errors or {}, "max_weeks": MAX_WEEKS, "max_capacity": MAX_CAPACITY,
        "form": form or {"category": categories[0].code if len(categories) == 1 else "",
                         "day": tomorrow, "start": "09:00", "end": "11:00", "capacity": "4",
                         "weeks": "1"},
    }, user=user, status=status)


@router.get("/staff/appointments", response_class=HTMLResponse)
def appointments(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                 user: WebDispatcher) -> HTMLResponse:
    return _list_page(request, db, now, settings, user)


@router.post("/staff/appointments", response_class=HTMLResponse)
def publish(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
            user: WebDispatcher, _csrf: CsrfChecked,
            category: Annotated[str, Form(max_length=40)] = "",
            day: Annotated[str, Form(max_length=10)] = "",
            start: Annotated[str, Form(max_length=5)] = "",
            end: Annotated[str, Form(max_length=5)] = "",
            capacity: Annotated[str, Form(max_length=4)] = "",
            weeks: Annotated[str, Form(max_length=2)] = "1") -> Response:
    form = {"category": category, "day": day, "start": start, "end": end,
            "capacity": capacity, "weeks": weeks}
    errors: dict[str, str] = {}
    if category not in {c.code for c in appointment_categories(db)}:
        errors["category"] = "category"
    parsed = _parse(day, start, end)
    if parsed is None:
        errors["day"] = "bad_time"
    places = int(capacity) if capacity.isdigit() else 0
    if not 1 <= places <= MAX_CAPACITY:
        errors["capacity"] = SlotProblem.CAPACITY.value
    if not errors and parsed is not None:
        try:
            slots = publish_slots(db, category_code=category, day=parsed[0], start=parsed[1],
                                  end=parsed[2], capacity=places,
                                  weeks=int(weeks) if weeks.isdigit() else 1, user=user,
                                  now=now, timezone=settings.site.timezone)
        except SlotRefused as refused:
            db.rollback()
            errors[_FIELD[refused.problem]] = refused.problem.value
        else:
            return redirect(f"/staff/appointments?published={len(slots)}")
    return _list_page(request, db, now, settings, user, form=form, errors=errors, status=422)


@router.get("/staff/appointments/{slot_id}", response_class=HTMLResponse)
def slot_page(request: Request, db: SessionDep, now: NowDep, user: WebDispatcher,
              slot_id: SlotId) -> HTMLResponse:
    slot = slot_with_bookings(db, slot_id=slot_id)
    viewer = Viewer.of(user)
    rows = []
    others = 0  # a squad leader sees the households of their own squad's grid, as in the queue
    for booking in slot.bookings:
        ticket = booking.ticket
        if not can_view(user, ticket):
            others += booking.status == BookingStatus.BOOKED
            continue
        request_row = ticket.request
        shown = phone_for(db, ticket=ticket, viewer=viewer, now=now, via="appointments")
        rows.append({
            "booking": booking, "ticket": ticket, "place": place_label(ticket),
            "floor": request_row.floor if request_row else "",
            "room": request_row.room if request_row else "",
            "name": (request_row.resident_name or request_row.contact_name) if request_row else "",
            "phone": shown.number if shown is not None else None,
            "volunteer": ticket.assignee.given_name if ticket.assignee else "",
        })
    db.commit()  # the reveal log rows phone_for wrote
    return render(request, "appointment_slot.html", {
        "slot": slot, "rows": rows, "status_words": _STATUS_WORDS, "weekdays": WEEKDAYS,
        "started": slot.starts_at <= now, "others": others}, user=user)


@router.post("/staff/appointments/{slot_id}/cancel", response_class=HTMLResponse)
def cancel(db: SessionDep, now: NowDep, user: WebDispatcher, _csrf: CsrfChecked,
           slot_id: SlotId) -> Response:
    cancel_slot(db, slot_id=slot_id, user=user, now=now)
    return redirect(f"/staff/appointments/{slot_id}")


@router.post("/staff/appointments/bookings/{booking_id}/{outcome}", response_class=HTMLResponse)
def end(db: SessionDep, now: NowDep, user: WebDispatcher, _csrf: CsrfChecked,
        booking_id: SlotId, outcome: Annotated[str, Path(pattern=r"^(done|no_show)$")]
        ) -> Response:
    found = db.get(Booking, booking_id)
    if found is None or not can_view(user, found.ticket):  # a leader: their squad's only
        raise NotFound("no such booking")
    booking = end_booking(db, booking_id=booking_id, status=BookingStatus(outcome), user=user,
                          now=now)
    return redirect(f"/staff/appointments/{booking.slot_id}")

