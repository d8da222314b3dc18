"""The triage queue over HTTP, for staff: requests that came with no place, and placing them.

    GET  /api/v1/triage                      the open requests with no place, oldest first
    POST /api/v1/tickets/{id}/place          {"place_code": "C01-B01-U1"}: a unit, building or
                                             compound code; the squad follows the place

The work is server/services/triage.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from server.api import schemas
from server.api.deps import NowDep, SessionDep, StaffUser
from server.api.views import ticket_detail, ticket_public
from server.services import tickets as ticket_service
from server.services.triage import place_request, unplaced_requests

router = APIRouter(prefix="/api/v1", tags=["tickets"],
                   responses={401: {"model": schemas.ErrorPublic},
                              403: {"model": schemas.ErrorPublic}})
TicketId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class TicketPlace(BaseModel):
    place_code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


@router.get("/triage", response_model=schemas.TicketsPublic)
def triage(db: SessionDep, now: NowDep, user: StaffUser) -> schemas.TicketsPublic:
    rows = unplaced_requests(db)
    return schemas.TicketsPublic(tickets=[ticket_public(t, now) for t in rows], count=len(rows))


@router.post("/tickets/{ticket_id}/place", response_model=schemas.TicketDetailPublic,
             responses={404: {"model": schemas.ErrorPublic}, 422: {"model": schemas.ErrorPublic}})
def place(ticket_id: TicketId, body: TicketPlace, db: SessionDep, now: NowDep,
          user: StaffUser) -> schemas.TicketDetailPublic:
    ticket = ticket_service.get_ticket(db, ticket_id=ticket_id)
    place_request(db, ticket=ticket, place_code=body.place_code, user=user, now=now)
    return ticket_detail(ticket, now, staff=True)
