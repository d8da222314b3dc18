"""Retention (PIPL Art. 19): personal data is kept only as long as the service needs it; a daily
job erases what is due and says what it did (the log and one audit entry a day).

What is kept how long is ``[retention]`` in the server's settings
(:class:`~server.settings.RetentionSettings`), counted from the day the request was closed
(resolved and confirmed, cancelled or marked duplicate):

- ``contact_days`` (180): the contact's name and phone on a request, and the door number;
- ``photo_days`` (180): the request's photos (the resident's and the volunteer's "after");
- ``recording_days`` (180): the resident's spoken description;
- ``resident_days`` (365): the resident's own phone and how to address them, once every request
  of theirs has been closed that long (the phone is what matches a new request to them).

Rows stay and only the personal fields are emptied, so the monthly figures, which count
requests and residents by id, are the same before and after. The stored files of photos and
recordings are deleted after the commit (a failed commit must not leave rows without files).

    report = run_retention(db, policy=settings.retention, now=now, store=store)
    report.total  # how many things were erased
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from server.audit_log import AuditEntry
from server.lifecycle import OPEN_STATUSES
from server.models import Resident, ServiceRequest, Ticket
from server.photo_records import Photo
from server.resident_reports import SpokenDescription
from server.services import audit

__all__ = ["RUN_ACTION", "RetentionReport", "Policy", "ran_today", "run_retention"]

log = logging.getLogger(__name__)
RUN_ACTION = "retention.run"
_OPEN = [s.value for s in OPEN_STATUSES]


class Policy(Protocol):
    contact_days: int
    photo_days: int
    recording_days: int
    resident_days: int


class Store(Protocol):
    def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class RetentionReport:
    contacts: int = 0
    photos: int = 0
    recordings: int = 0
    residents: int = 0

    @property
    def total(self) -> int:
        return self.contacts + self.photos + self.recordings + self.residents


def _closed_before(cutoff: datetime) -> object:
    return (Ticket.closed_at.is_not(None)) & (Ticket.closed_at < cutoff) & (
        Ticket.status.not_in(_OPEN))


def _contacts(db: Session, cutoff: datetime) -> int:
    rows = db.scalars(select(ServiceRequest).join(Ticket).where(
        _closed_before(cutoff),  # type: ignore[arg-type]
        (ServiceRequest.contact_phone.is_not(None)) | (ServiceRequest.contact_name != "")
        | (ServiceRequest.room != ""))).all()
    for r in rows:
        r.contact_name, r.contact_phone, r.room = "", None, ""
        if hasattr(r, "resident_name"):  # filed for someone else (migration 0701)
            r.resident_name = ""
    return len(rows)


def _photos(db: Session, cutoff: datetime) -> list[str]:
    rows = db.scalars(select(Photo).join(Ticket, Photo.ticket_id == Ticket.id)
                      .where(_closed_before(cutoff))).all()  # type: ignore[arg-type]
    keys = []
    for photo in rows:
        keys += [photo.key, photo.thumb_key]
        db.delete(photo)
    return keys


def _recordings(db: Session, cutoff: datetime) -> list[str]:
    rows = db.scalars(select(SpokenDescription)
                      .join(Ticket, SpokenDescription.ticket_id == Ticket.id)
                      .where(_closed_before(cutoff))).all()  # type: ignore[arg-type]
    keys = []
    for spoken in rows:
        keys.append(spoken.attachment_key)
        db.delete(spoken)
    return keys


def _residents(db: Session, cutoff: datetime) -> int:
    """Residents with nothing open and nothing closed after ``cutoff``: their own phone goes."""
    recent = select(ServiceRequest.id).join(Ticket).where(
        ServiceRequest.resident_id == Resident.id,
        Ticket.status.in_(_OPEN) | (Ticket.closed_at >= cutoff))
    rows = db.scalars(select(Resident).where(
        (Resident.phone.is_not(None)) | (Resident.address_as != ""),
        Resident.created_at < cutoff, ~exists(recent))).all()
    for resident in rows:
        resident.phone, resident.address_as = None, ""
    return len(rows)


def run_retention(db: Session, *, policy: Policy, now: datetime,
                  store: Store | None = None) -> RetentionReport:
    """Erase what is due at ``now``, commit, then delete the stored files; one audit entry."""
    photo_keys = _photos(db, now - timedelta(days=policy.photo_days))
    recording_keys = _recordings(db, now - timedelta(days=policy.recording_days))
    report = RetentionReport(
        contacts=_contacts(db, now - timedelta(days=policy.contact_days)),
        photos=len(photo_keys) // 2, recordings=len(recording_keys),
        residents=_residents(db, now - timedelta(days=policy.resident_days)))
    audit.record(db, actor=audit.SYSTEM, action=RUN_ACTION, subject=("retention", "daily"),
                 now=now, after={**asdict(report), "policy_days": {
                     "contact": policy.contact_days, "photo": policy.photo_days,
                     "recording": policy.recording_days, "resident": policy.resident_days}})
    db.commit()
    if store is not None:
        for key in photo_keys + recording_keys:
            try:
                store.delete(key)
            except Exception:  # a file left behind is found by the next backup's walk
                log.exception("retention: stored file %s not deleted", key)
    log.info("retention: erased %d contacts, %d photos, %d recordings, %d residents' phones",
             report.contacts, report.photos, report.recordings, report.residents)
    return report


def ran_today(db: Session, *, now: datetime, timezone: str) -> bool:
    """Whether the job already ran on this local day (the scheduler wakes hourly)."""
    tz = ZoneInfo(timezone)
    midnight = datetime.combine(now.astimezone(tz).date(), time(), tzinfo=tz)
    return db.scalar(select(AuditEntry.id).where(AuditEntry.action == RUN_ACTION,
                                                 AuditEntry.at >= midnight).limit(1)) is not None
