"""The audit log: record every change made on the admin pages and every sensitive read, and read
the log back for the admins' page.

One function writes (in the caller's transaction; the caller commits with its change, so a change
and its entry land together or not at all)::

    from server.services import audit

    before = audit.snapshot(volunteer, "given_name", "squad_id", "active")
    volunteer.active = False
    audit.record(db, actor=user, action="volunteer.deactivate",
                 subject=("volunteer", volunteer.id), before=before,
                 after=audit.snapshot(volunteer, "given_name", "squad_id", "active"), now=now)
    db.commit()

``actor`` is the signed-in :class:`~server.models.User`, or a label where no user acts (the
retention job: ``"系统"``; a volunteer reading by task link: their given name, with
``actor_user_id``). ``action`` is ``<kind>.<verb>``; sensitive reads use the verbs ``reveal``,
``view`` and ``export``. Never put erased personal data in ``before``: an erasure records what
kinds of data went and how many, not the data.

Append-only: this module has no update or delete, and migration 0704 installs triggers that
make the database refuse both (:class:`~server.audit_log.AuditEntry`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from server.audit_log import AuditEntry
from server.models import User

__all__ = ["AuditPage", "READ_VERBS", "SYSTEM", "entries", "record", "snapshot"]

log = logging.getLogger(__name__)
SYSTEM = "系统"
# The verbs that mark a read rather than a change (the log page can filter on them).
READ_VERBS = ("reveal", "view", "export")


def _plain(value: Any) -> Any:
    """A value as JSON can hold it (dates as ISO text)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def snapshot(row: Any, *fields: str) -> dict[str, Any]:
    """``{field: value}`` of ``row``'s attributes, JSON-ready: the before or after of a change."""
    return {name: _plain(getattr(row, name)) for name in fields}


def record(db: Session, *, actor: User | str | None, action: str, subject: tuple[str, object],
           now: datetime, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None, note: str = "",
           actor_user_id: int | None = None) -> AuditEntry:
    """Add one entry to the log in ``db``'s transaction (the caller commits)."""
    if isinstance(actor, User):
        label, user_id = actor.display_name or actor.username, actor.id
    else:
        label, user_id = actor or SYSTEM, actor_user_id
    kind, key = subject
    entry = AuditEntry(at=now, actor_user_id=user_id, actor_label=label[:60], action=action[:40],
                       subject_kind=kind[:30], subject_id=str(key)[:60],
                       before=_plain(before) if before is not None else None,
                       after=_plain(after) if after is not None else None, note=note)
    db.add(entry)
    log.info("audit: %s %s:%s by %s", action, kind, key, label)
    return entry


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditEntry]
    total: int
    page: int
    pages: int


def _filtered(query: Select[Any], *, who: str, what: str, subject: str, since: datetime | None,
              until: datetime | None, reads: bool | None) -> Select[Any]:
    if who:
        query = query.where(AuditEntry.actor_label.contains(who))
    if what:
        query = query.where(AuditEntry.action.startswith(what))
    if subject:
        query = query.where(or_(AuditEntry.subject_kind == subject,
                                AuditEntry.subject_id == subject))
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if reads is not None:
        is_read = or_(*(AuditEntry.action.endswith("." + verb) for verb in READ_VERBS))
        query = query.where(is_read if reads else ~is_read)
    return query


def entries(db: Session, *, who: str = "", what: str = "", subject: str = "",
            since: datetime | None = None, until: datetime | None = None,
            reads: bool | None = None, page: int = 1, size: int = 50) -> AuditPage:
    """The log, newest first, filtered by who (part of the name), what (an action or its kind:
    ``volunteer`` or ``volunteer.deactivate``), a subject (kind or id) and a time range."""
    filters = {"who": who, "what": what, "subject": subject, "since": since, "until": until,
               "reads": reads}
    total = db.scalar(_filtered(select(func.count()).select_from(AuditEntry), **filters)) or 0
    rows = list(db.scalars(_filtered(select(AuditEntry), **filters)
                           .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                           .limit(size).offset((page - 1) * size)))
    return AuditPage(rows=rows, total=total, page=page, pages=max(1, -(-total // size)))
