"""One batch of MQTT messages in one transaction: store, evaluate the rules, raise or clear
tickets, create alerts. Framework-free apart from SQLAlchemy; the MQTT client lives in ingest.

Idempotent on (node, seq): a redelivered reading finds its row already there and changes
nothing, so the broker's at-least-once delivery and replays after a crash are harmless.

One site (the default) or, with ``all_sites``, every site of a district: then the rule state,
the ticket's site and the alert's site follow the site each message comes from, and the
periodic work covers every site in the register.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sensors import contract
from server.alerts import SiteInfo
from server.lifecycle import OPEN_STATUSES, Action, Status
from server.models import Building, Ticket
from server.rules import (
    ChangeKind,
    Condition,
    ConditionChange,
    DueCondition,
    EngineState,
    ExtinguisherBayReading,
    ExtinguisherRecord,
    ExtinguisherType,
    NodeStatus,
    RulesConfig,
    StateError,
    TankReading,
    TankRecord,
    due_conditions,
    evaluate,
    tick,
)
from server.sensing.alerting import AlertBook
from server.sensing.metrics import Metrics
from server.sensing.models import (
    AssetState,
    DeadLetter,
    ExtinguisherBay,
    ReadingRow,
    RuleStateRow,
    SensorNode,
    Tank,
)
from server.services.tickets import Actor, apply_action, record

__all__ = ["Inbound", "Processor", "Rejected"]

log = logging.getLogger(__name__)
SENSOR = Actor("sensor", "传感器")

# Which service category a condition's ticket belongs to, and who does the work.
CATEGORY_OF: dict[Condition, str] = {
    Condition.LOW_LEVEL: "water_supply", Condition.HIGH_LEVEL: "water_supply",
    Condition.OVERFLOW: "water_supply", Condition.TURBIDITY_HIGH: "tank_cleaning",
    Condition.CLEANING_DUE: "tank_cleaning", Condition.MISSING: "fire_safety",
    Condition.PRESSURE_LOW: "fire_safety", Condition.DOOR_OPEN: "fire_safety",
    Condition.INSPECTION_DUE: "fire_safety", Condition.MAINTENANCE_DUE: "fire_safety",
    Condition.SCRAP_DUE: "fire_safety", Condition.OFFLINE: "sensor_node",
}


_Row = TypeVar("_Row")


def _get_or_create(db: Session, model: type[_Row], key: str, make: Callable[[], _Row]) -> _Row:
    """The row with this primary key, made if missing. Two replicas can make the same row at the
    same moment (a node's first readings reach both through the shared subscription): the one
    that loses takes the winner's row, inside a savepoint, so the rest of its batch stands."""
    found = db.get(model, key)
    if found is not None:
        return found
    db.flush()  # the batch's own changes so far stay out of the savepoint
    row = make()
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        found = db.get(model, key, populate_existing=True)
        if found is None:
            raise
        return found
    return row


@dataclass(frozen=True)
class Inbound:
    """A message that passed the contract, as the MQTT callback handed it over."""

    message: contract.Message
    topic: str
    received_at: datetime
    mid: int = 0


@dataclass(frozen=True)
class Rejected:
    """A message that broke the contract: to be counted, dead-lettered and dropped."""

    topic: str
    payload: bytes
    reason: str
    received_at: datetime
    mid: int = 0


def _observation(message: contract.Message) -> TankReading | ExtinguisherBayReading | None:
    if isinstance(message, contract.TankState):
        return TankReading(message.asset_id, at=message.ts, level_percent=message.level_percent,
                           volume_l=message.volume_l, turbidity_ntu=message.turbidity_ntu,
                           overflow_float_up=message.overflow, low_float_down=message.low_level)
    if isinstance(message, contract.TankEvent):
        switch = {"overflow_tripped": ("overflow_float_up", True),
                  "overflow_cleared": ("overflow_float_up", False),
                  "low_level_tripped": ("low_float_down", True),
                  "low_level_cleared": ("low_float_down", False)}[message.event]
        return TankReading(message.asset_id, at=message.ts, level_percent=message.level_percent,
                           **{switch[0]: switch[1]})
    if isinstance(message, contract.ExtinguisherBayState):
        return ExtinguisherBayReading(message.asset_id, at=message.ts, present=message.present,
                                      pressure_ok=message.pressure_ok,
                                      door_open=message.door_open)
    if isinstance(message, contract.ExtinguisherBayEvent):
        field, value = {"extinguisher_removed": ("present", False),
                        "extinguisher_returned": ("present", True),
                        "pressure_low": ("pressure_ok", False),
                        "pressure_ok": ("pressure_ok", True),
                        "door_opened": ("door_open", True),
                        "door_closed": ("door_open", False)}[message.event]
        return ExtinguisherBayReading(message.asset_id, at=message.ts, **{field: value})
    return None


def _payload(message: contract.Reading) -> dict[str, Any]:
    return contract.body_of(message)


class Processor:
    """Holds what a batch needs besides the database: config, alerts, metrics and the clock."""

    def __init__(self, *, site_id: str, rules: RulesConfig, alerts: AlertBook, metrics: Metrics,
                 evidence_interval_s: int, auto_resolve: Sequence[str],
                 node_report_interval_s: float, clock: Callable[[], datetime],
                 all_sites: bool = False) -> None:
        self.site_id = site_id
        self.all_sites = all_sites
        self.rules = rules
        self.alerts = alerts
        self._books: dict[str, AlertBook] = {site_id: alerts}
        self.metrics = metrics
        self.evidence_interval = timedelta(seconds=evidence_interval_s)
        self.auto_resolve = set(auto_resolve)
        self.node_interval = node_report_interval_s
        self.clock = clock

    # --- sites ------------------------------------------------------------------------------

    def _site_of(self, message: contract.Message) -> str:
        return message.site_id if self.all_sites else self.site_id

    def _sites(self, db: Session) -> list[str]:
        """The sites the periodic work covers, in a fixed order (see _load_state)."""
        if not self.all_sites:
            return [self.site_id]
        return sorted(set(db.scalars(select(SensorNode.site_id)))
                      | set(db.scalars(select(RuleStateRow.site_id))))

    def _alerts_for(self, site_id: str) -> AlertBook:
        """The alert book of a site: its recipients in alerts.toml, its id on the alert."""
        book = self._books.get(site_id)
        if book is None:
            # Only the configured site's names are known here; another site is named by its id.
            base = self.alerts
            book = self._books[site_id] = AlertBook(
                config=base.config, site=SiteInfo(id=site_id, name_zh=site_id, name_en=site_id),
                timezone=base.timezone, public_url=base.public_url, metrics=self.metrics)
        return book

    # --- the rule engine's state, one row per site ---------------------------------------

    def _load_state(self, db: Session, site_id: str | None = None
                    ) -> tuple[RuleStateRow, EngineState]:
        # A transaction that needs several sites' rows takes them in sorted order, so two
        # replicas waiting on each other's rows can never deadlock.
        site_id = site_id or self.site_id
        query = select(RuleStateRow).where(RuleStateRow.site_id == site_id)
        if db.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()  # replicas take turns on the rules
        row = db.scalar(query)
        if row is None:
            row = RuleStateRow(site_id=site_id, state={}, updated_at=self.clock())
            try:
                # A savepoint, not a rollback of the whole transaction: the batch's readings
                # are already flushed in it and must be committed with the rule state.
                with db.begin_nested():
                    db.add(row)
                    db.flush()
            except IntegrityError:  # another replica made it first: take its row
                return self._load_state(db, site_id)
            return row, EngineState()
        try:
            return row, EngineState.from_json(row.state)
        except StateError:
            log.exception("rule state unreadable; starting afresh")
            return row, EngineState()

    # --- a batch ----------------------------------------------------------------------------

    def process(self, db: Session, items: Sequence[Inbound | Rejected]) -> int:
        """Store and evaluate a batch in one transaction; return how many readings were new."""
        now = self.clock()
        inbound = [i for i in items if isinstance(i, Inbound)]
        for item in items:
            if isinstance(item, Rejected):
                self._dead_letter(db, item)
        known_assets = self._known_assets(db)
        fresh: list[Inbound] = []
        seen = self._seen(db, inbound)
        for item in inbound:
            message = item.message
            if isinstance(message, contract.Availability):
                fresh.append(item)
                continue
            key = (message.node_id, message.seq)
            if key in seen:
                self.metrics.inc("servicepoint_mqtt_messages_duplicate_total")
                continue
            asset_id = getattr(message, "asset_id", None)
            if asset_id is not None and asset_id not in known_assets:
                self._dead_letter(db, Rejected(item.topic, contract.encode(message),
                                               f"unknown asset {asset_id}", item.received_at))
                seen.add(key)
                continue
            seen.add(key)
            fresh.append(item)
        self._store(db, fresh)
        sites = sorted({self._site_of(i.message) for i in fresh} | (
            set() if self.all_sites else {self.site_id}))
        states = {site: self._load_state(db, site) for site in sites}
        for item in fresh:
            site = self._site_of(item.message)
            row, state = states[site]
            states[site] = (row, self._evaluate(db, state, item, now, site))
        for row, state in states.values():
            row.state, row.updated_at = state.to_json(), now
        db.commit()
        self.metrics.inc("servicepoint_ingest_batches_total")
        stored = sum(1 for i in fresh if not isinstance(i.message, contract.Availability))
        self.metrics.inc("servicepoint_mqtt_messages_stored_total", stored)
        return stored

    def _dead_letter(self, db: Session, item: Rejected) -> None:
        preview = item.payload[:512].decode("utf-8", errors="replace")
        log.warning("dropped MQTT message on %s (%s): %r", item.topic[:200], item.reason,
                    preview[:120])
        reason = item.reason.split(":")[0][:60]
        self.metrics.inc("servicepoint_mqtt_messages_rejected_total", reason=reason)
        db.add(DeadLetter(received_at=item.received_at, topic=item.topic[:300], payload=preview,
                          size=len(item.payload), reason=item.reason[:300]))

    def _known_assets(self, db: Session) -> set[str]:
        return set(db.scalars(select(Tank.asset_id))) | set(
            db.scalars(select(ExtinguisherBay.asset_id)))

    def _seen(self, db: Session, items: Sequence[Inbound]) -> set[tuple[str, int]]:
        keys = [(i.message.node_id, i.message.seq) for i in items
                if not isinstance(i.message, contract.Availability)]
        found: set[tuple[str, int]] = set()  # (node_id, seq)
        for start in range(0, len(keys), 400):
            chunk = keys[start:start + 400]
            rows = db.execute(select(ReadingRow.node_id, ReadingRow.seq).where(
                tuple_(ReadingRow.node_id, ReadingRow.seq).in_(chunk)))
            found.update((node, seq) for node, seq in rows)
        return found

    def _node(self, db: Session, site_id: str, node_id: str) -> SensorNode:
        return _get_or_create(db, SensorNode, node_id, lambda: SensorNode(
            node_id=node_id, site_id=site_id, report_interval_s=self.node_interval, last_seq=0))

    def _store(self, db: Session, items: Sequence[Inbound]) -> None:
        rows: list[dict[str, Any]] = []
        # Each node and asset row is looked up once per batch and held here: the session keeps
        # only weak references to clean rows, so a second lookup would mean another SELECT (and
        # an autoflush with an UPDATE) for every reading of a burst.
        nodes: dict[str, SensorNode] = {}
        latest: dict[str, AssetState] = {}
        with db.no_autoflush:
            for item in items:
                message = item.message
                node = nodes.get(message.node_id)
                if node is None:
                    node = nodes[message.node_id] = self._node(db, message.site_id,
                                                               message.node_id)
                if isinstance(message, contract.Availability):
                    node.online, node.availability_at = message.online, item.received_at
                    continue
                payload = _payload(message)
                asset_id = getattr(message, "asset_id", None)
                rows.append(dict(
                    site_id=message.site_id, node_id=message.node_id, seq=message.seq,
                    asset_id=asset_id, kind=payload["kind"], ts=message.ts,
                    received_at=item.received_at,
                    level_percent=getattr(message, "level_percent", None),
                    turbidity_ntu=getattr(message, "turbidity_ntu", None), payload=payload))
                node.last_seq = max(node.last_seq or 0, message.seq)
                if node.last_state_at is None or message.ts > node.last_state_at:
                    node.last_state_at = message.ts
                if isinstance(message, contract.NodeHealth):
                    node.uptime_s, node.cpu_temp_c = message.uptime_s, message.cpu_temp_c
                    node.outbox_depth = message.outbox_depth
                if isinstance(message, contract.TankState | contract.ExtinguisherBayState):
                    state = latest.get(message.asset_id)
                    if state is None:
                        state = latest[message.asset_id] = _get_or_create(
                            db, AssetState, message.asset_id,
                            lambda m=message, p=payload: AssetState(  # type: ignore[misc]
                                asset_id=m.asset_id, node_id=m.node_id, kind=p["kind"],
                                ts=m.ts, seq=m.seq, payload=p))
                    if message.ts >= state.ts:
                        state.node_id, state.kind, state.ts = message.node_id, payload["kind"], \
                            message.ts
                        state.seq, state.payload = message.seq, payload
        db.flush()
        if rows:  # one executemany on the table: no ORM object, nor ORM bulk work, per reading
            db.execute(insert(ReadingRow.__table__), rows)

    def _evaluate(self, db: Session, state: EngineState, item: Inbound, now: datetime,
                  site_id: str) -> EngineState:
        message = item.message
        observation: TankReading | ExtinguisherBayReading | NodeStatus | None
        if isinstance(message, contract.Availability):
            node = db.get(SensorNode, message.node_id)
            observation = NodeStatus(message.node_id, online=message.online,
                                     availability_at=item.received_at,
                                     last_state_at=node.last_state_at if node else None,
                                     report_interval_s=self.node_interval)
        else:
            observation = _observation(message)
        if observation is None:
            return state
        state, changes = evaluate(state, observation, now=now, config=self.rules)
        self.apply_changes(db, changes, now=now, site_id=site_id)
        return state

    # --- periodic work ----------------------------------------------------------------------

    def tick(self, db: Session) -> None:
        """Fire pending raises and clears, and notice nodes that went silent."""
        now = self.clock()
        for site_id in self._sites(db):  # one transaction per site: one row lock at a time
            row, state = self._load_state(db, site_id)
            for node in db.scalars(select(SensorNode).where(SensorNode.site_id == site_id)):
                state, changes = evaluate(state, NodeStatus(
                    node.node_id, online=node.online, availability_at=node.availability_at,
                    last_state_at=node.last_state_at, report_interval_s=node.report_interval_s),
                    now=now, config=self.rules)
                self.apply_changes(db, changes, now=now, site_id=site_id)
            state, changes = tick(state, now=now, config=self.rules)
            self.apply_changes(db, changes, now=now, site_id=site_id)
            row.state, row.updated_at = state.to_json(), now
            db.commit()

    def run_schedules(self, db: Session) -> int:
        """Raise cleaning, inspection, maintenance and scrap tickets that are due (once each)."""
        now = self.clock()
        tanks = [TankRecord(t.asset_id, last_cleaned_on=t.last_cleaned_on,
                            last_passed_test_on=t.last_passed_test_on,
                            cleaning_interval_days=t.cleaning_interval_days)
                 for t in db.scalars(self._of_site(select(Tank), Tank.site_id))]
        bays = [ExtinguisherRecord(b.asset_id, type=ExtinguisherType(b.extinguisher_type),
                                   manufactured_on=b.manufactured_on,
                                   last_maintained_on=b.last_maintained_on,
                                   last_inspected_on=b.last_inspected_on)
                for b in db.scalars(self._of_site(select(ExtinguisherBay),
                                                  ExtinguisherBay.site_id))]
        raised = 0
        for due in due_conditions(tanks=tanks, extinguishers=bays, now=now, config=self.rules):
            raised += self._raise_due(db, due, now)
        db.commit()
        return raised

    def _of_site(self, query: Any, column: Any) -> Any:
        return query if self.all_sites else query.where(column == self.site_id)

    def prune(self, db: Session, *, retention_days: int) -> int:
        cutoff = self.clock() - timedelta(days=retention_days)
        result = db.execute(delete(ReadingRow).where(ReadingRow.ts < cutoff))
        db.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    # --- conditions become tickets ------------------------------------------------------------

    def _site_of_asset(self, db: Session, asset_id: str, fallback: str) -> str:
        """Where a scheduled ticket belongs: its asset's site (a node's, for offline)."""
        if not self.all_sites:
            return self.site_id
        asset = db.get(Tank, asset_id) or db.get(ExtinguisherBay, asset_id) \
            or db.get(SensorNode, asset_id)
        return asset.site_id if asset is not None else fallback

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

    def _new_ticket(self, db: Session, *, asset_id: str, condition: Condition, title: str,
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
                record(db, ticket=ticket, action="raise", actor=SENSOR, now=now, note=note)
                db.flush()
        except IntegrityError:
            return None
        self.metrics.inc("servicepoint_tickets_raised_total", condition=condition.value)
        log.info("ticket %s raised: %s on %s", ticket.number, condition.value, asset_id)
        return ticket

    def apply_changes(self, db: Session, changes: Sequence[ConditionChange], *, now: datetime,
                      site_id: str | None = None) -> None:
        site_id = site_id or self.site_id
        alerts = self._alerts_for(site_id)
        for change in changes:
            ticket = self._open_ticket(db, change.open_key)
            evidence = ", ".join(f"{k}={v}" for k, v in change.evidence.items() if v is not None)
            if change.kind is ChangeKind.RAISED and ticket is None:
                ticket = self._new_ticket(
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
                record(db, ticket=ticket, action="condition_cleared", actor=SENSOR, now=now,
                       note=f"情况已恢复 / condition cleared. {evidence}".strip(),
                       from_status=ticket.status)
                alerts.cleared(db, ticket=ticket, change=change, now=now)
                if change.condition.value in self.auto_resolve and \
                        ticket.status in OPEN_STATUSES and ticket.status != Status.RESOLVED:
                    apply_action(db, ticket=ticket, action=Action.RESOLVE, actor=SENSOR, now=now,
                                 note="自动解决：情况已恢复 / resolved by itself", staff=True)
            elif now - ticket.updated_at >= self.evidence_interval:
                # Still there: keep the history informative without one line per reading.
                record(db, ticket=ticket, action="evidence", actor=SENSOR, now=now,
                       note=evidence, from_status=ticket.status)

    def _raise_due(self, db: Session, due: DueCondition, now: datetime) -> int:
        if db.scalar(select(Ticket.id).where(Ticket.due_key == due.due_key)) is not None:
            return 0  # this due date already has its ticket
        open_key = f"{due.asset_id}|{due.condition}"
        if self._open_ticket(db, open_key) is not None:
            return 0
        title = f"{due.title_zh} · {due.asset_id}"
        site_id = self._site_of_asset(db, due.asset_id, self.site_id)
        ticket = self._new_ticket(db, asset_id=due.asset_id, condition=due.condition,
                                  title=title, urgent=False, now=now,
                                  note=f"到期 due {due.due_on}" if due.due_on else "",
                                  open_key=open_key, site_id=site_id, due_key=due.due_key)
        if ticket is None:
            return 0
        self._alerts_for(site_id).due(db, ticket=ticket, due=due, now=now)
        return 1
