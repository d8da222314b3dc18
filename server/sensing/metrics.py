"""The server's figures for Prometheus, kept and exposed through ``prometheus_client``.

Every part of the server counts through one :class:`Metrics` made by ``create_app`` (or by the
ingest on its own): ``inc`` for counters, ``observe`` for durations, ``set_gauge`` for a level
the code knows, and :meth:`Metrics.add_collector` for levels read at scrape time (the outboxes'
depths, read from the database by :func:`outbox_depths`). ``render`` gives the text format that
``GET /metrics`` serves. Each metric is named, described and labelled once, in ``_COUNTERS``,
``_HISTOGRAMS`` and ``_GAUGES`` below; docs/DEPLOYMENT.md lists them for an installer, and
tests/server/test_metrics.py checks the two agree.

- Counters keep the names the code, tests and docs use (``…_total``); prometheus_client writes
  them as counters of that name, so existing scrapes and dashboards read on. ``value`` answers
  from this process's own tally, which the ingest and tests read back.
- Several worker processes (``PROMETHEUS_MULTIPROC_DIR`` set before the server starts, as
  prometheus_client's multiprocess mode asks): each process writes its figures to files there,
  and whichever process answers ``/metrics`` sums them all; scrape-time collectors are added to
  that sum once, since they read the shared database.
- :func:`watch_pool` times how long each database checkout waits for a connection.

    metrics = Metrics()
    metrics.inc("servicepoint_ingest_batches_total")
    metrics.observe("servicepoint_ingest_lag_seconds", 0.04)
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from server.alerts.model import NoticeKind
from server.alerts.rows import AlertDelivery, AlertRow

__all__ = ["Metrics", "outbox_depths", "prepare_multiprocess", "watch_pool"]

log = logging.getLogger(__name__)

# name -> (help, label names). A name used with other labels than these is a bug: the missing
# ones are written empty and the extra ones dropped (logged once), never an error on the hot path.
_COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "servicepoint_mqtt_messages_received_total": ("MQTT messages received by ingest", ()),
    "servicepoint_mqtt_messages_stored_total": ("readings stored (first delivery)", ()),
    "servicepoint_mqtt_messages_duplicate_total": ("redelivered readings ignored", ()),
    "servicepoint_mqtt_messages_rejected_total": (
        "messages that broke the contract or were refused, by reason", ("reason",)),
    "servicepoint_sensor_node_new_sequences_total": (
        "sensor nodes that started a new sequence (a lost or new outbox), by node", ("node",)),
    "servicepoint_ingest_batches_total": ("database batches committed by ingest", ()),
    "servicepoint_ingest_errors_total": ("batches that failed and were retried", ()),
    "servicepoint_tickets_raised_total": ("maintenance tickets raised by rules, by condition",
                                          ("condition",)),
    "servicepoint_alerts_created_total": ("staff alerts and notices created, by kind", ("kind",)),
    "servicepoint_alert_deliveries_total": ("alert deliveries, by outcome", ("outcome",)),
    "servicepoint_filings_refused_total": ("filings refused by the rate limits",
                                           ("by", "route")),
    "servicepoint_form_refusals_total": ("web form submissions refused, by form and reason",
                                         ("form", "reason")),
    "servicepoint_lookups_total": ("request lookups by number and phone ending, by result",
                                   ("result",)),
    "servicepoint_lookups_refused_total": ("request lookups refused, by reason", ("reason",)),
    "servicepoint_kiosk_help_total": ("calls for staff from a kiosk, by outcome", ("outcome",)),
}

# Seconds. The HTTP buckets bracket the pages' 50 ms target; ingest lag runs from a batch's
# 10 ms window to a broker's backlog after an outage.
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_HISTOGRAMS: dict[str, tuple[str, tuple[str, ...], tuple[float, ...]]] = {
    "servicepoint_http_request_duration_seconds": (
        "HTTP requests by route template, method and status: time to the last byte",
        ("route", "method", "status"), _HTTP_BUCKETS),
    "servicepoint_ingest_lag_seconds": (
        "a reading's time (as the node stamped it) to the commit that stored it", (),
        (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 3600.0)),
    "servicepoint_db_pool_wait_seconds": (
        "time a database checkout waited for a connection from the pool", (),
        (0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0)),
}

# Levels the code sets as they change. In multiprocess mode the value most recently set, by
# whichever worker (the ingest runs in one: see server/workers.py).
_GAUGES: dict[str, str] = {
    "servicepoint_ingest_queue_depth": "MQTT messages received and waiting for the ingest's "
                                       "worker",
}

OUTBOX_GAUGE = "servicepoint_outbox_pending"
OUTBOX_HELP = "deliveries waiting in the outbox (alerts to staff, notifications to people)"


def multiprocess_dir() -> str | None:
    """prometheus_client's multiprocess folder, when the server runs several workers."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def prepare_multiprocess(folder: Path) -> None:
    """Before worker processes start: an empty ``folder`` for their figures, named in the
    environment they inherit (prometheus_client reads it as each worker imports it). Emptied
    so a restart's counters start from zero, as a single process's do."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


class _Callback(Collector):
    def __init__(self, read: Callable[[], Iterable[Metric]]) -> None:
        self.read = read

    def collect(self) -> Iterable[Metric]:
        try:
            return list(self.read())
        except Exception:  # a figure that cannot be read must not take /metrics down with it
            log.exception("a scrape-time metric could not be read; left out of this scrape")
            return []


class Metrics:
    """The server's counters, histograms and gauges, in a registry of their own (one per app,
    so tests can build many apps in one process)."""

    def __init__(self) -> None:
        # The *_created series would only double the lines of every counter.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        self._lock = threading.Lock()
        self._tally: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self._counters: dict[str, Counter] = {}
        self._labels: dict[str, tuple[str, ...]] = {}
        self._histograms: dict[str, Histogram] = {}
        self._gauges: dict[str, Gauge] = {}
        self._scrape_time: list[Collector] = []
        self._warned: set[str] = set()
        for name, (text, labels) in _COUNTERS.items():
            self._counters[name] = Counter(name, text, labels, registry=self.registry)
            self._labels[name] = labels
        for name, (text, labels, buckets) in _HISTOGRAMS.items():
            self._histograms[name] = Histogram(name, text, labels, buckets=buckets,
                                               registry=self.registry)
            self._labels[name] = labels
        for name, text in _GAUGES.items():
            self._gauges[name] = Gauge(name, text, registry=self.registry,
                                       multiprocess_mode="mostrecent")

    # --- writing ------------------------------------------------------------------------------

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        counter = self._counters.get(name)
        if counter is None:
            with self._lock:
                counter = self._counters.get(name)
                if counter is None:
                    # A counter the table above does not name yet: made as first used.
                    log.warning("metric %s is not declared in server/sensing/metrics.py", name)
                    self._labels[name] = tuple(sorted(labels))
                    counter = self._counters[name] = Counter(
                        name, name, self._labels[name], registry=self.registry)
        with self._lock:
            key = (name, tuple(sorted(labels.items())))
            self._tally[key] = self._tally.get(key, 0) + amount
        names = self._labels[name]
        if names:
            counter.labels(*self._label_values(name, names, labels)).inc(amount)
        else:
            counter.inc(amount)

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        histogram = self._histograms[name]
        names = self._labels[name]
        if names:
            histogram = histogram.labels(*self._label_values(name, names, labels))
        histogram.observe(seconds)

    def observe_many(self, name: str, values: Iterable[float]) -> None:
        """Several observations of an unlabelled histogram (a batch's readings)."""
        histogram = self._histograms[name]
        for value in values:
            histogram.observe(value)

    def set_gauge(self, name: str, value: float) -> None:
        self._gauges[name].set(value)

    def add_collector(self, read: Callable[[], Iterable[Metric]]) -> None:
        """A figure read when Prometheus scrapes (``read`` yields metric families)."""
        collector = _Callback(read)
        self._scrape_time.append(collector)
        if multiprocess_dir() is None:
            self.registry.register(collector)

    def _label_values(self, name: str, names: tuple[str, ...],
                      labels: dict[str, str]) -> list[str]:
        wrong = len(labels) != len(names) or any(n not in labels for n in names)
        if wrong and name not in self._warned:
            self._warned.add(name)
            log.warning("metric %s takes labels %s, was given %s", name, names,
                        sorted(labels))
        return [str(labels.get(n, "")) for n in names]

    # --- reading ------------------------------------------------------------------------------

    def value(self, name: str, **labels: str) -> float:
        """This process's count of ``name`` (with exactly these labels, or all of them)."""
        with self._lock:
            if labels:
                return self._tally.get((name, tuple(sorted(labels.items()))), 0)
            return sum(v for (n, _), v in self._tally.items() if n == name)

    def render(self) -> str:
        """The Prometheus text format of every figure (of every worker, in multiprocess mode)."""
        folder = multiprocess_dir()
        if folder is None:
            return generate_latest(self.registry).decode()
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
        for collector in self._scrape_time:
            registry.register(collector)
        return generate_latest(registry).decode()


def outbox_depths(sessions: sessionmaker[Session]) -> Callable[[], Iterable[Metric]]:
    """A scrape-time reader of the outbox: deliveries still pending, alerts to staff apart from
    notifications to people (squads, volunteers, residents)."""
    notice_kinds = {kind.value for kind in NoticeKind}

    def read() -> Iterable[Metric]:
        depths = {"alerts": 0.0, "notifications": 0.0}
        with sessions() as db:
            rows = db.execute(select(AlertRow.kind, func.count()).select_from(AlertDelivery)
                              .join(AlertRow, AlertRow.id == AlertDelivery.alert_id)
                              .where(AlertDelivery.status == "pending")
                              .group_by(AlertRow.kind))
            for kind, count in rows:
                depths["notifications" if kind in notice_kinds else "alerts"] += count
        family = GaugeMetricFamily(OUTBOX_GAUGE, OUTBOX_HELP, labels=["outbox"])
        for outbox, depth in depths.items():
            family.add_metric([outbox], depth)
        yield family

    return read


def watch_pool(engine: Engine, metrics: Metrics) -> None:
    """Time every checkout of ``engine``'s pool: from asking for a connection to having one.

    SQLAlchemy's pool events fire only once a connection is had (``checkout``), too late to
    see the wait, so the pool's ``connect`` (the one door every Session and Connection takes)
    is wrapped; a pool the engine makes anew on ``dispose`` is wrapped in its turn.
    """

    def wrap(pool: Any) -> None:
        # One wrapper a pool; an app built again on the same engine (tests) takes it over.
        already = getattr(pool, "_servicepoint_metrics", None)
        pool._servicepoint_metrics = metrics
        if already is not None:
            return
        inner = pool.connect

        def connect() -> Any:
            started = time.perf_counter()
            try:
                return inner()
            finally:
                pool._servicepoint_metrics.observe("servicepoint_db_pool_wait_seconds",
                                                   time.perf_counter() - started)

        pool.connect = connect

    wrap(engine.pool)
    event.listen(engine, "engine_disposed", lambda disposed: wrap(disposed.pool))
