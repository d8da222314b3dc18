"""What staff pages, the API and the kiosk's staff mode read and do on the sensor side:
site overview, tank history, the cleaning log, the extinguisher register, alerts, dead letters.
All functions take keyword-only arguments and a session; none commits unless it changes data.

The cleaning log's functions are the maintenance station's (:mod:`server.sensing.maintenance`),
offered here with the rest; importing this module installs its rule for closing a cleaning
ticket.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from server.alerts import AlertKind
from server.alerts.rows import AlertRow
from server.errors import NotFound
from server.lifecycle import OPEN_STATUSES, HistoryAction
from server.models import Ticket, TicketEvent, User
from server.rules import (
    ExtinguisherRecord,
    ExtinguisherType,
    RulesConfig,
    RulesError,
    TankRecord,
    cleaning_due_on,
    inspection_due_on,
    maintenance_due_on,
    scrap_on,
)
from server.sensing.maintenance import cleaning_log, record_cleaning
from server.sensing.models import (
    AssetState,
    DeadLetter,
    ExtinguisherBay,
    ReadingRow,
    SensorNode,
    Tank,
)
from server.sites.scoping import scope_of
from server.ticketing import Actor, record

__all__ = [
    "acknowledge_alert",
    "alerts_since",
    "latest_alert_id",
    "cleaning_log",
    "dead_letters",
    "extinguisher_register",
    "record_cleaning",
    "site_overview",
    "tank_history",
]

# The book also keeps request notices (to squads and people); the dashboard, the feed and the
# kiosk's staff screen show the staff alerts about conditions only.
_SENSOR_ALERTS = [kind.value for kind in AlertKind]


def _open_conditions(db: Session) -> dict[str, list[str]]:
    """The conditions present now, by asset: those of open tickets whose condition has not
    cleared since it was raised.

    A ticket's state is not the condition's: a ticket resolved by itself (``auto_resolve``)
    stays open until staff close it, and one staff resolved may still see its condition
    present. The newest raise/clear row of each ticket's history says which is true now, so
    the register never shows an extinguisher "in place" and "missing" at once.
    """
    tickets = db.execute(select(Ticket.id, Ticket.asset_id, Ticket.condition).where(
        Ticket.asset_id.is_not(None),
        Ticket.status.in_([s.value for s in OPEN_STATUSES]))).all()
    if not tickets:
        return {}
    latest = (select(TicketEvent.ticket_id, func.max(TicketEvent.id).label("last"))
              .where(TicketEvent.ticket_id.in_([t.id for t in tickets]),
                     TicketEvent.action.in_([HistoryAction.RAISED.value,
                                             HistoryAction.CLEARED.value]))
              .group_by(TicketEvent.ticket_id).subquery())
    cleared = set(db.scalars(
        select(TicketEvent.ticket_id).join(latest, TicketEvent.id == latest.c.last)
        .where(TicketEvent.action == HistoryAction.CLEARED.value)))
    found: dict[str, list[str]] = {}
    for ticket_id, asset_id, condition in tickets:
        # A ticket with no condition (a failed inspection) is shown by the equipment pages.
        if condition and ticket_id not in cleared:
            found.setdefault(asset_id, []).append(condition)
    return found


def _tank_record(tank: Tank) -> TankRecord:
    return TankRecord(tank.asset_id, last_cleaned_on=tank.last_cleaned_on,
                      last_passed_test_on=tank.last_passed_test_on,
                      cleaning_interval_days=tank.cleaning_interval_days)


def _bay_record(bay: ExtinguisherBay) -> ExtinguisherRecord:
    return ExtinguisherRecord(bay.asset_id, type=ExtinguisherType(bay.extinguisher_type),
                              manufactured_on=bay.manufactured_on,
                              last_maintained_on=bay.last_maintained_on,
                              last_inspected_on=bay.last_inspected_on)


def site_overview(db: Session, *, now: datetime, rules: RulesConfig) -> dict[str, Any]:
    """Tanks, extinguisher bays, sensor nodes and open alerts, as /api/v1/site/status shows."""
    conditions = _open_conditions(db)
    latest = {s.asset_id: s for s in db.scalars(select(AssetState))}
    tanks = []
    for tank in db.scalars(select(Tank).order_by(Tank.asset_id)):
        state = latest.get(tank.asset_id)
        p = state.payload if state else {}
        due = cleaning_due_on(_tank_record(tank), rules)
        tanks.append({
            "asset_id": tank.asset_id, "name": tank.name,
            "level_percent": p.get("level_percent"), "volume_l": p.get("volume_l"),
            "turbidity_ntu": p.get("turbidity_ntu"), "overflow": p.get("overflow"),
            "low_level": p.get("low_level"),
            "updated_at": state.ts.isoformat() if state else None,
            "cleaning_due": due.isoformat() if due else None,
            "last_cleaned_on": tank.last_cleaned_on.isoformat() if tank.last_cleaned_on else None,
            "conditions": sorted(conditions.get(tank.asset_id, [])),
        })
    bays = []
    for bay in db.scalars(select(ExtinguisherBay).where(ExtinguisherBay.retired_on.is_(None))
                          .order_by(ExtinguisherBay.asset_id)):
        state = latest.get(bay.asset_id)
        p = state.payload if state else {}
        bays.append({
            "asset_id": bay.asset_id, "name": bay.name, "present": p.get("present"),
            "pressure_ok": p.get("pressure_ok"), "door_open": p.get("door_open"),
            "updated_at": state.ts.isoformat() if state else None,
            "conditions": sorted(conditions.get(bay.asset_id, [])),
        })
    nodes = [{"node_id": n.node_id, "online": n.online,
              "last_state_at": n.last_state_at.isoformat() if n.last_state_at else None,
              "outbox_depth": n.outbox_depth, "cpu_temp_c": n.cpu_temp_c,
              "conditions": sorted(conditions.get(n.node_id, []))}
             for n in db.scalars(select(SensorNode).order_by(SensorNode.node_id))]
    alerts = [_alert_view(a) for a in db.scalars(
        select(AlertRow).where(AlertRow.acknowledged_at.is_(None), AlertRow.kind != "cleared",
                               AlertRow.kind.in_(_SENSOR_ALERTS))
        .order_by(AlertRow.id.desc()).limit(50))]
    return {"tanks": tanks, "extinguisher_bays": bays, "nodes": nodes, "alerts": alerts}


def _alert_view(alert: AlertRow) -> dict[str, Any]:
    return {"id": alert.id, "ticket_id": alert.ticket_id, "kind": alert.kind,
            "level": alert.level, "title": alert.title, "urgent": alert.urgent,
            "asset_id": alert.asset_id, "condition": alert.condition,
            "created_at": alert.created_at.isoformat(),
            "acknowledged": alert.acknowledged_at is not None}


def tank_history(db: Session, *, asset_id: str, since: datetime, until: datetime,
                 max_points: int = 500) -> list[tuple[datetime, float]]:
    """Tank level over time for a chart, thinned evenly to at most ``max_points``."""
    if db.get(Tank, asset_id) is None:
        raise NotFound(f"no tank {asset_id}")
    rows = db.execute(select(ReadingRow.ts, ReadingRow.level_percent).where(
        ReadingRow.asset_id == asset_id, ReadingRow.kind == "tank_state",
        ReadingRow.level_percent.is_not(None), ReadingRow.ts >= since, ReadingRow.ts <= until)
        .order_by(ReadingRow.ts)).all()
    step = max(1, len(rows) // max_points)
    return [(ts, float(level)) for ts, level in rows[::step]]


def extinguisher_register(db: Session, *, now: datetime, rules: RulesConfig
                          ) -> list[dict[str, Any]]:
    conditions = _open_conditions(db)
    latest = {s.asset_id: s.payload for s in db.scalars(select(AssetState))}
    register = []
    for bay in db.scalars(select(ExtinguisherBay).where(ExtinguisherBay.retired_on.is_(None))
                          .order_by(ExtinguisherBay.asset_id)):
        state = latest.get(bay.asset_id, {})
        try:
            record_ = _bay_record(bay)
        except (RulesError, ValueError) as exc:
            # An impossible row (saved before the API refused them, or typed into the database)
            # is shown flagged, with no due dates, rather than failing the whole register.
            register.append(_flagged_bay(bay, state, conditions, problem=str(exc)))
            continue
        inspection = inspection_due_on(record_, rules)
        register.append({
            "asset_id": bay.asset_id, "name": bay.name, "type": bay.extinguisher_type,
            "building": bay.building_code,
            "manufactured_on": bay.manufactured_on.isoformat(),
            "last_maintained_on": (bay.last_maintained_on.isoformat()
                                   if bay.last_maintained_on else None),
            "last_inspected_on": (bay.last_inspected_on.isoformat()
                                  if bay.last_inspected_on else None),
            "inspection_due": inspection.isoformat() if inspection else None,
            "maintenance_due": maintenance_due_on(record_, rules).isoformat(),
            "scrap_on": scrap_on(record_, rules).isoformat(),
            "present": state.get("present"), "pressure_ok": state.get("pressure_ok"),
            "door_open": state.get("door_open"),
            "conditions": sorted(conditions.get(bay.asset_id, [])), "flag": None,
        })
    return register


def _flagged_bay(bay: ExtinguisherBay, state: dict[str, Any],
                 conditions: dict[str, list[str]], *, problem: str) -> dict[str, Any]:
    def day(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {"asset_id": bay.asset_id, "name": bay.name, "type": bay.extinguisher_type,
            "building": bay.building_code, "manufactured_on": day(bay.manufactured_on),
            "last_maintained_on": day(bay.last_maintained_on),
            "last_inspected_on": day(bay.last_inspected_on), "inspection_due": None,
            "maintenance_due": None, "scrap_on": None, "present": state.get("present"),
            "pressure_ok": state.get("pressure_ok"), "door_open": state.get("door_open"),
            "conditions": sorted(conditions.get(bay.asset_id, [])), "flag": problem}


def alerts_since(db: Session, *, after_id: int = 0, limit: int = 50) -> list[dict[str, Any]]:
    """Alerts newer than ``after_id``, oldest first: the dashboard's live feed."""
    rows = db.scalars(select(AlertRow).where(AlertRow.id > after_id,
                                             AlertRow.kind.in_(_SENSOR_ALERTS))
                      .order_by(AlertRow.id).limit(limit))
    return [_alert_view(a) for a in rows]


def latest_alert_id(db: Session) -> int:
    """The newest alert's id (0 when there is none): where a live feed starts."""
    return int(db.scalar(select(func.max(AlertRow.id))) or 0)


def acknowledge_alert(db: Session, *, alert_id: int, user: User, now: datetime) -> AlertRow:
    """Acknowledge an alert (and the rest of its ticket's): stops the escalation."""
    alert = db.get(AlertRow, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    for row in db.scalars(select(AlertRow).where(AlertRow.ticket_id == alert.ticket_id,
                                                 AlertRow.acknowledged_at.is_(None))):
        row.acknowledged_at, row.acknowledged_by = now, user.id
    record(db, ticket=alert.ticket, action=HistoryAction.ACKNOWLEDGED, actor=Actor.of(user),
           now=now,
           note="告警已确认 / alert acknowledged", from_status=alert.ticket.status)
    db.commit()
    return alert


def dead_letters(db: Session, *, limit: int = 100) -> list[DeadLetter]:
    query = select(DeadLetter)
    scope = scope_of(db)
    if scope is not None and scope.sites is not None:
        # A dead letter keeps no site of its own, only its topic (<prefix>/<site>/…): a site's
        # staff see those of their site's topics (server/sites/).
        query = query.where(or_(false(), *(DeadLetter.topic.like(f"%/{site}/%")
                                           for site in sorted(scope.sites))))
    return list(db.scalars(query.order_by(DeadLetter.id.desc()).limit(limit)))
