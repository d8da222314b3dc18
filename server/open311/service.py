"""Open311 GeoReport v2 over the system of record: what the public may file, filing with a place
found from whatever the client gave, and reading requests back as the spec's fields.

Wiring: server/api/routes/open311.py parses and answers HTTP (JSON or XML) and calls these
functions; they call server/services/requests.py to file, and read server/models.py and
server/open311/models.py. Placing is the pure server/open311/places.py. Every function takes
keyword-only arguments and returns plain dicts (the same for JSON and XML).

Requests are identified by their public number. Residents' names and phone numbers never
appear in what is read back; a staff note that is shown has phone numbers masked.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, Literal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from server.errors import Forbidden, Invalid, NotFound
from server.lifecycle import OPEN_STATUSES, HistoryAction
from server.models import Building, Category, Compound, ServiceRequest, Ticket, Unit
from server.open311.models import Open311Client, Open311Filing
from server.open311.places import BuildingEntry, CompoundEntry, PlaceBook, Placement
from server.place_locations import PlaceLocation
from server.services.requests import NewRequest, file_request, mask_phone, place_label
from server.ticketing import SYSTEM, record

__all__ = ["Language", "Open311Post", "RequestQuery", "client_for_key", "file_open311",
           "find_requests", "issue_key", "one_request", "pick_language", "place_book",
           "positions", "public_category", "request_view", "service_definition", "services"]

log = logging.getLogger(__name__)

Language = Literal["zh", "en"]
WINDOW = timedelta(days=90)  # the spec's default and longest date range
MAX_REQUESTS = 1000
# Notes whose words are addressed to the resident: what was done, or why it will not be.
_PUBLIC_NOTE_ACTIONS = ("resolve", "close", "cancel", "duplicate")
_PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")


# --- api keys ---------------------------------------------------------------------------------

def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(db: Session, *, name: str, now: datetime, commit: bool = True) -> str:
    """A new key for the named client (made on first use). The client's old key stops working.
    ``commit=False``: the caller commits, with its audit entry (server/open311/admin.py)."""
    key = secrets.token_urlsafe(24)
    client = db.scalar(select(Open311Client).where(Open311Client.name == name))
    if client is None:
        client = Open311Client(name=name, created_at=now)
        db.add(client)
    client.key_hash, client.revoked_at = _hash(key), None
    if commit:
        db.commit()
    else:
        db.flush()
    log.info("open311 client %s (id %s) has a new api key", name, client.id)
    return key


def client_for_key(db: Session, *, key: str | None) -> Open311Client:
    """The client holding this key; Forbidden (the spec's 403) when there is none or it is
    revoked."""
    client = None
    if key:
        client = db.scalar(select(Open311Client).where(Open311Client.key_hash == _hash(key)))
    if client is None or client.revoked_at is not None:
        raise Forbidden("api_key was not provided or is not valid; ask the service point for one")
    return client


# --- language ---------------------------------------------------------------------------------

def pick_language(accept_language: str | None) -> Language:
    """Chinese unless the client prefers English over Chinese (``Accept-Language``)."""
    best: tuple[float, Language] = (-1.0, "zh")
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in ("zh", "en") and quality > best[0]:
            best = (quality, "zh" if primary == "zh" else "en")
    return best[1]


def _pick(lang: Language, zh: str, en: str) -> str:
    return (en or zh) if lang == "en" else zh


# --- services ---------------------------------------------------------------------------------

def _public() -> Select[Category]:
    return select(Category).where(Category.active.is_(True), Category.public.is_(True))


def public_category(db: Session, *, code: str) -> Category:
    category = db.scalar(_public().where(Category.code == code))
    if category is None:
        raise NotFound(f"service_code {code} not found")
    return category


def _keywords(category: Category, lang: Language) -> str:
    """Words a resident would search for: the service's name and its questions' answers."""
    words = [_pick(lang, category.name_zh, category.name_en)]
    for question in category.questions:
        words += [_pick(lang, c["zh"], c["en"]) for c in question["choices"]
                  if c["key"] != "other"]
    return ", ".join(dict.fromkeys(words))


def _service(category: Category, lang: Language) -> dict[str, Any]:
    other: Language = "en" if lang == "zh" else "zh"
    return {"service_code": category.code,
            "service_name": _pick(lang, category.name_zh, category.name_en),
            "description": _pick(other, category.name_zh, category.name_en),
            "metadata": bool(category.questions), "type": "realtime",
            "keywords": _keywords(category, lang),
            "group": _pick(lang, category.group_zh, category.group_en)}


def services(db: Session, *, lang: Language) -> list[dict[str, Any]]:
    return [_service(c, lang) for c in db.scalars(_public().order_by(Category.sort_order))]


def service_definition(db: Session, *, code: str, lang: Language) -> dict[str, Any]:
    category = public_category(db, code=code)
    return {"service_code": category.code, "attributes": [
        {"variable": True, "code": q["code"], "datatype": "singlevaluelist",
         "required": q["required"], "datatype_description": "", "order": order,
         "description": _pick(lang, q["label_zh"], q["label_en"]),
         "values": [{"key": c["key"], "name": _pick(lang, c["zh"], c["en"])}
                    for c in q["choices"]]}
        for order, q in enumerate(category.questions, start=1)
    ]}


# --- placing ----------------------------------------------------------------------------------

def place_book(db: Session) -> PlaceBook:
    """The site's places as the pure matcher wants them, with their aliases and positions."""
    located = {p.code: p for p in db.scalars(select(PlaceLocation))}

    def aliases(code: str) -> tuple[str, ...]:
        found = located.get(code)
        return tuple(str(a) for a in found.aliases) if found else ()

    compounds = []
    for compound in db.scalars(select(Compound).options(
            selectinload(Compound.buildings).selectinload(Building.units))):
        where = located.get(compound.code)
        compounds.append(CompoundEntry(
            code=compound.code, names=(compound.name_zh, compound.name_en,
                                       *aliases(compound.code)),
            buildings=tuple(BuildingEntry(b.code, b.name, aliases(b.code),
                                          tuple((u.code, u.name) for u in b.units))
                            for b in compound.buildings),
            lat=where.lat if where else None, long=where.long if where else None,
            radius_m=float(where.radius_m) if where and where.radius_m else 200.0))
    return PlaceBook(compounds)


@dataclass(frozen=True)
class Open311Post:
    """A POST requests body, checked for shape by the route."""

    service_code: str
    jurisdiction_id: str | None = None
    address_id: str | None = None
    address_string: str | None = None
    lat: float | None = None
    long: float | None = None
    description: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str | None = None
    email: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    media_url: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None


def _place(book: PlaceBook, post: Open311Post) -> tuple[Placement | None, str]:
    """The finest place the post names, trying the code, the text, then the position; else
    None and why (the request goes to the triage queue)."""
    tried = []
    if post.address_id:
        found = book.match_text(post.address_id)
        if found is not None and found.how == "code":
            return found, f"address_id {post.address_id}"
        tried.append(f"address_id {post.address_id!r} is not a place here")
    if post.address_string:
        found = book.match_text(post.address_string)
        if found is not None:
            return found, f"address_string: {found.how}"
        tried.append(f"address_string {post.address_string!r} names no compound or building")
    if post.lat is not None and post.long is not None:
        found = book.nearest(post.lat, post.long)
        if found is not None:
            return found, found.how
        tried.append(f"lat/long {post.lat:.6f},{post.long:.6f} is near no compound")
    return None, "not placed (" + "; ".join(tried) + "): for staff to place"


def file_open311(db: Session, *, post: Open311Post, client: Open311Client, now: datetime,
                 site_id: str) -> tuple[ServiceRequest, bool]:
    """File what an Open311 client posted. Whatever its location, it is filed: placed on the
    unit, building or compound it names, or else to the triage queue for staff to place."""
    try:
        category = public_category(db, code=post.service_code)
    except NotFound:
        raise Invalid(f"service_code {post.service_code}: not a service the public may file "
                      "(see services.xml)") from None
    if not (post.address_id or post.address_string
            or (post.lat is not None and post.long is not None)):
        raise Invalid("give a location: address_id, address_string, or lat and long")
    placement, how = _place(place_book(db), post)
    # A retry with the same Idempotency-Key from the same client files nothing new.
    client_id = f"o311-{uuid.uuid4().hex}"
    if post.idempotency_key:
        client_id = f"o311-{client.id}-{_hash(post.idempotency_key)[:40]}"
    request, created = file_request(db, now=now, site_id=site_id, new=NewRequest(
        client_id=client_id, category=category.code,
        place_code=placement.code if placement else None, answers=post.attributes,
        description=post.description,
        contact_name=(post.last_name + post.first_name)[:40], contact_phone=post.phone,
        channel="open311"))
    if created:
        db.add(Open311Filing(
            ticket_id=request.ticket_id, client_id=client.id, email=post.email,
            device_id=post.device_id, account_id=post.account_id, media_url=post.media_url,
            address_string=post.address_string, lat=post.lat, long=post.long, placed_how=how))
        # Staff read where it came from, and why it has no place if it has none, in its history.
        record(db, ticket=request.ticket, action=HistoryAction.NOTE, actor=SYSTEM, now=now,
               note=f"Open311 · {client.name} · {how}")
        db.commit()
        log.info("open311 request %s from client %s: %s", request.ticket.number, client.name, how)
    return request, created


# --- reading requests -------------------------------------------------------------------------

def _public_note(ticket: Ticket) -> str | None:
    for event in reversed(ticket.events):
        if event.action in _PUBLIC_NOTE_ACTIONS and event.actor_kind != "resident" and event.note:
            return _PHONE.sub(lambda m: mask_phone(m.group()) or "", event.note)
    return None


def _answers_text(ticket: Ticket, lang: Language) -> str:
    request = ticket.request
    if request is None or not request.answers:
        return ""
    names = {(q["code"], c["key"]): _pick(lang, c["zh"], c["en"])
             for q in ticket.category.questions for c in q["choices"]}
    return ", ".join(names.get((code, key), key) for code, key in request.answers.items())


def _place_code(ticket: Ticket) -> str | None:
    for place in (ticket.unit, ticket.building, ticket.compound):
        if place is not None:
            return str(place.code)
    return None


def _compound_code(ticket: Ticket) -> str | None:
    if ticket.unit is not None:
        return str(ticket.unit.building.compound.code)
    if ticket.building is not None:
        return str(ticket.building.compound.code)
    return str(ticket.compound.code) if ticket.compound is not None else None


def request_view(ticket: Ticket, *, filing: Open311Filing | None, lang: Language,
                 positions: dict[str, PlaceLocation], tz: tzinfo | None) -> dict[str, Any]:
    """One request as GeoReport's fields, in the client's language and the site's time zone."""
    def when(at: datetime | None) -> str | None:
        return at.astimezone(tz).isoformat() if at else None

    lat = filing.lat if filing else None
    long = filing.long if filing else None
    compound = _compound_code(ticket)
    if lat is None and compound in positions:
        lat, long = positions[compound].lat, positions[compound].long
    description = ticket.request.description if ticket.request else ""
    return {
        "service_request_id": ticket.number,
        "status": "open" if ticket.status in OPEN_STATUSES else "closed",
        "status_notes": _public_note(ticket),
        "service_name": _pick(lang, ticket.category.name_zh, ticket.category.name_en),
        "service_code": ticket.category_code,
        "description": description or _answers_text(ticket, lang),
        "agency_responsible": ticket.squad.name if ticket.squad else "",
        "service_notice": "", "requested_datetime": when(ticket.created_at),
        "updated_datetime": when(ticket.updated_at),
        "expected_datetime": when(ticket.due_at),
        "address": place_label(ticket) or (filing.address_string if filing else "") or "",
        "address_id": _place_code(ticket), "zipcode": None, "lat": lat, "long": long,
        "media_url": filing.media_url if filing else None,
    }


@dataclass(frozen=True)
class RequestQuery:
    ids: list[str] = field(default_factory=list)
    service_codes: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] = field(default_factory=list)


def _window(query: RequestQuery, now: datetime) -> tuple[datetime, datetime]:
    """The spec's date range: at most 90 days; the last 90 days when none is given."""
    start, end = query.start, query.end
    if start is None and end is None:
        return now - WINDOW, now
    if start is None:
        assert end is not None
        return end - WINDOW, end
    if end is None:
        return start, start + WINDOW
    if end - start > WINDOW:
        raise Invalid("start_date/end_date: at most 90 days apart")
    if end < start:
        raise Invalid("end_date: before start_date")
    return start, end


def _requests() -> Any:
    return (select(Ticket, Open311Filing)
               .outerjoin(Open311Filing, Open311Filing.ticket_id == Ticket.id)
               .where(Ticket.kind == "request")
               .options(selectinload(Ticket.request), selectinload(Ticket.category),
                        selectinload(Ticket.squad), selectinload(Ticket.events),
                        selectinload(Ticket.compound),
                        selectinload(Ticket.unit).selectinload(Unit.building)
                        .selectinload(Building.compound),
                        selectinload(Ticket.building).selectinload(Building.compound)))


def find_requests(db: Session, *, query: RequestQuery, now: datetime
                  ) -> list[tuple[Ticket, Open311Filing | None]]:
    """Requests matching the query, newest first. ``ids`` overrides every other filter, as
    the spec says; tickets raised from sensors are not requests and never show."""
    select_ = _requests()
    if query.ids:
        select_ = select_.where(Ticket.number.in_(query.ids[:100]))
    else:
        start, end = _window(query, now)
        select_ = select_.where(Ticket.created_at >= start, Ticket.created_at <= end)
        if query.service_codes:
            select_ = select_.where(Ticket.category_code.in_(query.service_codes[:50]))
        open_values = [s.value for s in OPEN_STATUSES]
        wanted = set(query.statuses)
        if wanted == {"open"}:
            select_ = select_.where(Ticket.status.in_(open_values))
        elif wanted == {"closed"}:
            select_ = select_.where(Ticket.status.not_in(open_values))
    select_ = select_.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(MAX_REQUESTS)
    return [(ticket, filing) for ticket, filing in db.execute(select_).all()]


def one_request(db: Session, *, number: str) -> tuple[Ticket, Open311Filing | None]:
    found = db.execute(_requests().where(Ticket.number == number)).first()
    if found is None:
        raise NotFound(f"service_request_id {number} not found")
    return found[0], found[1]


def positions(db: Session) -> dict[str, PlaceLocation]:
    """Compound centres by code, to give requests placed there a position."""
    located = select(PlaceLocation).where(PlaceLocation.lat.is_not(None))
    return {p.code: p for p in db.scalars(located)}
