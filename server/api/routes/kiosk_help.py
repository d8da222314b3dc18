"""``POST /api/v1/kiosk/help``: the kiosk's 呼叫工作人员 button (server/services/kiosk_help.py).

Taken with the kiosk's ``X-Kiosk-Key`` (or a staff sign-in, to try the button from a browser).
The answer says whether the duty staff were told by this press or by one a moment ago, and the
service point's phone for the screen; 503 ``nobody_on_duty`` when no staff channel takes urgent
alerts (the kiosk then says to phone)::

    POST /api/v1/kiosk/help  {"kiosk_id": "K1", "place": "劳动路服务站门口", "screen": "review"}
    200 {"called": true, "alerted": true, "ticket": "M000012", "phone": "0731-8888 0000"}

The site's alert book is built from ``alerts.toml`` on first use and kept on
``app.state.help_book`` (a test may put its own there first); the notice courier delivers what
it writes, as it does sensor alerts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from server.alerts.outbox import AlertBook
from server.api import schemas
from server.api.deps import KioskOrStaff, NowDep, SessionDep, SettingsDep
from server.services.kiosk_help import call_staff
from server.services.sites import book_for_site
from server.sites.scoping import acting_site

__all__ = ["KioskHelpCreate", "KioskHelpPublic", "router"]

router = APIRouter(prefix="/api/v1/kiosk", tags=["kiosk"])


class KioskHelpCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kiosk_id: str = Field(pattern=r"^[A-Z][A-Z0-9]{0,3}$")
    # Where the kiosk stands (kiosk.place), for the staff who come.
    place: str = Field(default="", max_length=80)
    # The screen the resident was on, so staff know what they were trying to do.
    screen: str = Field(default="", max_length=40, pattern=r"^[a-z_]*$")


class KioskHelpPublic(BaseModel):
    called: bool = True
    alerted: bool
    ticket: str
    phone: str


def get_help_book(request: Request) -> AlertBook:
    state = request.app.state
    book: AlertBook | None = getattr(state, "help_book", None)
    if book is None:
        book = state.help_book = AlertBook.from_settings(state.settings, metrics=state.metrics)
    return book


HelpBookDep = Annotated[AlertBook, Depends(get_help_book)]


@router.post("/help", response_model=KioskHelpPublic,
             responses={401: {"model": schemas.ErrorPublic}, 422: {"model": schemas.ErrorPublic},
                        503: {"model": schemas.ErrorPublic}})
def kiosk_help(body: KioskHelpCreate, db: SessionDep, now: NowDep, settings: SettingsDep,
               _caller: KioskOrStaff, book: HelpBookDep) -> KioskHelpPublic:
    """Raise an urgent alert to the duty staff for the kiosk; one per kiosk per few minutes."""
    # The kiosk's site (its key names it; server/sites/): its alerts, its duty staff.
    book = book_for_site(db, book, acting_site(db, settings.site.id))
    call = call_staff(db, book=book, kiosk_id=body.kiosk_id, place=body.place.strip(),
                      screen=body.screen, now=now)
    return KioskHelpPublic(alerted=call.alerted, ticket=call.ticket_number,
                           phone=settings.site.phone)
