"""The lookup page at /lookup: a resident who lost the QR link (or the daughter who filed from
her own phone) finds the request again by its number and the last four digits of the contact
phone, and lands on its status page, /r/<token>. The kiosk does the same through
POST /api/v1/requests/lookup (server/api/routes/lookup.py).

    GET  /lookup      the form
    POST /lookup      number, phone_last4 → 303 to /r/<token>; a wrong pair is the form again
                      (404) with what was typed kept, not saying which half was wrong

The limits and their /metrics figures are the API's (server/api/lookups.py): one budget per
address across the page and the API.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from server.api.deps import SessionDep
from server.api.lookups import LookupThrottled, lookup_gate
from server.services.lookup import LAST4_PATTERN, LookupMiss, request_by_number
from server.web.common import CsrfChecked, WebRoute, lang_of, redirect, render
from server.web.words import N_, words_for

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)

_ERRORS = {
    "number": N_("请填写服务单号，例如 K1-0001。"),
    "phone_last4": N_("请填写手机号的最后 4 位数字。"),
    "miss": N_("没有找到。请核对服务单号和手机号后四位；登记时没留电话的，后四位请留空。"),
    "too_many": N_("查得太频繁了，请 %(minutes)d 分钟后再试，或打电话给服务站。"),
}


def _page(request: Request, *, number: str = "", last4: str = "",
          errors: dict[str, str] | None = None, notice: str = "", status: int = 200,
          headers: dict[str, str] | None = None) -> HTMLResponse:
    words = words_for(lang_of(request))
    response = render(request, "lookup.html", {
        "number": number, "last4": last4, "notice": notice,
        "errors": {k: words.gettext(_ERRORS[v]) for k, v in (errors or {}).items()},
    }, status=status)
    response.headers.update(headers or {})
    return response


@router.get("/lookup", response_class=HTMLResponse)
def lookup_form(request: Request) -> HTMLResponse:
    return _page(request)


@router.post("/lookup", response_class=HTMLResponse)
def lookup(request: Request, db: SessionDep, _csrf: CsrfChecked,
           number: Annotated[str, Form(max_length=60)] = "",
           phone_last4: Annotated[str, Form(max_length=20)] = "") -> Response:
    number, last4 = number.strip(), phone_last4.strip()
    errors = {}
    if not number:
        errors["number"] = "number"
    if last4 and not LAST4_PATTERN.match(last4):
        errors["phone_last4"] = "phone_last4"
    if errors:
        return _page(request, number=number, last4=last4, errors=errors, status=422)
    words = words_for(lang_of(request))
    try:
        gate = lookup_gate(request)
    except LookupThrottled as exc:
        notice = words.gettext(_ERRORS["too_many"],
                               minutes=max(1, (exc.retry_after_s + 59) // 60))
        return _page(request, number=number, last4=last4, notice=notice, status=429,
                     headers={"Retry-After": str(exc.retry_after_s)})
    try:
        found = request_by_number(db, number=number, phone_last4=last4 or None)
    except LookupMiss:
        gate.missed()
        return _page(request, number=number, last4=last4,
                     notice=words.gettext(_ERRORS["miss"]), status=404)
    gate.found()
    return redirect(f"/r/{found.phone_token}")
