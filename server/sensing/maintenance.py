"""The station where conditions become maintenance tickets, and the tank cleaning log.

- A raised condition opens one ticket per asset and condition (``open_key``, DB-enforced, so a
  racing replica's second ticket is refused and its raise counts as evidence); a schedule that
  comes due opens one ticket per due date (``due_key``). Each ticket gets its ``M…`` number, its
  service category, its squad (from the asset's building) and an alert in the book.
- A cleared condition is noted on its ticket (and an alert says so); some conditions resolve their
  ticket by themselves (``ingest.auto_resolve``). A condition still present adds evidence to the
  history, at most once per ``evidence_interval``.
- The cleaning log: a cleaning with a passed water test restarts the tank's schedule and closes
  its cleaning tickets. GB 17051: a cleaning ticket closes only with a passed water test recorded
  since it was raised; importing this module installs that rule in the ticket service
  (:func:`server.ticketing.check_before_close`).

:class:`~server.sensing.processing.Processor` calls :meth:`MaintenanceDesk.apply_changes` and
:meth:`MaintenanceDesk.raise_due` inside its transaction; the cleaning log's functions are the
staff's (through :mod:`server.sensing.services`) and commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.alerts import SiteInfo
from server.alerts.outbox import AlertBook
from server.errors import IllegalTransition, Invalid, NotFound
from server.lifecycle import OPEN_STATUSES, Action, HistoryAction, Status
from server.models import Building, Ticket, User
from server.rules import (
    CLEANING_CONDITIONS,
    ChangeKind,
    Condition,
    ConditionChange,
    DueCondition,
)
from server.sensing.metrics import Metrics
from server.sensing.models import ExtinguisherBay, SensorNode, Tank, TankCleaning
from server.ticketing import Actor, apply_action, check_before_close, record

__all__ = [
    "CATEGORY_OF",
    "SENSOR",
    "MaintenanceDesk",
    "asset_name",
    "check_cleaning_close",
    "cleaning_log",
    "record_cleaning",
]

log = logging.getLogger(__name__)
SENSOR = Actor("sensor", "传感器")

# Which service category a condition's ticket belongs to, and so which squad skill does the work.
CATEGORY_OF: dict[Condition, str] = {
    Condition.LOW_LEVEL: "water_supply", Condition.HIGH_LEVEL: "water_supply",
    Condition.OVERFLOW: "water_supply", Condition.TURBIDITY_HIGH: "tank_cleaning",
    Condition.CLEANING_DUE: "tank_cleaning", Condition.MISSING: "fire_safety",
    Condition.PRESSURE_LOW: "fire_safety", Condition.DOOR_OPEN: "fire_safety",
    Condition.INSPECTION_DUE: "fire_safety", Condition.MAINTENANCE_DUE: "fire_safety",
    Condition.SCRAP_DUE: "fire_safety", Condition.OFFLINE: "sensor_node",
}


def asset_name(db: Session, asset_id: str) -> str | None:
    """A tank's or extinguisher bay's name in the register (the alert book's wording)."""
    asset = db.get(Tank, asset_id) or db.get(ExtinguisherBay, asset_id)
    return asset.name if asset is not None else None


class MaintenanceDesk:
    """Turns condition changes and due schedules into maintenance tickets and their alerts."""

    def __init__(self, *, site_id: str, alerts: AlertBook, metrics: Metrics,
                 evidence_interval_s: int, auto_resolve: Sequence[str],
                 all_sites: bool = False) -> None:
        self.site_id = site_id
        self.all_sites = all_sites
        self.alerts = alerts
        self._books: dict[str, AlertBook] = {site_id: alerts}
        self.metrics = metrics
        self.evidence_interval = timedelta(seconds=evidence_interval_s)
        self.auto_resolve = set(auto_resolve)

    def alerts_for(self, site_id: str) -> AlertBook:
        """The alert book of a site: its recipients in alerts.toml, its id on the alert."""
        book = self._books.get(site_id)
        if book is None:
            # Only the configured site's names are known here; another site is named by its id.
            book = self._books[site_id] = self.alerts.for_site(
                SiteInfo(id=site_id, name_zh=site_id, name_en=site_id))
        return book

    # --- where a ticket belongs ---------------------------------------------------------------

    def _site_of_asset(self, db: Session, asset_id: str) -> str:
        """Where a scheduled ticket belongs: its asset's site (a node's, for offline)."""
        if not self.all_sites:
            return self.site_id
        asset = db.get(Tank, asset_id) or db.get(ExtinguisherBay, asset_id) \
            or db.get(SensorNode, asset_id)
        return asset.site_id if asset is not None else self.site_id

    def _squad_for(self, db: Session, asset_id: str) -> tuple[int | None, int | None]:
        asset = db.get(Tank, asset_id) or db.get(ExtinguisherBay, asset_id)
        code = asset.building_code if asset is not None else None
        if not code:
            return None, None
        building = db.scalar(select(Building).where(Building.code == code))
        if building is None:
            return None, None
        return building.id, building.grid.squad_id if building.grid else None

    def _open_ticket(self, db: Session, open_key: str) -> Ticket | None:
        return db.scalar(select(Ticket).where(Ticket.open_key == open_key))

    # --- tickets ----------------------------------------------------------------------------

    def new_ticket(self, db: Session, *, asset_id: str, condition: Condition, title: str,
                   urgent: bool, now: datetime, note: str, open_key: str,
                   site_id: str | None = None, due_key: str | None = None) -> Ticket | None:
        """Insert a maintenance ticket; None if the database says one is already open (a
        racing replica won), in which case the caller treats this as evidence."""
        building_id, squad_id = self._squad_for(db, asset_id)
        # A placeholder until the id is known; unique and short enough for the column (40)
        # whatever the asset id is ("tmp-<open_key>-<time>" overflowed it on PostgreSQL).
        ticket = Ticket(number=f"tmp-{uuid.uuid4().hex}", kind="maintenance",
                        category_code=CATEGORY_OF[condition], title=title[:200],
                        status=Status.NEW.value, priority="urgent" if urgent else "high",
                        site_id=site_id or self.site_id, squad_id=squad_id,
                        building_id=building_id,
                        asset_id=asset_id, condition=condition.value, open_key=open_key,
                        due_key=due_key, created_at=now, updated_at=now)
        try:
            with db.begin_nested():
                db.add(ticket)
                db.flush()
                ticket.number = f"M{ticket.id:06d}"
                record(db, ticket=ticket, action=HistoryAction.RAISED, actor=SENSOR, now=now,
                       note=note)
                db.flush()
        except IntegrityError:
            return None
        self.metrics.inc("servicepoint_tickets_raised_total", condition=condition.value)
        log.info("ticket %s raised: %s on %s", ticket.number, condition.value, asset_id)
        return ticket

    def apply_changes(self, db: Session, changes: Sequence[ConditionChange], *, now: datetime,
                      site_id: str | None = None) -> None:
        """Open, note, resolve: each change of the rules on the asset's ticket."""
        site_id = site_id or self.site_id
        alerts = self.alerts_for(site_id)
        for change in changes:
            ticket = self._open_ticket(db, change.open_key)
            evidence = ", ".join(f"{k}={v}" for k, v in change.evidence.items() if v is not None)
            if change.kind is ChangeKind.RAISED and ticket is None:
                ticket = self.new_ticket(
                    db, asset_id=change.asset_id, condition=change.condition,
                    title=f"{change.title_zh} · {change.asset_id}", urgent=change.urgent,
                    now=now, note=evidence, open_key=change.open_key, site_id=site_id)
                if ticket is not None:
                    alerts.raised(db, ticket=ticket, change=change, now=now)
                    continue
                ticket = self._open_ticket(db, change.open_key)
            if ticket is None:
                continue  # a clear or evidence for a ticket already closed by staff
            if change.kind is ChangeKind.CLEARED:
                record(db, ticket=ticket, action=HistoryAction.CLEARED, actor=SENSOR, now=now,
                       note=f"情况已恢复 / condition cleared. {evidence}".strip(),
                       from_status=ticket.status)
                alerts.cleared(db, ticket=ticket, change=change, now=now)
                if change.condition.value in self.auto_resolve and \
                        ticket.status in OPEN_STATUSES and ticket.status != Status.RESOLVED:
                    apply_action(db, ticket=ticket, action=Action.RESOLVE, actor=SENSOR, now=now,
                                 note="自动解决：情况已恢复 / resolved by itself", staff=True)
            elif now - ticket.updated_at >= self.evidence_interval:
                # Still there: keep the history informative without one line per reading.
                record(db, ticket=ticket, action=HistoryAction.EVIDENCE, actor=SENSOR, now=now,
                       note=evidence, from_status=ticket.status)

    def raise_due(self, db: Session, due: DueCondition, now: datetime) -> int:
        """Open the ticket of a due schedule, once per due date; 1 if it was opened."""
        if db.scalar(select(Ticket.id).where(Ticket.due_key == due.due_key)) is not None:
            return 0  # this due date already has its ticket
        if self._open_ticket(db, due.open_key) is not None:
            return 0
        title = f"{due.title_zh} · {due.asset_id}"
        site_id = self._site_of_asset(db, due.asset_id)
        ticket = self.new_ticket(db, asset_id=due.asset_id, condition=due.condition,
                                 title=title, urgent=False, now=now,
                                 note=f"到期 due {due.due_on}" if due.due_on else "",
                                 open_key=due.open_key, site_id=site_id, due_key=due.due_key)
        if ticket is None:
            return 0
        self.alerts_for(site_id).due(db, ticket=ticket, due=due, now=now)
        return 1


# --- the cleaning log -------------------------------------------------------------------------

def record_cleaning(db: Session, *, asset_id: str, user: User, cleaned_on: date,
                    water_test_passed: bool, turbidity_ntu: float | None, notes: str,
                    now: datetime, timezone: str, commit: bool = True) -> TankCleaning:
    """Log a cleaning and its water test. A passed test restarts the schedule and closes the
    tank's open cleaning ticket; a failed one is logged and keeps the ticket open.
    ``timezone`` is the site's: a cleaning may be dated up to the site's today. With
    ``commit=False`` the caller adds its own rows (the full water test) and commits them
    together."""
    tank = db.get(Tank, asset_id)
    if tank is None:
        raise NotFound(f"no tank {asset_id}")
    if cleaned_on > now.astimezone(ZoneInfo(timezone)).date():
        raise Invalid("cleaned_on: a cleaning cannot be in the future")
    entry = TankCleaning(asset_id=asset_id, cleaned_on=cleaned_on,
                         water_test_passed=water_test_passed, turbidity_ntu=turbidity_ntu,
                         notes=notes, recorded_by=user.id, recorded_at=now)
    db.add(entry)
    if water_test_passed:
        tank.last_cleaned_on = max(filter(None, [tank.last_cleaned_on, cleaned_on]))
        tank.last_passed_test_on = max(filter(None, [tank.last_passed_test_on, cleaned_on]))
    actor = Actor.of(user)
    verdict = "水质检测合格" if water_test_passed else "水质检测不合格"
    for ticket in db.scalars(select(Ticket).where(
            Ticket.asset_id == asset_id,
            Ticket.condition.in_([c.value for c in CLEANING_CONDITIONS]),
            Ticket.status.in_([s.value for s in OPEN_STATUSES]))):
        record(db, ticket=ticket, action=HistoryAction.CLEANING_RECORDED, actor=actor, now=now,
               note=f"{cleaned_on} 清洗消毒，{verdict} / water test "
                    f"{'passed' if water_test_passed else 'failed'}. {notes}".strip(),
               from_status=ticket.status)
        if water_test_passed:
            if ticket.status != Status.RESOLVED:
                apply_action(db, ticket=ticket, action=Action.RESOLVE, actor=actor, now=now,
                             staff=True, note="清洗消毒完成 / cleaned")
            apply_action(db, ticket=ticket, action=Action.CLOSE, actor=actor, now=now,
                         staff=True, note="水质检测合格，关闭 / closed with a passed water test")
    if commit:
        db.commit()
    else:
        db.flush()
    return entry


def check_cleaning_close(db: Session, ticket: Ticket) -> None:
    """A cleaning ticket closes only with a passed water test recorded since it was raised."""
    passed = db.scalar(select(func.count()).select_from(TankCleaning).where(
        TankCleaning.asset_id == ticket.asset_id, TankCleaning.water_test_passed.is_(True),
        TankCleaning.recorded_at >= ticket.created_at))
    if not passed:
        raise IllegalTransition(
            "清洗工单需先记录合格的水质检测 / a cleaning ticket closes only after a passed "
            "water test is recorded", code="water_test_required")


def cleaning_log(db: Session, *, asset_id: str) -> list[TankCleaning]:
    # Another site's tank is not in a scoped session (server/sites/): 404, as for no tank.
    if db.get(Tank, asset_id) is None:
        raise NotFound(f"no tank {asset_id}")
    return list(db.scalars(select(TankCleaning).where(TankCleaning.asset_id == asset_id)
                           .order_by(TankCleaning.cleaned_on.desc(), TankCleaning.id.desc())))


check_before_close(CLEANING_CONDITIONS, check_cleaning_close)
