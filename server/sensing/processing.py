"""One batch of MQTT messages in one transaction, through the stations in order:

1. :mod:`server.sensing.readings` stores the readings (each (node, epoch, seq) once) and
   dead-letters what cannot be used (broken, unknown, another node's asset, dated ahead);
2. :mod:`server.sensing.rule_state` tells the pure rules (:mod:`server.rules`) what each message
   says, with their state per site;
3. :mod:`server.sensing.maintenance` turns the conditions they raise or clear into maintenance
   tickets, each with an alert in the book (:mod:`server.alerts.outbox`).

Framework-free apart from SQLAlchemy; the MQTT client lives in ingest. Idempotent on
(node, epoch, seq): a redelivered reading finds its row already there and changes nothing, so the
broker's at-least-once delivery and replays after a crash are harmless.

One site (the default) or, with ``all_sites``, every site of a district: then the rule state,
the ticket's site and the alert's site follow the site each message comes from, and the
periodic work covers every site in the register.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from foundation.errors import ConfigError
from sensors import contract
from server.alerts.outbox import AlertBook
from server.rules import (
    EngineState,
    ExtinguisherBayReading,
    ExtinguisherRecord,
    ExtinguisherType,
    NodeStatus,
    RulesConfig,
    TankReading,
    TankRecord,
    due_conditions,
    evaluate,
    tick,
)
from server.sensing.maintenance import MaintenanceDesk
from server.sensing.metrics import Metrics
from server.sensing.models import TANK_LEVELS, ExtinguisherBay, SensorNode, Tank
from server.sensing.readings import Inbound, ReadingStore, Rejected
from server.sensing.rule_state import RuleStates, observation_of

__all__ = ["Inbound", "Processor", "Rejected"]

log = logging.getLogger(__name__)


class Processor:
    """Holds the stations and what a batch needs besides the database: config and the clock."""

    def __init__(self, *, site_id: str, rules: RulesConfig, alerts: AlertBook, metrics: Metrics,
                 evidence_interval_s: int, auto_resolve: Sequence[str],
                 node_report_interval_s: float, clock: Callable[[], datetime],
                 all_sites: bool = False, future_skew_s: float = 300.0) -> None:
        self.site_id = site_id
        self.all_sites = all_sites
        self.rules = rules
        # The register's level lines last read, and the rules made of them (see _rules).
        self._levels_read: tuple[tuple[Any, ...], ...] = ()
        self._levels_rules = rules
        self.metrics = metrics
        self.node_interval = node_report_interval_s
        self.clock = clock
        self.readings = ReadingStore(metrics=metrics, node_report_interval_s=node_report_interval_s,
                                     future_skew_s=future_skew_s)
        self.states = RuleStates(site_id=site_id, all_sites=all_sites, clock=clock)
        self.maintenance = MaintenanceDesk(
            site_id=site_id, alerts=alerts, metrics=metrics,
            evidence_interval_s=evidence_interval_s, auto_resolve=auto_resolve,
            all_sites=all_sites)

    def _rules(self, db: Session) -> RulesConfig:
        """The file's rules with each tank's level alarm lines as staff set them in the register
        (read once a batch: a change on the tank's page holds from the next batch). A set that
        no longer fits the file's other lines is logged and the file's lines kept. The lines
        are checked only when they change, not on every batch."""
        columns = [getattr(Tank, name) for name in TANK_LEVELS]
        rows = tuple(tuple(row) for row in db.execute(
            select(Tank.asset_id, *columns).where(or_(*(c.is_not(None) for c in columns)))
            .order_by(Tank.asset_id)))
        if rows == self._levels_read:
            return self._levels_rules
        rules = self.rules
        for asset_id, *values in rows:
            patch = {n: v for n, v in zip(TANK_LEVELS, values, strict=True) if v is not None}
            try:
                rules = rules.with_tank_levels({asset_id: patch})
            except ConfigError as exc:
                log.error("tank %s: the level lines set in the register are ignored: %s",
                          asset_id, exc)
        self._levels_read, self._levels_rules = rows, rules
        return rules

    def _site_of(self, message: contract.Message) -> str:
        return message.site_id if self.all_sites else self.site_id

    # --- a batch ----------------------------------------------------------------------------

    def process(self, db: Session, items: Sequence[Inbound | Rejected]) -> int:
        """Store and evaluate a batch in one transaction; return how many readings were new."""
        now = self.clock()
        fresh = self.readings.sort(db, items, now)
        self.readings.store(db, fresh)
        sites = sorted({self._site_of(i.message) for i in fresh} | (
            set() if self.all_sites else {self.site_id}))
        states = {site: self.states.load(db, site) for site in sites}
        rules = self._rules(db)
        for item in fresh:
            site = self._site_of(item.message)
            row, state = states[site]
            states[site] = (row, self._evaluate(db, state, item, now, site, rules))
        for row, state in states.values():
            self.states.save(row, state, now)
        db.commit()
        self.metrics.inc("servicepoint_ingest_batches_total")
        committed = self.clock()
        # Ingest lag: each reading's own time (the node's stamp) to the commit that stored it.
        self.metrics.observe_many("servicepoint_ingest_lag_seconds", (
            (committed - i.message.ts).total_seconds() for i in fresh
            if not isinstance(i.message, contract.Availability)))
        stored = sum(1 for i in fresh if not isinstance(i.message, contract.Availability))
        self.metrics.inc("servicepoint_mqtt_messages_stored_total", stored)
        return stored

    def _evaluate(self, db: Session, state: EngineState, item: Inbound, now: datetime,
                  site_id: str, rules: RulesConfig) -> EngineState:
        message = item.message
        observation: TankReading | ExtinguisherBayReading | NodeStatus | None
        if isinstance(message, contract.Availability):
            node = db.get(SensorNode, message.node_id)
            observation = NodeStatus(message.node_id, online=message.online,
                                     availability_at=item.received_at,
                                     last_state_at=node.last_state_at if node else None,
                                     report_interval_s=self.node_interval)
        else:
            observation = observation_of(message)
        if observation is None:
            return state
        state, changes = evaluate(state, observation, now=now, config=rules)
        self.maintenance.apply_changes(db, changes, now=now, site_id=site_id)
        return state

    # --- periodic work ----------------------------------------------------------------------

    def tick(self, db: Session) -> None:
        """Fire pending raises and clears, and notice nodes that went silent."""
        now = self.clock()
        rules = self._rules(db)
        for site_id in self.states.sites(db):  # one transaction per site: one row lock at a time
            row, state = self.states.load(db, site_id)
            for node in db.scalars(select(SensorNode).where(SensorNode.site_id == site_id)):
                state, changes = evaluate(state, NodeStatus(
                    node.node_id, online=node.online, availability_at=node.availability_at,
                    last_state_at=node.last_state_at, report_interval_s=node.report_interval_s),
                    now=now, config=rules)
                self.maintenance.apply_changes(db, changes, now=now, site_id=site_id)
            state, changes = tick(state, now=now, config=rules)
            self.maintenance.apply_changes(db, changes, now=now, site_id=site_id)
            self.states.save(row, state, now)
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
                                                  ExtinguisherBay.site_id)
                                    .where(ExtinguisherBay.retired_on.is_(None)))]
        raised = 0
        for due in due_conditions(tanks=tanks, extinguishers=bays, now=now, config=self.rules):
            raised += self.maintenance.raise_due(db, due, now)
        db.commit()
        return raised

    def _of_site(self, query: Any, column: Any) -> Any:
        return query if self.all_sites else query.where(column == self.site_id)

    def prune(self, db: Session, *, retention_days: int) -> int:
        """Delete readings older than the retention period; return how many went."""
        return self.readings.prune(db, before=self.clock() - timedelta(days=retention_days))
