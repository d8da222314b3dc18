"""Look a request up by its number and the last four digits of its contact phone: the JSON API
behind the kiosk's 查进度 screen (the page for phones is server/web/lookup.py).

No sign-in. A right pair answers with the status in both languages, the booked time of a
service by appointment, and the status page's link (the same /r/<token> the kiosk's QR opens);
a wrong pair is one 404 whichever half was wrong, and counts against the caller's address
(server/api/lookups.py).

    POST /api/v1/requests/lookup  {"number": "K1-0001", "phone_last4": "1234"}
"""

from __future__ import annotations

from fastapi import APIRouter

from foundation.catalogs import translations
from server.api import schemas
from server.api.deps import SessionDep, SettingsDep
from server.api.lookups import LookupCaller
from server.appointments.booking import appointment_at
from server.lifecycle import status_zh
from server.models import ServiceRequest
from server.services.lookup import LookupMiss, request_by_number

__all__ = ["lookup_public", "router"]

router = APIRouter()
# The status words are the web pages' (context "ticket status"), so the kiosk, the phone page
# and this answer name a status alike.
STATUS_CONTEXT = "ticket status"


def lookup_public(request: ServiceRequest, *, public_url: str) -> schemas.RequestLookupPublic:
    ticket = request.ticket
    zh = status_zh(ticket.status)
    return schemas.RequestLookupPublic(
        number=ticket.number, status=ticket.status, status_label_zh=zh,
        status_label_en=translations("web", "en").pgettext(STATUS_CONTEXT, zh),
        category_name_zh=ticket.category.name_zh, category_name_en=ticket.category.name_en,
        volunteer_given_name=(ticket.assignee.given_name
                              if ticket.assignee and ticket.accepted_at else None),
        filed_at=ticket.created_at,
        status_url=f"{public_url}/r/{request.phone_token}",
        appointment_at=appointment_at(ticket),
    )


@router.post("/api/v1/requests/lookup", response_model=schemas.RequestLookupPublic,
             tags=["public"],
             responses={404: {"model": schemas.ErrorPublic},
                        422: {"model": schemas.ErrorPublic},
                        429: {"model": schemas.ErrorPublic}})
def lookup(body: schemas.RequestLookupCreate, db: SessionDep, settings: SettingsDep,
           caller: LookupCaller) -> schemas.RequestLookupPublic:
    """A request by its number and the last four digits of its contact phone (``phone_last4``
    left out only for a request filed without a phone). A wrong pair is 404, not saying which
    half was wrong; lookups are limited per address, wrong pairs more tightly (429 with
    Retry-After)."""
    try:
        request = request_by_number(db, number=body.number, phone_last4=body.phone_last4)
    except LookupMiss:
        caller.missed()
        raise
    caller.found()
    return lookup_public(request, public_url=settings.http.public_url)
