"""Kiosk heartbeats: keep each kiosk's latest, say which kiosks staff should go and look at, and
give Prometheus the same figures.

- :func:`record_heartbeat`: the route ``POST /api/v1/kiosk/heartbeat``
  (server/api/routes/kiosk_heartbeat.py) overwrites the kiosk's row (one per kiosk and site).
- :func:`kiosk_lines`: the site status (server/services/site_status.py, the staff site page
  server/web/site.py) lists each kiosk of the session's site with two warnings a community
  worker acts on: silent for :data:`SILENT_AFTER` (power, network), and a request held in its
  outbox for over :data:`HOLDING_AFTER` (the kiosk cannot reach the server, or it refuses).
- :func:`kiosk_gauges`: a scrape-time reader for server/sensing/metrics.py's ``Metrics``
  (added by ``create_app``), every site's kiosks, so an installer's alert rules see the same.

The clock is the caller's (``app.state.clock``), so tests move it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from server.kiosk_heartbeats import KioskHeartbeat

__all__ = ["HOLDING_AFTER", "SILENT_AFTER", "Heartbeat", "kiosk_gauges", "kiosk_lines",
           "record_heartbeat"]

log = logging.getLogger(__name__)

# A kiosk beats every minute: ten missed beats is not a blip of the network.
SILENT_AFTER = timedelta(minutes=10)
# A request a resident filed and still not at the server: someone is waiting for a squad.
HOLDING_AFTER = timedelta(minutes=30)

QUEUED_GAUGE = "servicepoint_kiosk_queued_requests"
SEEN_GAUGE = "servicepoint_kiosk_last_seen_seconds"
OLDEST_GAUGE = "servicepoint_kiosk_oldest_queued_seconds"


@dataclass(frozen=True)
class Heartbeat:
    """What a kiosk says about itself each minute."""

    kiosk_id: str
    queued: int
    oldest_queued_s: int | None
    outbox_damaged: bool
    version: str
    place: str = ""


def record_heartbeat(db: Session, beat: Heartbeat, *, now: datetime) -> KioskHeartbeat:
    """Keep ``beat`` as its kiosk's latest (the session's acting site is the kiosk's)."""
    for attempt in (1, 2):
        row = db.scalars(select(KioskHeartbeat)
                         .where(KioskHeartbeat.kiosk_id == beat.kiosk_id)).first()
        if row is None:
            row = KioskHeartbeat(kiosk_id=beat.kiosk_id)
            db.add(row)
        row.place = beat.place
        row.last_seen_at = now
        row.queued = beat.queued
        row.oldest_queued_s = beat.oldest_queued_s if beat.queued else None
        row.outbox_damaged = beat.outbox_damaged
        row.version = beat.version
        try:
            db.commit()
            return row
        except IntegrityError:
            # The same kiosk's first two beats at once (a retry racing the first): the other
            # one made the row, so this one updates it.
            db.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def kiosk_lines(db: Session, *, now: datetime) -> list[dict[str, Any]]:
    """The session's site's kiosks with what staff should notice: those to go and look at
    first, then the most recently seen.

    A request a kiosk reported waiting has waited at least as long again since that report
    (if the kiosk went silent, it is most likely still there): ``oldest_queued_minutes`` and
    ``holding`` count from the request's keeping to ``now``."""
    rows = db.scalars(select(KioskHeartbeat)
                      .order_by(KioskHeartbeat.last_seen_at.desc(), KioskHeartbeat.kiosk_id))
    lines = []
    for row in rows:
        since = max(now - row.last_seen_at, timedelta(0))
        waited = (timedelta(seconds=row.oldest_queued_s) + since
                  if row.queued > 0 and row.oldest_queued_s is not None else None)
        lines.append({
            "kiosk_id": row.kiosk_id, "place": row.place,
            "last_seen_at": row.last_seen_at.isoformat(),
            "minutes_since_seen": int(since.total_seconds() // 60),
            "queued": row.queued, "oldest_queued_s": row.oldest_queued_s,
            "oldest_queued_minutes": (int(waited.total_seconds() // 60)
                                      if waited is not None else None),
            "outbox_damaged": row.outbox_damaged, "version": row.version,
            "silent": since >= SILENT_AFTER,
            "holding": waited is not None and waited >= HOLDING_AFTER,
        })
    # Stable: within each group the most recently seen stay first.
    lines.sort(key=lambda line: not (line["silent"] or line["holding"]))
    return lines


def kiosk_gauges(sessions: sessionmaker[Session], clock: Callable[[], datetime]
                 ) -> Callable[[], Iterable[Metric]]:
    """A scrape-time reader of every site's kiosks (an unscoped session sees them all)."""

    def read() -> Iterable[Metric]:
        now = clock()
        queued = GaugeMetricFamily(QUEUED_GAUGE, "requests waiting in a kiosk's outbox, as its "
                                   "latest heartbeat said", labels=["site", "kiosk"])
        seen = GaugeMetricFamily(SEEN_GAUGE, "seconds since a kiosk's latest heartbeat",
                                 labels=["site", "kiosk"])
        oldest = GaugeMetricFamily(OLDEST_GAUGE, "how long the oldest request in a kiosk's "
                                   "outbox had waited, as its latest heartbeat said (0: none)",
                                   labels=["site", "kiosk"])
        with sessions() as db:
            for row in db.scalars(select(KioskHeartbeat)):
                labels = [row.site_id, row.kiosk_id]
                queued.add_metric(labels, row.queued)
                seen.add_metric(labels, max((now - row.last_seen_at).total_seconds(), 0.0))
                oldest.add_metric(labels, row.oldest_queued_s or 0)
        yield from (queued, seen, oldest)

    return read
