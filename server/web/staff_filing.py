"""Staff taking a call (代办): "new request for a resident" on the staff pages, for staff and the
station's admin (国办发〔2020〕45号: keep the traditional channels and file on a resident's behalf).

    GET  /staff/new                    step 1: building and service (staff-only services too)
    GET  /staff/new?building=…&category=…   step 2: the same fields as the resident's form
    POST /staff/new                    files it: channel "staff", the staff member as the filer
    GET  /staff/new/filed/<ticket id>  the number, big, for the staff member to read out

The fields are the resident's form's (server/web/request_form.py); the phone is optional here
(not every caller has a mobile). The filing is the kiosk's ``file_request``, with the staff
member recorded on the request (``filed_by_user_id``) and on its history's first row, so the
ticket page says "由工作人员 X 代为登记（电话）". A request with a mobile number is also sent its
status link by message (server/services/notices.py, ``NoticeKind.RECEIVED``), where the
resident SMS channel is configured.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from server.api.attachments import AttachmentsDep
from server.api.deps import NowDep, SessionDep, SettingsDep
from server.api.facility import get_facility_desk, link_facility_report
from server.appointments.booking import SlotFull
from server.errors import Conflict, Invalid, NotFound
from server.models import Building, Category
from server.services import tickets as ticket_service
from server.services.filing_choices import (
    building_by_code,
    compounds_with_buildings,
    filable_categories,
)
from server.services.requests import file_request, place_label
from server.web.appointments import slot_context
from server.web.common import CsrfChecked, WebRoute, WebStaff, lang_of, redirect, render
from server.web.new_request import FormDataDep
from server.web.photos import PHOTO_FIELD, form_photos, keep_request_photos
from server.web.request_form import (
    FORM_ID,
    RequestForm,
    check,
    client_id_for,
    form_context,
    new_form_id,
    read_form,
    to_new_request,
)
from server.web.words import N_, words_for

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)
CodeQuery = Annotated[str, Query(max_length=40, pattern=r"^[A-Za-z0-9_-]*$")]
TicketId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_NOTICES = {
    "reused": N_("这张表刚才已经登记过了。如果要再登记一件，请核对下面的内容，再点一次登记。"),
    "gone": N_("刚才选的服务或地点已经变了，请重新选择。"),
}


def _choices(db: SessionDep, f: RequestForm) -> tuple[list[Category], Category | None,
                                                        Building | None]:
    categories = filable_categories(db, staff=True)
    category = next((c for c in categories if c.code == f.category), None)
    return categories, category, building_by_code(db, f.building)


def _page(request: Request, db: SessionDep, user: WebStaff, f: RequestForm, *,
          errors: dict[str, str], status: int = 200, notice: str = "") -> HTMLResponse:
    categories, category, building = _choices(db, f)
    words = words_for(lang_of(request))
    context: dict[str, Any] = form_context(
        f=f, errors=errors, words=words, categories=categories,
        compounds=compounds_with_buildings(db), category=category, building=building,
        action="/staff/new", staff=True,
        notice=words.gettext(_NOTICES[notice]) if notice else "")
    context.update(slot_context(request, db, category, staff=True))  # by appointment: times
    return render(request, "staff_new_request.html", context, status=status, user=user)


@router.get("/staff/new", response_class=HTMLResponse)
def staff_form(request: Request, db: SessionDep, user: WebStaff, building: CodeQuery = "",
               category: CodeQuery = "") -> HTMLResponse:
    f = RequestForm(form_id=new_form_id(), building=building, category=category)
    _, chosen, place = _choices(db, f)
    errors: dict[str, str] = {}
    if building and place is None:
        errors["building"] = "building_unknown"
    if category and chosen is None:
        errors["category"] = "category"
    return _page(request, db, user, f, errors=errors, status=404 if errors else 200)


@router.post("/staff/new", response_class=HTMLResponse)
def file_for_resident(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                      user: WebStaff, _csrf: CsrfChecked, form: FormDataDep,
                      store: AttachmentsDep) -> Response:
    f = read_form(form)
    if not FORM_ID.match(f.form_id):
        f.form_id = new_form_id()
        return _page(request, db, user, f, errors={}, status=400, notice="gone")
    _, category, building = _choices(db, f)
    errors = check(f, category=category, building=building, phone_required=False)
    photos, photo_error = form_photos(form, settings, others_wrong=bool(errors))
    if photo_error:  # checked before filing: a refused photo files nothing
        errors[PHOTO_FIELD] = photo_error
    if errors:
        request.app.state.metrics.inc("servicepoint_form_refusals_total", form="staff",
                                      reason="invalid")
        return _page(request, db, user, f, errors=errors, status=422)
    assert category is not None and building is not None
    new = to_new_request(f, category=category, building=building,
                         client_id=client_id_for(request, settings, f.form_id),
                         channel="staff", filed_by=user)
    try:
        filed, created = file_request(db, new=new, now=now, site_id=settings.site.id)
    except SlotFull:  # the last place went to someone else meanwhile: choose another time
        db.rollback()
        f.slot = ""
        return _page(request, db, user, f, errors={"slot": "slot_full"}, status=409)
    except Conflict:
        db.rollback()
        f.form_id = new_form_id()
        return _page(request, db, user, f, errors={}, status=409, notice="reused")
    except Invalid as refused:
        db.rollback()
        if refused.code == "slot_invalid":  # the time was cancelled or has begun meanwhile
            f.slot = ""
            return _page(request, db, user, f, errors={"slot": "slot_invalid"}, status=422)
        return _page(request, db, user, f, errors={}, status=422, notice="gone")
    if created:
        keep_request_photos(db, store, ticket=filed.ticket, photos=photos, added_by="staff",
                            now=now)
    # About the water or a shared facility: onto the asset's maintenance ticket (issue 17).
    link_facility_report(get_facility_desk(request), db, request=filed, now=now)
    log.info("request %s filed by staff %s for a resident%s", filed.ticket.number, user.username,
             "" if created else " (a repeat: the first filing shown)")
    return redirect(f"/staff/new/filed/{filed.ticket_id}")


@router.get("/staff/new/filed/{ticket_id}", response_class=HTMLResponse)
def filed(request: Request, db: SessionDep, settings: SettingsDep, user: WebStaff,
          ticket_id: TicketId) -> HTMLResponse:
    ticket = ticket_service.get_ticket(db, ticket_id=ticket_id)
    if ticket.request is None:
        raise NotFound("no resident request with this id")
    return render(request, "staff_new_request.html", {
        "filed": ticket, "place": place_label(ticket),
        "status_url": f"{settings.http.public_url}/r/{ticket.request.phone_token}",
    }, user=user)
