"""Resident requests: filing (idempotent on the client id), following by phone token, confirming.

A client id is a capability, not a lookup key: filing again under an id already used answers
with the first filing only when the body is the same (a retry), and a different body is a
409 that says nothing about the first one. Whether the replay may see the phone token is the
caller's proof, decided where the caller is known (server/api/routes/public.py).

居民点单: a resident files a request at the kiosk, on a phone or through Open311. It becomes a
ticket with the squad whose grid covers the resident's building. The phone token in the QR link
is the resident's only key: it reads that one request and nothing else.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, object_session, selectinload

from foundation.redact import short_hash
from server.appointments.booking import (
    SlotFull,
    booking_of,
    chosen_slot,
    release_place,
    take_place,
)
from server.errors import Conflict, IllegalTransition, Invalid, NotFound
from server.lifecycle import Action, HistoryAction, Status
from server.models import (
    Building,
    Category,
    Compound,
    Resident,
    ServiceRequest,
    Ticket,
    TicketEvent,
    Unit,
    User,
)
from server.security import new_phone_token
from server.services.tickets import RESIDENT, Actor, apply_action, record
from server.sites.scoping import acting_site, everywhere

__all__ = ["NewRequest", "cancel_by_resident", "confirm_done", "dispatch_note", "file_request",
           "find_place", "mask_phone", "place_label", "request_by_token", "squad_for"]

log = logging.getLogger(__name__)
NUMBER_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{0,3}-\d{4,8}$")


@dataclass(frozen=True)
class NewRequest:
    client_id: str
    category: str
    # A unit, building or compound code; None: not placed yet (the triage queue, staff place it).
    place_code: str | None
    answers: dict[str, str]
    description: str = ""
    contact_name: str = ""
    contact_phone: str | None = None
    channel: str = "kiosk"
    number: str | None = None
    phone_token: str | None = None
    floor: str = ""  # optional: 楼层 and 房号 as the resident gave them
    room: str = ""
    # Filed for someone else (a parent, a neighbour): the contact is who to call, and
    # resident_name (optional) whose home it is. filed_by: the staff member taking a call (代办).
    for_someone_else: bool = False
    resident_name: str = ""
    filed_by: User | None = None
    # The slot picked for a category by appointment (server/appointments/).
    slot_id: int | None = None


def mask_phone(phone: str | None) -> str | None:
    """13800001234 -> 138****1234: enough for staff to recognise, not to copy."""
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def place_label(ticket: Ticket) -> str:
    if ticket.unit is not None:
        b = ticket.unit.building
        return f"{b.compound.name_zh} {b.name} {ticket.unit.name}"
    if ticket.building is not None:
        return f"{ticket.building.compound.name_zh} {ticket.building.name}"
    if ticket.compound is not None:
        return ticket.compound.name_zh
    return ""


def dispatch_note(ticket: Ticket) -> str:
    """What the leader wrote when giving the job to its volunteer ("" if nothing: the history's
    own "派给 <name>" line is not a note for the volunteer)."""
    for event in reversed(ticket.events):
        if event.action == HistoryAction.DISPATCH:
            given = ticket.assignee.given_name if ticket.assignee else ""
            return "" if event.note in ("", f"派给 {given}") else event.note
    return ""


def _check_answers(category: Category, answers: dict[str, str]) -> None:
    questions = {q["code"]: q for q in category.questions}
    for code, value in answers.items():
        if code not in questions:
            raise Invalid(f"answers.{code}: {category.code} has no such question")
        keys = {c["key"] for c in questions[code]["choices"]}
        if value not in keys:
            raise Invalid(f"answers.{code}: {value!r} is not one of {sorted(keys)}")
    for code, question in questions.items():
        if question["required"] and code not in answers:
            raise Invalid(f"answers.{code}: this question needs an answer")


_PLACE_AROUND = (joinedload(Building.grid), joinedload(Building.compound))


def find_place(db: Session, code: str | None
                ) -> tuple[Unit | None, Building | None, Compound | None]:
    """A unit, a building, or a whole compound; no code: not placed yet."""
    if code is None:
        return None, None, None
    # With what filing reads next (the squad through the grid, the compound for the place's
    # name): one round trip instead of four.
    unit = db.scalar(select(Unit).where(Unit.code == code).options(
        joinedload(Unit.building).options(*_PLACE_AROUND)))
    if unit is not None:
        return unit, unit.building, None
    building = db.scalar(select(Building).where(Building.code == code).options(*_PLACE_AROUND))
    if building is not None:
        return None, building, None
    compound = db.scalar(select(Compound).where(Compound.code == code).options(
        selectinload(Compound.buildings).joinedload(Building.grid)))
    if compound is None:
        raise Invalid(f"place {code!r}: no such unit or building")
    return None, None, compound


def squad_for(building: Building | None, compound: Compound | None) -> int | None:
    """The squad of the grid covering the place: the building's, or the grid most of a
    compound's buildings are in. A request not placed yet has none until staff place it."""
    if building is not None:
        return building.grid.squad_id if building.grid else None
    if compound is not None:
        squads = Counter(b.grid.squad_id for b in compound.buildings if b.grid)
        return squads.most_common(1)[0][0] if squads else None
    return None


def _resident(db: Session, new: NewRequest, unit: Unit | None, now: datetime, site_id: str
              ) -> Resident | None:
    """Match by phone; else by household (unit and name); else a new resident row (all in
    the request's site)."""
    query = select(Resident).where(Resident.site_id == site_id)
    if new.contact_phone:
        query = query.where(Resident.phone == new.contact_phone)
    elif unit is not None:
        query = query.where(Resident.unit_id == unit.id, Resident.address_as == new.contact_name,
                            Resident.phone.is_(None))
    else:
        return None
    resident = db.scalars(query.limit(1)).first()
    if resident is None:
        resident = Resident(address_as=new.contact_name, phone=new.contact_phone,
                            unit_id=unit.id if unit else None, created_at=now, site_id=site_id)
        db.add(resident)
    return resident


def file_request(db: Session, *, new: NewRequest, now: datetime, site_id: str
                 ) -> tuple[ServiceRequest, bool]:
    """File a request; return it and whether it is new. A retry with the same client id
    returns the first filing unchanged, so nothing is ever filed twice."""
    existing = db.scalar(select(ServiceRequest).where(ServiceRequest.client_id == new.client_id))
    if existing is not None:
        return _replayed(existing, new), False
    category = db.get(Category, new.category)
    if category is None or not category.active:
        raise Invalid(f"category {new.category!r}: no such service")
    _check_answers(category, new.answers)
    unit, building, compound = find_place(db, new.place_code)
    # The place's site (a building belongs to one site, so a poster's code implies it); else
    # the kiosk's or signed-in person's; else the home site passed in (server/sites/).
    place = unit or building or compound
    site_id = place.site_id if place is not None else acting_site(db, site_id)
    slot = chosen_slot(db, category=category, slot_id=new.slot_id, now=now, site_id=site_id)
    number = new.number
    if number is not None:
        if not NUMBER_PATTERN.match(number):
            raise Invalid("number: must look like K1-0042")
        if db.scalar(everywhere(select(Ticket.id).where(Ticket.number == number))) is not None:
            # A reinstalled kiosk restarts its sequence. Refusing would strand the resident's
            # request; give it a server number instead (the phone link still works).
            log.warning("kiosk number %s is taken; the server assigns one", number)
            number = None
    token = new.phone_token or new_phone_token()
    if db.scalar(select(ServiceRequest.id).where(ServiceRequest.phone_token == token)):
        raise Conflict("phone_token is already used by another request")
    squad_id = squad_for(building, compound)
    ticket = Ticket(
        number=number or f"tmp-{uuid4().hex}", kind="request", category=category,
        title=f"{category.name_zh}", status=Status.NEW.value, priority=category.priority,
        site_id=site_id, squad_id=squad_id, unit=unit, building=building, compound=compound,
        created_at=now,
        updated_at=now, due_at=now + timedelta(hours=category.target_hours),
    )
    request = ServiceRequest(
        ticket=ticket, client_id=new.client_id, phone_token=token,
        resident=_resident(db, new, unit, now, site_id), answers=dict(new.answers),
        description=new.description, contact_name=new.contact_name,
        contact_phone=new.contact_phone, channel=new.channel,
        floor=new.floor.strip()[:10], room=new.room.strip()[:20],
        for_someone_else=new.for_someone_else, resident_name=new.resident_name.strip()[:40],
        filed_by_user_id=new.filed_by.id if new.filed_by is not None else None,
    )
    db.add_all([ticket, request])
    record(db, ticket=ticket, action=HistoryAction.FILE,
           actor=Actor.of(new.filed_by) if new.filed_by is not None else RESIDENT, now=now,
           note=f"via {new.channel}")
    try:
        db.flush()
        if number is None:
            ticket.number = f"{ticket.id:06d}"
        if slot is not None:  # the place, atomically, in this same transaction
            take_place(db, slot=slot, ticket=ticket, now=now)
        db.commit()
    except SlotFull:
        db.rollback()
        raise
    except IntegrityError:
        # Two deliveries of the same request raced; the other one won. Answer with it.
        db.rollback()
        existing = db.scalar(
            select(ServiceRequest).where(ServiceRequest.client_id == new.client_id))
        if existing is None:
            raise Conflict("the request number or token is already in use") from None
        return _replayed(existing, new), False
    log.info("request %s filed (ticket %s, %s, squad %s, via %s)", ticket.number, ticket.id,
             category.code, squad_id, new.channel)
    return request, True


def _place_code(ticket: Ticket) -> str | None:
    for place in (ticket.unit, ticket.building, ticket.compound):
        if place is not None:
            return str(place.code)
    return None


def _booked_slot(existing: ServiceRequest) -> int | None:
    db = object_session(existing)
    booking = booking_of(db, ticket_id=existing.ticket_id) if db is not None else None
    return booking.slot_id if booking is not None else None


def _replayed(existing: ServiceRequest, new: NewRequest) -> ServiceRequest:
    """The first filing, if ``new`` is a retry of it; else a 409 that reveals nothing of it
    (not its number, its status or its token). The kiosk's number is not compared: the
    server may have given the first filing another one."""
    ticket = existing.ticket
    same = (ticket.category_code == new.category
            and _place_code(ticket) == new.place_code
            and dict(existing.answers) == dict(new.answers)
            and existing.description == new.description
            and existing.contact_name == new.contact_name
            and existing.contact_phone == new.contact_phone
            and existing.floor == new.floor.strip()[:10]
            and existing.room == new.room.strip()[:20]
            and existing.for_someone_else == new.for_someone_else
            and existing.resident_name == new.resident_name.strip()[:40]
            and new.phone_token in (None, existing.phone_token)
            and _booked_slot(existing) == new.slot_id)
    if not same:
        log.warning("client id %s reused with a different body: refused",
                    short_hash(new.client_id))
        raise Conflict("client_id: already used for another request")
    return existing


# Everything the resident's view of a request reads, in three queries instead of one per
# relationship (the phone page is what a QR scan opens, so it is the busiest public page).
_RESIDENT_VIEW = (
    joinedload(ServiceRequest.ticket).options(
        joinedload(Ticket.category),
        joinedload(Ticket.assignee),
        joinedload(Ticket.unit).joinedload(Unit.building).joinedload(Building.compound),
        joinedload(Ticket.building).joinedload(Building.compound),
        selectinload(Ticket.events).joinedload(TicketEvent.actor_user)
        .joinedload(User.volunteer),
    ),
)


def request_by_token(db: Session, *, token: str) -> ServiceRequest:
    request = db.scalar(select(ServiceRequest).where(ServiceRequest.phone_token == token)
                        .options(*_RESIDENT_VIEW))
    if request is None:
        raise NotFound("no request with this link")
    return request


def confirm_done(db: Session, *, token: str, rating: int, comment: str, now: datetime
                 ) -> ServiceRequest:
    """The resident confirms from the phone that the work was done, and rates it; closes it."""
    request = request_by_token(db, token=token)
    ticket = request.ticket
    if ticket.status != Status.RESOLVED:
        raise IllegalTransition("the volunteer has not marked this request done yet")
    ticket.rating, ticket.rating_comment = rating, comment or None
    apply_action(db, ticket=ticket, action=Action.CLOSE, actor=RESIDENT, now=now,
                 note=f"评分 {rating}/5" + (f": {comment}" if comment else ""))
    db.commit()
    return request


def cancel_by_resident(db: Session, *, token: str, now: datetime, reason: str = ""
                       ) -> ServiceRequest:
    request = request_by_token(db, token=token)
    apply_action(db, ticket=request.ticket, action=Action.CANCEL, actor=RESIDENT, now=now,
                 note=reason)
    release_place(db, ticket=request.ticket, now=now)  # an appointment's place is free again
    db.commit()
    return request


def public_history(ticket: Ticket) -> list[dict[str, Any]]:
    """The history as a resident may see it: actions and volunteers' given names, no more."""
    shown = []
    for event in ticket.events:
        actor = "resident" if event.actor_kind == "resident" else "service point"
        user = event.actor_user
        if user is not None and user.volunteer is not None:
            actor = user.volunteer.given_name
        shown.append({"at": event.at, "action": event.action, "status": event.to_status,
                      "actor": actor})
    return shown
