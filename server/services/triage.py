"""The triage queue: requests filed with no place, waiting for staff to place them.

An Open311 client may describe a location the site cannot place ("火星大道 99号", a position far
from every compound). Such a request is filed all the same, with no unit, building, compound or
squad (server/open311/service.py), and waits here; staff place it on a unit, building or
compound code, which also gives it the squad of that place's grid. Staff may also move a request
that was placed wrongly. Each placing is a line of the ticket's history.

    unplaced_requests(db)                                   # oldest first
    place_request(db, ticket=t, place_code="C01-B01-U1", user=staff, now=now)
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.errors import Forbidden, Invalid
from server.lifecycle import OPEN_STATUSES, HistoryAction
from server.models import STAFF_ROLES, Ticket, User
from server.services.requests import find_place, place_label, squad_for
from server.ticketing import Actor, record

__all__ = ["place_request", "unplaced_requests"]

log = logging.getLogger(__name__)


def unplaced_requests(db: Session, *, limit: int = 500) -> list[Ticket]:
    """Open requests with no place yet, oldest first."""
    query = (select(Ticket)
             .where(Ticket.kind == "request", Ticket.status.in_([s.value for s in OPEN_STATUSES]),
                    Ticket.unit_id.is_(None), Ticket.building_id.is_(None),
                    Ticket.compound_id.is_(None))
             .order_by(Ticket.created_at, Ticket.id).limit(limit))
    return list(db.scalars(query))


def place_request(db: Session, *, ticket: Ticket, place_code: str, user: User,
                  now: datetime) -> Ticket:
    """Put an open request on a unit, building or compound, and on that place's squad."""
    if user.role not in STAFF_ROLES:
        raise Forbidden("only staff may place a request")
    if ticket.kind != "request" or ticket.status not in OPEN_STATUSES:
        raise Invalid("only an open resident request can be placed")
    unit, building, compound = find_place(db, place_code)
    ticket.unit, ticket.building, ticket.compound = unit, building, compound
    ticket.squad_id = squad_for(building, compound)
    record(db, ticket=ticket, action=HistoryAction.NOTE, actor=Actor.of(user), now=now,
           note=f"定位 / placed: {place_label(ticket)} ({place_code})")
    db.commit()
    log.info("request %s placed on %s by %s (squad %s)", ticket.number, place_code,
             user.username, ticket.squad_id)
    return ticket
