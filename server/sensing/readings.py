"""The first station of a batch: storing readings.

Each reading is kept once: (node, epoch, seq) is unique, so a redelivery or a node's replay
finds its row already there and changes nothing. The epoch is the run of the node's outbox: a
node that lost its outbox numbers from 1 again in a new epoch, and that is said in the log and
counted, not taken for a replay. A message is logged, counted and kept as a dead letter for
staff to read, and goes no further, when it broke the contract, names an asset the register
does not know, comes from a node other than the asset's own (any broker login could otherwise
forge any asset's readings), or is dated further ahead than the allowed clock skew (it would
stand as the latest state and hide every real reading as older). The node's row and each
asset's latest state are brought up to date on the way.

:class:`~server.sensing.processing.Processor` calls :meth:`ReadingStore.sort` and then
:meth:`ReadingStore.store` inside the batch's transaction; nothing here commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sensors import contract
from server.sensing.metrics import Metrics
from server.sensing.models import (
    AssetState,
    DeadLetter,
    ExtinguisherBay,
    ReadingRow,
    SensorNode,
    Tank,
)

__all__ = ["Inbound", "ReadingStore", "Rejected", "get_or_create"]

log = logging.getLogger(__name__)

_Row = TypeVar("_Row")


def get_or_create(db: Session, model: type[_Row], key: str, make: Callable[[], _Row]) -> _Row:
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


class ReadingStore:
    """Readings in, each once; dead letters for what cannot be used."""

    def __init__(self, *, metrics: Metrics, node_report_interval_s: float,
                 future_skew_s: float = 300.0) -> None:
        self.metrics = metrics
        self.node_interval = node_report_interval_s
        self.future_skew = timedelta(seconds=future_skew_s)

    def sort(self, db: Session, items: Sequence[Inbound | Rejected],
             now: datetime | None = None) -> list[Inbound]:
        """The batch's new messages, in order: rejected ones dead-lettered, repeats of a
        stored (node, epoch, seq) counted and dropped, readings of unknown assets, of another
        node's assets or dated beyond ``now`` plus the skew dead-lettered."""
        inbound = [i for i in items if isinstance(i, Inbound)]
        for item in items:
            if isinstance(item, Rejected):
                self.dead_letter(db, item)
        owners = self._owners(db)
        latest_allowed = None if now is None else now + self.future_skew
        fresh: list[Inbound] = []
        seen = self._seen(db, inbound)
        for item in inbound:
            message = item.message
            if isinstance(message, contract.Availability):
                fresh.append(item)
                continue
            key = (message.node_id, message.epoch, message.seq)
            if key in seen:
                self.metrics.inc("servicepoint_mqtt_messages_duplicate_total")
                continue
            seen.add(key)
            refusal = self._refusal(db, message, owners, latest_allowed)
            if refusal is not None:
                self.dead_letter(db, Rejected(item.topic, contract.encode(message), refusal,
                                              item.received_at))
                continue
            fresh.append(item)
        return fresh

    def _refusal(self, db: Session, message: contract.Reading,
                 owners: dict[str, tuple[type[Tank] | type[ExtinguisherBay], str | None]],
                 latest_allowed: datetime | None) -> str | None:
        """Why a reading cannot be used, or None."""
        if latest_allowed is not None and message.ts > latest_allowed:
            return f"ts in the future: {message.ts.isoformat()}"
        asset_id = getattr(message, "asset_id", None)
        if asset_id is None:
            return None
        if asset_id not in owners:
            return f"unknown asset {asset_id}"
        model, owner = owners[asset_id]
        if owner is None:
            # No node named in the site file: the first node to report the asset is its own,
            # and from then on only it.
            row = db.get(model, asset_id)
            assert row is not None
            row.node_id = message.node_id
            owners[asset_id] = (model, message.node_id)
            log.warning("asset %s has no node in the site file; it is now node %s's, the "
                        "first to report it (name it with node = \"...\" in the site file)",
                        asset_id, message.node_id)
            return None
        if owner != message.node_id:
            return f"not the asset's node: {asset_id} is {owner}'s"
        return None

    def dead_letter(self, db: Session, item: Rejected) -> None:
        preview = item.payload[:512].decode("utf-8", errors="replace")
        log.warning("dropped MQTT message on %s (%s): %r", item.topic[:200], item.reason,
                    preview[:120])
        reason = item.reason.split(":")[0][:60]
        self.metrics.inc("servicepoint_mqtt_messages_rejected_total", reason=reason)
        db.add(DeadLetter(received_at=item.received_at, topic=item.topic[:300], payload=preview,
                          size=len(item.payload), reason=item.reason[:300]))

    def _owners(self, db: Session
                ) -> dict[str, tuple[type[Tank] | type[ExtinguisherBay], str | None]]:
        """asset id -> (its register table, the node whose readings of it count)."""
        owners: dict[str, tuple[type[Tank] | type[ExtinguisherBay], str | None]] = {}
        for model in (Tank, ExtinguisherBay):
            for asset_id, node_id in db.execute(select(model.asset_id, model.node_id)):
                owners[asset_id] = (model, node_id)
        return owners

    def _seen(self, db: Session, items: Sequence[Inbound]) -> set[tuple[str, int, int]]:
        keys = [(i.message.node_id, i.message.epoch, i.message.seq) for i in items
                if not isinstance(i.message, contract.Availability)]
        found: set[tuple[str, int, int]] = set()  # (node_id, epoch, seq)
        for start in range(0, len(keys), 300):
            chunk = keys[start:start + 300]
            rows = db.execute(select(ReadingRow.node_id, ReadingRow.epoch, ReadingRow.seq).where(
                tuple_(ReadingRow.node_id, ReadingRow.epoch, ReadingRow.seq).in_(chunk)))
            found.update((node, epoch, seq) for node, epoch, seq in rows)
        return found

    def _follow_sequence(self, node: SensorNode, message: contract.Reading) -> None:
        """Keep the node's newest (epoch, seq); say loudly when it starts a new epoch."""
        epoch = node.epoch or 0
        if message.epoch > epoch and not node.last_seq:
            node.epoch, node.last_seq = message.epoch, message.seq  # a node heard the first time
        elif message.epoch > epoch:
            log.warning("sensor node %s started a new sequence (epoch %d, was %d; its seq "
                        "restarts at %d, last was %d): its outbox was lost or replaced, and "
                        "readings it had not sent are gone", message.node_id, message.epoch,
                        epoch, message.seq, node.last_seq or 0)
            self.metrics.inc("servicepoint_sensor_node_new_sequences_total",
                             node=message.node_id)
            node.epoch, node.last_seq = message.epoch, message.seq
        elif message.epoch == epoch:
            node.last_seq = max(node.last_seq or 0, message.seq)

    def _node(self, db: Session, site_id: str, node_id: str) -> SensorNode:
        return get_or_create(db, SensorNode, node_id, lambda: SensorNode(
            node_id=node_id, site_id=site_id, report_interval_s=self.node_interval, epoch=0,
            last_seq=0))

    def store(self, db: Session, items: Sequence[Inbound]) -> None:
        """Add the readings, and bring their nodes' rows and assets' latest state up to date."""
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
                payload = contract.body_of(message)
                asset_id = getattr(message, "asset_id", None)
                rows.append(dict(
                    site_id=message.site_id, node_id=message.node_id, epoch=message.epoch,
                    seq=message.seq,
                    asset_id=asset_id, kind=payload["kind"], ts=message.ts,
                    received_at=item.received_at,
                    level_percent=getattr(message, "level_percent", None),
                    turbidity_ntu=getattr(message, "turbidity_ntu", None), payload=payload))
                self._follow_sequence(node, message)
                if node.last_state_at is None or message.ts > node.last_state_at:
                    node.last_state_at = message.ts
                if isinstance(message, contract.NodeHealth):
                    node.uptime_s, node.cpu_temp_c = message.uptime_s, message.cpu_temp_c
                    node.outbox_depth = message.outbox_depth
                if isinstance(message, contract.TankState | contract.ExtinguisherBayState):
                    state = latest.get(message.asset_id)
                    if state is None:
                        state = latest[message.asset_id] = get_or_create(
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

    def prune(self, db: Session, *, before: datetime) -> int:
        """Delete readings older than ``before``; commits. Returns how many went."""
        result = db.execute(delete(ReadingRow).where(ReadingRow.ts < before))
        db.commit()
        return int(getattr(result, "rowcount", 0) or 0)
