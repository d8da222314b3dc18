"""The public request form at /new: a resident (or a daughter in another city) files from their
own phone, no account, in the phone pages' style; it ends on the request's status page, the
same /r/<token> the kiosk's QR opens.

    GET  /new                               step 1: building (by compound) and service
    GET  /new?building=C01-B01              what a building poster's QR opens: building chosen
    GET  /new?building=…&category=…         step 2: questions, unit, floor, room, description,
                                            whose home, who to call
    POST /new                               files it (channel "phone"), 303 to /r/<token>

The fields and their checks are server/web/request_form.py, shared with the staff's form. The
filing is the kiosk's (server/services/requests.py ``file_request``), idempotent on a client id
bound to this browser, so a double tap files once.

Abuse without puzzles: a honeypot field people never see, and the per-address filing limit of
the JSON API (``security.filing_per_address``). Refusals are answered on the form, in the
reader's language, with what was typed kept, and counted on /metrics as
``servicepoint_form_refusals_total{form="public", reason="honeypot|invalid|too_many|reused"}``
(the limit's refusals also as ``servicepoint_filings_refused_total{by="address",
route="form"}``, beside the API's).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from foundation.redact import short_hash
from server.api.attachments import AttachmentsDep
from server.api.deps import NowDep, SessionDep, SettingsDep
from server.api.facility import get_facility_desk, link_facility_report
from server.api.filing import FilingLimiters
from server.appointments.booking import SlotFull
from server.errors import Conflict, Invalid
from server.models import Building, Category
from server.services.filing_choices import (
    building_by_code,
    compounds_with_buildings,
    filable_categories,
)
from server.services.requests import file_request
from server.web.appointments import slot_context
from server.web.common import CsrfChecked, WebRoute, lang_of, redirect, render
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

__all__ = ["FormDataDep", "router"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)
CodeQuery = Annotated[str, Query(max_length=40, pattern=r"^[A-Za-z0-9_-]*$")]
REFUSALS = "servicepoint_form_refusals_total"

_NOTICES = {
    "too_many": N_("这个网络刚才提交得太多了。请 %(minutes)d 分钟后再提交，或直接打电话给服务站。"),
    "reused": N_("这张表刚才已经提交过了。如果要再报一件事，请核对下面的内容，再点一次提交。"),
    "gone": N_("刚才选的服务或地点已经变了，请重新选择。"),
}


async def _form_data(request: Request) -> FormData:  # the CSRF check already read it
    return await request.form()


FormDataDep = Annotated[FormData, Depends(_form_data)]


def _choices(db: SessionDep, f: RequestForm) -> tuple[list[Category], Category | None,
                                                        Building | None]:
    categories = filable_categories(db, staff=False)
    category = next((c for c in categories if c.code == f.category), None)
    return categories, category, building_by_code(db, f.building)


def _page(request: Request, db: SessionDep, f: RequestForm, *, errors: dict[str, str],
          status: int = 200, notice: str = "", headers: dict[str, str] | None = None
          ) -> HTMLResponse:
    categories, category, building = _choices(db, f)
    words = words_for(lang_of(request))
    context: dict[str, Any] = form_context(
        f=f, errors=errors, words=words, categories=categories,
        compounds=compounds_with_buildings(db), category=category, building=building,
        action="/new", staff=False, notice=notice)
    # A service by appointment: its times at the chosen building's site (a district centre
    # serves many; the anonymous form's session sees them all), else the home site's.
    site_id = (building.site_id if building is not None
               else request.app.state.settings.site.id)
    context.update(slot_context(request, db, category, site_id=site_id))
    response = render(request, "new_request.html", context, status=status)
    response.headers.update(headers or {})
    return response


def _refused(request: Request, reason: str) -> None:
    request.app.state.metrics.inc(REFUSALS, form="public", reason=reason)


@router.get("/new", response_class=HTMLResponse)
def new_request_form(request: Request, db: SessionDep, building: CodeQuery = "",
                     category: CodeQuery = "") -> HTMLResponse:
    f = RequestForm(form_id=new_form_id(), building=building, category=category)
    _, chosen, place = _choices(db, f)
    errors: dict[str, str] = {}
    if building and place is None:  # a mistyped or old poster link: say so beside the field
        errors["building"] = "building_unknown"
    if category and chosen is None:
        errors["category"] = "category"
    return _page(request, db, f, errors=errors, status=404 if errors else 200)


@router.post("/new", response_class=HTMLResponse)
def file_from_phone(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                    _csrf: CsrfChecked, form: FormDataDep, store: AttachmentsDep) -> Response:
    f = read_form(form)
    if not FORM_ID.match(f.form_id):  # not our page's form: start again with a fresh one
        f.form_id = new_form_id()
        return _page(request, db, f, errors={}, status=400, notice=_notice(request, "gone"))
    if f.honeypot:
        _refused(request, "honeypot")
        log.warning("request form: honeypot filled from %s; nothing filed",
                    short_hash(_address(request)))
        f.honeypot = ""
        return _page(request, db, f, errors={"honeypot": "honeypot"}, status=422)
    _, category, building = _choices(db, f)
    errors = check(f, category=category, building=building, phone_required=True)
    photos, photo_error = form_photos(form, settings, others_wrong=bool(errors))
    if photo_error:  # checked before filing: a refused photo files nothing
        errors[PHOTO_FIELD] = photo_error
    if errors:
        _refused(request, "invalid")
        return _page(request, db, f, errors=errors, status=422)
    assert category is not None and building is not None
    limiters: FilingLimiters = request.app.state.filing_limiters
    address = _address(request)
    if not limiters.per_address.hit(address):
        wait = limiters.per_address.retry_after_s(address)
        _refused(request, "too_many")
        request.app.state.metrics.inc("servicepoint_filings_refused_total", by="address",
                                      route="form")
        log.warning("request form refused: too many from one address (wait %d s)", wait)
        notice = words_for(lang_of(request)).gettext(_NOTICES["too_many"],
                                                     minutes=max(1, (wait + 59) // 60))
        return _page(request, db, f, errors={}, status=429, notice=notice,
                     headers={"Retry-After": str(wait)})
    new = to_new_request(f, category=category, building=building,
                         client_id=client_id_for(request, settings, f.form_id), channel="phone")
    try:
        filed, created = file_request(db, new=new, now=now, site_id=settings.site.id)
    except SlotFull:  # the last place went to someone else meanwhile: choose another time
        db.rollback()
        f.slot = ""
        return _page(request, db, f, errors={"slot": "slot_full"}, status=409)
    except Conflict:  # this browser's form, posted again with other words: file it anew
        db.rollback()
        _refused(request, "reused")
        f.form_id = new_form_id()
        return _page(request, db, f, errors={}, status=409, notice=_notice(request, "reused"))
    except Invalid as refused:  # the service or place changed between the check and the filing
        db.rollback()
        _refused(request, "invalid")
        if refused.code == "slot_invalid":  # the time was cancelled or has begun meanwhile
            f.slot = ""
            return _page(request, db, f, errors={"slot": "slot_invalid"}, status=422)
        return _page(request, db, f, errors={}, status=422, notice=_notice(request, "gone"))
    if created:
        keep_request_photos(db, store, ticket=filed.ticket, photos=photos, added_by="resident",
                            now=now)
    # About the water or a shared facility: onto the asset's maintenance ticket (issue 17).
    link_facility_report(get_facility_desk(request), db, request=filed, now=now)
    log.info("request %s filed from the phone form%s", filed.ticket.number,
             "" if created else " (a repeat: the first filing shown)")
    return redirect(f"/r/{filed.phone_token}?done=filed")


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _notice(request: Request, key: str) -> str:
    return words_for(lang_of(request)).gettext(_NOTICES[key])
