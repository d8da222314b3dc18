"""What the service point holds about one resident, found by name or phone, exported (PIPL Art.
45) and erased on request (Art. 47); each of the three in the audit log.

    found = find_residents(db, query="13800001234")
    held = held_about(db, resident=found[0])          # a plain dict: the JSON export and the page
    _, files = erase_resident(db, resident=found[0], actor=admin, now=now); db.commit()
    for key in files: store.delete(key)               # the photos' and recording's files

Erasing empties the personal fields (the resident's phone and how to address them; on each of
their requests the contact's name and phone, the description, the door and floor, the rating's
comment), removes their requests' photos and spoken descriptions, and keeps the other rows, so
the monthly figures, which count requests and residents by id, stay what they were. The audit
entry says which kinds of data went and how many requests and files, never the data itself.

The library's own records of a reader (server/library/) are the library desk's and are not in
this export; the reader's phone sign-in ends with the resident's phone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from server.models import Resident, ServiceRequest, Ticket, Unit, User
from server.photo_records import Photo
from server.resident_reports import SpokenDescription
from server.services import audit

__all__ = ["ERASED_FIELDS", "ResidentRow", "erase_resident", "find_residents", "held_about"]

log = logging.getLogger(__name__)
ERASED_FIELDS = ("resident.phone", "resident.address_as", "request.contact_name",
                 "request.contact_phone", "request.resident_name", "request.description",
                 "request.floor",
                 "request.room", "ticket.rating_comment", "photos", "recording")
MAX_FOUND = 50


@dataclass(frozen=True)
class ResidentRow:
    resident: Resident
    requests: int
    names: list[str]  # the names their requests gave


def find_residents(db: Session, *, query: str) -> list[ResidentRow]:
    """Residents whose phone or name matches (on their own record or on their requests)."""
    query = query.strip()
    if not query:
        return []
    digits = "".join(ch for ch in query if ch.isdigit())
    like = f"%{query}%"
    conditions = [Resident.address_as.like(like), ServiceRequest.contact_name.like(like)]
    if len(digits) >= 4:
        conditions += [Resident.phone.like(f"%{digits}%"),
                       ServiceRequest.contact_phone.like(f"%{digits}%")]
    ids = db.scalars(select(Resident.id).outerjoin(
        ServiceRequest, ServiceRequest.resident_id == Resident.id).where(or_(*conditions))
        .distinct().limit(MAX_FOUND)).all()
    residents = db.scalars(select(Resident).where(Resident.id.in_(ids))
                           .order_by(Resident.id)).all()
    counts = dict(db.execute(select(ServiceRequest.resident_id, func.count())
                             .where(ServiceRequest.resident_id.in_(ids))
                             .group_by(ServiceRequest.resident_id)).tuples().all())
    names: dict[int, set[str]] = {}
    for rid, name in db.execute(select(ServiceRequest.resident_id, ServiceRequest.contact_name)
                                .where(ServiceRequest.resident_id.in_(ids))):
        if rid is not None and name:
            names.setdefault(rid, set()).add(name)
    return [ResidentRow(r, counts.get(r.id, 0), sorted(names.get(r.id, set())))
            for r in residents]


def _requests(db: Session, resident: Resident) -> list[ServiceRequest]:
    return list(db.scalars(
        select(ServiceRequest).where(ServiceRequest.resident_id == resident.id)
        .options(selectinload(ServiceRequest.ticket).selectinload(Ticket.category))
        .order_by(ServiceRequest.id)))


def _place(db: Session, unit_id: int | None) -> str:
    unit = db.get(Unit, unit_id) if unit_id is not None else None
    if unit is None:
        return ""
    return f"{unit.building.compound.name_zh} {unit.building.name} {unit.name}"


def held_about(db: Session, *, resident: Resident) -> dict[str, Any]:
    """Everything held about this resident, as plain JSON-ready data."""
    rows = _requests(db, resident)
    ids = [r.ticket_id for r in rows]
    photos = dict(db.execute(select(Photo.ticket_id, func.count()).where(Photo.ticket_id.in_(ids))
                             .group_by(Photo.ticket_id)).tuples().all())
    spoken = set(db.scalars(select(SpokenDescription.ticket_id)
                            .where(SpokenDescription.ticket_id.in_(ids))))
    requests = []
    for r in rows:
        t = r.ticket
        requests.append({
            "number": t.number, "category": t.category_code,
            "category_name": t.category.name_zh if t.category else "",
            "filed_at": t.created_at.isoformat(), "status": t.status,
            "closed_at": t.closed_at.isoformat() if t.closed_at else None,
            "channel": r.channel, "contact_name": r.contact_name,
            "contact_phone": r.contact_phone, "for_someone_else": r.for_someone_else,
            "resident_name": r.resident_name, "description": r.description,
            "answers": r.answers, "floor": r.floor, "room": r.room,
            "place": _place(db, t.unit_id), "rating": t.rating,
            "rating_comment": t.rating_comment, "photos": photos.get(t.id, 0),
            "recording": t.id in spoken})
    return {
        "resident": {"id": resident.id, "address_as": resident.address_as,
                     "phone": resident.phone, "place": _place(db, resident.unit_id),
                     "first_seen": resident.created_at.isoformat(),
                     "erased_at": resident.erased_at.isoformat() if resident.erased_at
                     else None},
        "requests": requests,
    }


def erase_resident(db: Session, *, resident: Resident, actor: User, now: datetime
                   ) -> tuple[int, list[str]]:
    """Erase what we hold about ``resident`` (the caller commits); returns how many requests'
    personal fields were emptied, and the stored files (photos, recordings) for the caller to
    delete from the attachment store once the commit has succeeded."""
    requests = _requests(db, resident)
    ticket_ids = [r.ticket_id for r in requests]
    files: list[str] = []
    for photo in db.scalars(select(Photo).where(Photo.ticket_id.in_(ticket_ids))):
        files += [photo.key, photo.thumb_key]
        db.delete(photo)
    for spoken in db.scalars(select(SpokenDescription)
                             .where(SpokenDescription.ticket_id.in_(ticket_ids))):
        files.append(spoken.attachment_key)
        db.delete(spoken)
    resident.phone, resident.address_as, resident.erased_at = None, "", now
    for r in requests:
        r.contact_name, r.contact_phone, r.description = "", None, ""
        r.floor, r.room, r.resident_name = "", "", ""
        r.ticket.rating_comment = None
    audit.record(db, actor=actor, action="resident.erase", subject=("resident", resident.id),
                 now=now, before={"requests": len(requests), "files": len(files)},
                 after={"erased": list(ERASED_FIELDS)},
                 note="erased on the resident's request")
    log.info("resident %s erased by %s (%d requests)", resident.id, actor.username,
             len(requests))
    return len(requests), files
