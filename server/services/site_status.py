"""The site at a glance for staff and the kiosk's staff mode: open tickets, and (once sensor
ingest runs) tanks, extinguisher bays and alerts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.lifecycle import OPEN_STATUSES
from server.models import Ticket
from server.services.kiosk_heartbeats import kiosk_lines

__all__ = ["site_status"]


def site_status(db: Session, *, now: datetime, site_id: str,
                extra: Callable[[Session, datetime], dict[str, Any]] | None = None
                ) -> dict[str, Any]:
    open_tickets = db.scalars(
        select(Ticket).where(Ticket.status.in_([s.value for s in OPEN_STATUSES]))
        .order_by(Ticket.created_at.desc()).limit(50)
    ).all()
    status: dict[str, Any] = {
        "site": site_id,
        "tanks": [],
        "extinguisher_bays": [],
        "open_tickets": [
            {"id": t.id, "number": t.number, "kind": t.kind, "category": t.category_code,
             "title": t.title, "status": t.status, "priority": t.priority,
             "created_at": t.created_at.isoformat()} for t in open_tickets
        ],
        "alerts": [],
        # Each kiosk's latest heartbeat, with "silent" and "holding" warnings for staff.
        "kiosks": kiosk_lines(db, now=now),
    }
    if extra is not None:
        status.update(extra(db, now))
    return status
