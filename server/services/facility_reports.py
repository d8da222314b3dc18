"""A resident's report about the water or a shared facility, taken to the asset it concerns.

The request is filed as any other (it has its number, its squad, its status page); then
:meth:`FacilityDesk.report` links it to its asset (server/facilities.py decides which kind):

- the tank of the resident's building (else of the compound), or the building's extinguisher
  bay for the hydrant: an open maintenance ticket of that asset for the same concern (one the
  sensors raised, such as high turbidity, or an earlier resident's report) gets the report in its
  history; with none open, a maintenance ticket is raised (``M…`` number, the concern's service
  category, the asset's squad, one open per asset and concern, DB-enforced as the sensors' are);
- the duty staff get a raised alert in the alert book (server/alerts/outbox.py), worded as a
  water-quality, supply or fire-safety concern, with the tank's name; the notifier delivers it
  like a sensor alert (``alerts.toml``'s staff, never a volunteer's channel);
- a stairwell light or entry door is a repair at the unit: linked, but no maintenance ticket and
  no staff alert (the request's squad hears of it as of any request).

Idempotent: the link is one row per request (:class:`~server.resident_reports.FacilityReport`),
so a kiosk's outbox filing the same request again changes nothing. The route calls it after
filing, for a new filing and a replayed one alike, so a report whose first try failed half-way
is completed by the retry::

    desk = FacilityDesk(book=alert_book)
    desk.report(db, request=service_request, now=now)     # commits
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.alerts import AlertSubject
from server.alerts.outbox import AlertBook
from server.facilities import (
    SENSOR_CONDITIONS,
    AssetKind,
    FacilityConcern,
    concern_of,
    report_open_key,
)
from server.lifecycle import OPEN_STATUSES, HistoryAction, Status
from server.models import Building, Compound, ServiceRequest, Ticket
from server.resident_reports import FacilityReport
from server.sensing.models import ExtinguisherBay, Tank
from server.ticketing import RESIDENT, record

__all__ = ["FacilityDesk", "recent_reports", "reports_on"]

log = logging.getLogger(__name__)


class FacilityDesk:
    """Links facility reports to their assets, their maintenance tickets and the staff alert."""

    def __init__(self, *, book: AlertBook) -> None:
        self.book = book

    def report(self, db: Session, *, request: ServiceRequest, now: datetime
               ) -> FacilityReport | None:
        """Link ``request`` to its asset (None: not a facility report); commits."""
        ticket = request.ticket
        concern = concern_of(ticket.category_code, request.answers)
        if concern is None:
            return None
        made = db.scalar(select(FacilityReport).where(
            FacilityReport.request_ticket_id == ticket.id))
        if made is not None:
            return made
        building, compound = _place_of(ticket)
        asset_id, asset_name = _asset_for(db, concern, ticket, building, compound)
        maintenance = None
        if asset_id is not None and concern.condition is not None:
            maintenance = self._maintenance_ticket(db, concern, asset_id, asset_name,
                                                   building, request, now)
        link = FacilityReport(request_ticket_id=ticket.id, asset_kind=concern.asset_kind.value,
                              asset_id=asset_id, concern=concern.concern.value,
                              maintenance_ticket=maintenance, created_at=now)
        try:
            with db.begin_nested():
                db.add(link)
                db.flush()
        except IntegrityError:  # the same request delivered twice at once: the other won
            db.rollback()
            return db.scalar(select(FacilityReport).where(
                FacilityReport.request_ticket_id == ticket.id))
        if concern.alerts_staff:
            where = asset_name or asset_id or _place_name(building, compound)
            subject = AlertSubject(
                title_zh=concern.report_zh(where), title_en=concern.report_en(where),
                urgent=concern.urgent, asset_id=asset_id, asset_name=asset_name,
                evidence={"request": ticket.number})
            self.book.reported(db, ticket=maintenance or ticket, subject=subject, now=now)
        db.commit()
        log.info("request %s (%s) linked to %s %s, maintenance ticket %s", ticket.number,
                 concern.concern.value, concern.asset_kind.value, asset_id or "(none)",
                 maintenance.number if maintenance else "(none)")
        return link

    def _maintenance_ticket(self, db: Session, concern: FacilityConcern, asset_id: str,
                            asset_name: str | None, building: Building | None,
                            request: ServiceRequest, now: datetime) -> Ticket:
        """The asset's open ticket for this concern, with the report in its history; else a new
        one raised by the report."""
        assert concern.condition is not None
        ticket = request.ticket
        note = (f"{concern.report_zh(asset_name or asset_id)}（请求 {ticket.number}）"
                f" / {concern.report_en(asset_name or asset_id)} (request {ticket.number})")
        conditions = set(SENSOR_CONDITIONS.get(concern.concern, ())) | {concern.condition}
        open_ticket = db.scalar(select(Ticket).where(
            Ticket.asset_id == asset_id, Ticket.kind == "maintenance",
            Ticket.condition.in_(sorted(conditions)),
            Ticket.status.in_([s.value for s in OPEN_STATUSES]))
            .order_by(Ticket.created_at, Ticket.id).limit(1))
        if open_ticket is not None:
            record(db, ticket=open_ticket, action=HistoryAction.RESIDENT_REPORT, actor=RESIDENT,
                   now=now, note=note, from_status=open_ticket.status)
            return open_ticket
        squad_id = building.grid.squad_id if building is not None and building.grid else None
        maintenance = Ticket(
            number=f"tmp-{uuid.uuid4().hex}", kind="maintenance",
            category_code=concern.maintenance_category,
            title=f"{concern.title_zh} · {asset_id}"[:200], status=Status.NEW.value,
            priority="urgent" if concern.urgent else "high", site_id=ticket.site_id,
            squad_id=squad_id, building_id=building.id if building is not None else None,
            asset_id=asset_id, condition=concern.condition,
            open_key=report_open_key(asset_id, concern), created_at=now, updated_at=now)
        try:
            with db.begin_nested():
                db.add(maintenance)
                db.flush()
                maintenance.number = f"M{maintenance.id:06d}"
                record(db, ticket=maintenance, action=HistoryAction.RESIDENT_REPORT,
                       actor=RESIDENT, now=now, note=note)
                db.flush()
        except IntegrityError:
            # Another resident's report of the same asset raised it a moment ago: add to it.
            raced = db.scalar(select(Ticket).where(
                Ticket.open_key == report_open_key(asset_id, concern)))
            if raced is None:
                raise
            record(db, ticket=raced, action=HistoryAction.RESIDENT_REPORT, actor=RESIDENT,
                   now=now, note=note, from_status=raced.status)
            return raced
        log.info("ticket %s raised by request %s: %s on %s", maintenance.number, ticket.number,
                 concern.condition, asset_id)
        return maintenance


def _place_of(ticket: Ticket) -> tuple[Building | None, Compound | None]:
    if ticket.unit is not None:
        return ticket.unit.building, ticket.unit.building.compound
    if ticket.building is not None:
        return ticket.building, ticket.building.compound
    return None, ticket.compound


def _place_name(building: Building | None, compound: Compound | None) -> str:
    if building is not None:
        return f"{building.compound.name_zh}{building.name}"
    return compound.name_zh if compound is not None else ""


def _asset_for(db: Session, concern: FacilityConcern, ticket: Ticket,
               building: Building | None, compound: Compound | None
               ) -> tuple[str | None, str | None]:
    """The asset the report concerns, and its name: the building's own, else the compound's."""
    if concern.asset_kind is AssetKind.STAIRWELL:
        place = ticket.unit or ticket.building
        return (place.code, None) if place is not None else (None, None)
    model = Tank if concern.asset_kind is AssetKind.TANK else ExtinguisherBay
    for codes in ([building.code] if building is not None else [],
                  [b.code for b in compound.buildings] if compound is not None else []):
        if not codes:
            continue
        found = db.scalars(select(model).where(model.building_code.in_(codes))
                           .order_by(model.asset_id)).first()
        if found is not None:
            return found.asset_id, found.name
    return None, None


def reports_on(db: Session, *, ticket_id: int) -> list[FacilityReport]:
    """The residents' reports linked to a ticket: the request's own link, or every report a
    maintenance ticket has heard of (newest first)."""
    return list(db.scalars(select(FacilityReport).where(
        (FacilityReport.request_ticket_id == ticket_id)
        | (FacilityReport.maintenance_ticket_id == ticket_id))
        .order_by(FacilityReport.id.desc())))


def recent_reports(db: Session, *, asset_id: str, since: datetime, limit: int = 10
                   ) -> list[dict[str, object]]:
    """What residents reported about an asset since ``since``, newest first, for the asset's
    page beside its readings (the words in both languages, the request and the ticket)."""
    rows = db.scalars(select(FacilityReport).where(
        FacilityReport.asset_id == asset_id, FacilityReport.created_at >= since)
        .order_by(FacilityReport.created_at.desc(), FacilityReport.id.desc()).limit(limit))
    shown: list[dict[str, object]] = []
    for link in rows:
        ticket = link.request_ticket
        request = ticket.request
        concern = concern_of(ticket.category_code, request.answers if request else {})
        maintenance = link.maintenance_ticket
        shown.append({
            "at": link.created_at, "request_id": ticket.id, "number": ticket.number,
            "what_zh": concern.what_zh.removeprefix("的") if concern else "",
            "what_en": concern.what_en if concern else "",
            "urgent": bool(concern and concern.urgent),
            "maintenance_id": maintenance.id if maintenance else None,
            "maintenance_number": maintenance.number if maintenance else "",
        })
    return shown
