"""The rules' side of a batch: what each message tells the pure rules, and their state per site.

- :func:`observation_of` turns a contract message into the rules' observation: a tank's or a
  bay's state as it is, or an event as the one field it changes (the contract says which).
- :class:`RuleStates` keeps the rules engine's state (pending durations, raised flags), one row
  per site, so restarts forget nothing. On PostgreSQL the row is locked for the transaction:
  replicas take turns on the rules.

:class:`~server.sensing.processing.Processor` loads the states a batch needs, evaluates each
message with :func:`server.rules.evaluate`, and saves them before its commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sensors import contract
from server.rules import EngineState, ExtinguisherBayReading, StateError, TankReading
from server.sensing.models import RuleStateRow, SensorNode

__all__ = ["RuleStates", "observation_of"]

log = logging.getLogger(__name__)

# The contract's tank state fields, as the rules' tank observation names them.
_TANK_FIELD: Mapping[str, str] = {"overflow": "overflow_float_up",
                                  "low_level": "low_float_down"}


def observation_of(message: contract.Message) -> TankReading | ExtinguisherBayReading | None:
    """What a tank or bay message tells the rules; None for a message about the node."""
    if isinstance(message, contract.TankState):
        return TankReading(message.asset_id, at=message.ts, level_percent=message.level_percent,
                           volume_l=message.volume_l, turbidity_ntu=message.turbidity_ntu,
                           overflow_float_up=message.overflow, low_float_down=message.low_level)
    if isinstance(message, contract.TankEvent):
        field, value = contract.TANK_EVENT_FIELDS[message.event]
        return TankReading(message.asset_id, at=message.ts, level_percent=message.level_percent,
                           **{_TANK_FIELD[field]: value})
    if isinstance(message, contract.ExtinguisherBayState):
        return ExtinguisherBayReading(message.asset_id, at=message.ts, present=message.present,
                                      pressure_ok=message.pressure_ok,
                                      door_open=message.door_open)
    if isinstance(message, contract.ExtinguisherBayEvent):
        field, value = contract.BAY_EVENT_FIELDS[message.event]
        return ExtinguisherBayReading(message.asset_id, at=message.ts, **{field: value})
    return None


class RuleStates:
    """The rules engine's state of each site, in the ``rule_state`` table."""

    def __init__(self, *, site_id: str, all_sites: bool, clock: Callable[[], datetime]) -> None:
        self.site_id = site_id
        self.all_sites = all_sites
        self.clock = clock

    def sites(self, db: Session) -> list[str]:
        """The sites the periodic work covers, in a fixed order (see :meth:`load`)."""
        if not self.all_sites:
            return [self.site_id]
        return sorted(set(db.scalars(select(SensorNode.site_id)))
                      | set(db.scalars(select(RuleStateRow.site_id))))

    def load(self, db: Session, site_id: str | None = None) -> tuple[RuleStateRow, EngineState]:
        """A site's row and state. A transaction that needs several sites' rows takes them in
        sorted order, so two replicas waiting on each other's rows can never deadlock."""
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
                return self.load(db, site_id)
            return row, EngineState()
        try:
            return row, EngineState.from_json(row.state)
        except StateError:
            log.exception("rule state of %s unreadable; starting afresh", site_id)
            return row, EngineState()

    @staticmethod
    def save(row: RuleStateRow, state: EngineState, now: datetime) -> None:
        row.state, row.updated_at = state.to_json(), now
