"""What staff pages, the API and the kiosk's staff mode read and do on the sensor side:
site overview, tank history, the cleaning log, the extinguisher register, alerts, dead letters.
All functions take keyword-only arguments and a session; none commits unless it changes data.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.errors import Invalid, NotFound
from server.lifecycle import OPEN_STATUSES, Action
from server.models import Ticket, User
from server.rules import (
    ExtinguisherRecord,
    ExtinguisherType,
    RulesConfig,
    TankRecord,
    cleaning_due_on,
    inspection_due_on,
    maintenance_due_on,
    scrap_on,
)
from server.sensing.models import (
    Alert,
    AssetState,
    DeadLetter,
    ExtinguisherBay,
    ReadingRow,
    SensorNode,
    Tank,
    TankCleaning,
)
from server.services.tickets import Actor, apply_action, record

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

CLEANING_CONDITIONS = ("cleaning_due", "turbidity_high")


def _open_conditions(db: Session) -> dict[str, list[str]]:
    rows = db.execute(select(Ticket.asset_id, Ticket.condition).where(
        Ticket.asset_id.is_not(None), Ticket.status.in_([s.value for s in OPEN_STATUSES])))
    found: dict[str, list[str]] = {}
    for asset_id, condition in rows:
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


def site_overview(db: Session, *, now: datetime, rules: RulesConfig | None = None
                  ) -> dict[str, Any]:
    """Tanks, extinguisher bays, sensor nodes and open alerts, as /api/v1/site/status shows."""
    rules = rules or RulesConfig()
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
    for bay in db.scalars(select(ExtinguisherBay).order_by(ExtinguisherBay.asset_id)):
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
        select(Alert).where(Alert.acknowledged_at.is_(None), Alert.kind != "cleared")
        .order_by(Alert.id.desc()).limit(50))]
    return {"tanks": tanks, "extinguisher_bays": bays, "nodes": nodes, "alerts": alerts}


def _alert_view(alert: Alert) -> dict[str, Any]:
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


def record_cleaning(db: Session, *, asset_id: str, user: User, cleaned_on: date,
                    water_test_passed: bool, turbidity_ntu: float | None, notes: str,
                    now: datetime, timezone: str = "Asia/Shanghai") -> TankCleaning:
    """Log a cleaning and its water test. A passed test restarts the schedule and closes the
    tank's open cleaning ticket; a failed one is logged and keeps the ticket open."""
    tank = db.get(Tank, asset_id)
    if tank is None:
        raise NotFound(f"no tank {asset_id}")
    if cleaned_on > now.astimezone(ZoneInfo(timezone)).date():  # the site's today, not UTC's
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
            Ticket.asset_id == asset_id, Ticket.condition.in_(CLEANING_CONDITIONS),
            Ticket.status.in_([s.value for s in OPEN_STATUSES]))):
        record(db, ticket=ticket, action="cleaning_recorded", actor=actor, now=now,
               note=f"{cleaned_on} 清洗消毒，{verdict} / water test "
                    f"{'passed' if water_test_passed else 'failed'}. {notes}".strip(),
               from_status=ticket.status)
        if water_test_passed:
            if ticket.status != "resolved":
                apply_action(db, ticket=ticket, action=Action.RESOLVE, actor=actor, now=now,
                             staff=True, note="清洗消毒完成 / cleaned")
            apply_action(db, ticket=ticket, action=Action.CLOSE, actor=actor, now=now,
                         staff=True, note="水质检测合格，关闭 / closed with a passed water test")
    db.commit()
    return entry


def check_cleaning_close(db: Session, *, ticket: Ticket) -> None:
    """A cleaning ticket closes only with a passed water test recorded since it was raised."""
    passed = db.scalar(select(func.count()).select_from(TankCleaning).where(
        TankCleaning.asset_id == ticket.asset_id, TankCleaning.water_test_passed.is_(True),
        TankCleaning.recorded_at >= ticket.created_at))
    if not passed:
        from server.errors import IllegalTransition

        raise IllegalTransition(
            "清洗工单需先记录合格的水质检测 / a cleaning ticket closes only after a passed "
            "water test is recorded", code="water_test_required")


def cleaning_log(db: Session, *, asset_id: str) -> list[TankCleaning]:
    return list(db.scalars(select(TankCleaning).where(TankCleaning.asset_id == asset_id)
                           .order_by(TankCleaning.cleaned_on.desc(), TankCleaning.id.desc())))


def extinguisher_register(db: Session, *, now: datetime, rules: RulesConfig | None = None
                          ) -> list[dict[str, Any]]:
    rules = rules or RulesConfig()
    conditions = _open_conditions(db)
    latest = {s.asset_id: s.payload for s in db.scalars(select(AssetState))}
    register = []
    for bay in db.scalars(select(ExtinguisherBay).order_by(ExtinguisherBay.asset_id)):
        record_ = _bay_record(bay)
        inspection = inspection_due_on(record_, rules)
        state = latest.get(bay.asset_id, {})
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
            "conditions": sorted(conditions.get(bay.asset_id, [])),
        })
    return register


def alerts_since(db: Session, *, after_id: int = 0, limit: int = 50) -> list[dict[str, Any]]:
    """Alerts newer than ``after_id``, oldest first: the dashboard's live feed."""
    rows = db.scalars(select(Alert).where(Alert.id > after_id).order_by(Alert.id).limit(limit))
    return [_alert_view(a) for a in rows]


def latest_alert_id(db: Session) -> int:
    """The newest alert's id (0 when there is none): where a live feed starts."""
    return int(db.scalar(select(func.max(Alert.id))) or 0)


def acknowledge_alert(db: Session, *, alert_id: int, user: User, now: datetime) -> Alert:
    """Acknowledge an alert (and the rest of its ticket's): stops the escalation."""
    alert = db.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    for row in db.scalars(select(Alert).where(Alert.ticket_id == alert.ticket_id,
                                              Alert.acknowledged_at.is_(None))):
        row.acknowledged_at, row.acknowledged_by = now, user.id
    record(db, ticket=alert.ticket, action="acknowledge", actor=Actor.of(user), now=now,
           note="告警已确认 / alert acknowledged", from_status=alert.ticket.status)
    db.commit()
    return alert


def dead_letters(db: Session, *, limit: int = 100) -> list[DeadLetter]:
    return list(db.scalars(select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)))
