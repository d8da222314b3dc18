"""The facility desk as a route dependency: ``desk: FacilityDeskDep``.

The desk (server/services/facility_reports.py) writes the staff alert of a resident's report about
the water or a shared facility in the site's alert book, so it needs the book: built from the
settings' ``alerts.toml`` on first use and kept on ``app.state.facility_desk`` (a test may set
its own there first). The notice courier delivers what it writes, as it does sensor alerts.

    request, created = file_request(...)
    link_facility_report(desk, db, request=request, now=now)
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from server.alerts.outbox import AlertBook
from server.models import ServiceRequest
from server.sensing.maintenance import asset_name
from server.services.facility_reports import FacilityDesk

__all__ = ["FacilityDeskDep", "get_facility_desk", "link_facility_report"]

log = logging.getLogger(__name__)


def get_facility_desk(request: Request) -> FacilityDesk:
    state = request.app.state
    desk: FacilityDesk | None = getattr(state, "facility_desk", None)
    if desk is None:
        book = AlertBook.from_settings(state.settings, metrics=state.metrics,
                                       asset_names=asset_name)
        desk = state.facility_desk = FacilityDesk(book=book)
    return desk


async def _facility_desk(request: Request) -> FacilityDesk:
    # Async: every filing asks for the desk, and as a plain def it would cost each one a
    # worker-thread hop for nothing; only the first call reads the alerts file (small, once).
    return get_facility_desk(request)


FacilityDeskDep = Annotated[FacilityDesk, Depends(_facility_desk)]


def link_facility_report(desk: FacilityDesk, db: Session, *, request: ServiceRequest,
                         now: datetime) -> None:
    """Link a filed request to its asset. The filing is already committed and answered for:
    a failure here is logged, and the kiosk's retry of the same filing completes the link."""
    try:
        desk.report(db, request=request, now=now)
    except Exception:
        db.rollback()
        log.exception("request %s: could not link it to its asset; a retry will",
                      request.ticket.number)
