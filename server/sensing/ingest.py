"""The MQTT side of ingest: a paho client with a persistent session, a queue, and one worker.

- MQTT 5, clean start off and a session expiry, QoS 1: while the server is down the broker keeps
  its session and queues readings, which arrive when it is back.
- With ``ingest.shared_group`` set, replicas share one subscription (``$share/<group>/…``).
- With ``ingest.all_sites`` set (a district's central server), it takes every site's topics.
- Manual acknowledgements: a message is acknowledged only after the batch holding it is
  committed, so killing the server never loses an acknowledged reading; the broker redelivers
  the rest, and (node, epoch, seq) idempotency makes redelivery harmless.
- The callback decodes and hands off; it never touches the database. One worker thread owns
  all ingest writes: batches of readings, rule ticks, schedules and pruning. A second thread
  delivers alerts, whose channels may be slow.
- A bad payload is logged, counted, dead-lettered and dropped; an exception in a batch is logged
  and the batch retried one message at a time, so one poison message cannot stall the rest.

    ingest = Ingest.from_settings(settings, sessions=sessions, notifier=notifier)
    ingest.start(); ...; ingest.stop()
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sensors import contract
from server.alerts import Notifier, SiteInfo, load_alerts_config
from server.alerts.outbox import AlertBook
from server.alerts.rows import AlertRow
from server.models import utcnow
from server.rules import load_rules_config
from server.sensing.maintenance import asset_name
from server.sensing.metrics import Metrics
from server.sensing.processing import Inbound, Processor, Rejected
from server.settings import ServerSettings

__all__ = ["Ingest"]

log = logging.getLogger(__name__)
_STOP = object()


class Ingest:
    def __init__(self, *, settings: ServerSettings, sessions: sessionmaker[Session],
                 processor: Processor, alerts: AlertBook, notifier: Notifier | None,
                 metrics: Metrics, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.sessions = sessions
        self.processor = processor
        self.alerts = alerts
        self.notifier = notifier
        self.metrics = metrics
        self.clock = clock
        self.config = settings.ingest
        self.prefix = settings.mqtt.topic_prefix
        self.inbox: queue.Queue[Any] = queue.Queue(maxsize=self.config.queue_limit)
        self.connected = threading.Event()
        self._stopping = threading.Event()
        # Set when the worker has committed new alerts, so delivery starts at once rather than
        # on its next round (delivery_interval_s, which stays the pace of retries).
        self._alerts_waiting = threading.Event()
        self._alerts_seen = 0.0
        self._threads: list[threading.Thread] = []
        self.client = self._make_client()

    @classmethod
    def from_settings(cls, settings: ServerSettings, *, sessions: sessionmaker[Session],
                      notifier: Notifier | None, clock: Callable[[], datetime] = utcnow,
                      metrics: Metrics | None = None) -> Ingest:
        metrics = metrics or Metrics()
        site = settings.site
        rules = load_rules_config(settings.ingest.rules_file, timezone=site.timezone)
        alerts_config = load_alerts_config(
            settings.ingest.alerts_file, timezone=site.timezone,
            require_secrets=settings.environment == "production")
        book = AlertBook(config=alerts_config,
                         site=SiteInfo(id=site.id, name_zh=site.name_zh, name_en=site.name_en),
                         timezone=site.timezone, public_url=settings.http.public_url,
                         metrics=metrics, asset_names=asset_name)
        processor = Processor(site_id=site.id, rules=rules, alerts=book, metrics=metrics,
                              evidence_interval_s=settings.ingest.evidence_interval_s,
                              auto_resolve=settings.ingest.auto_resolve,
                              node_report_interval_s=settings.ingest.node_report_interval_s,
                              clock=clock, all_sites=settings.ingest.all_sites,
                              future_skew_s=settings.ingest.future_skew_s)
        return cls(settings=settings, sessions=sessions, processor=processor, alerts=book,
                   notifier=notifier, metrics=metrics, clock=clock)

    # --- MQTT -------------------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.config.client_id,
                             protocol=mqtt.MQTTv5, manual_ack=True)
        broker = self.settings.mqtt.broker
        if broker.username:
            client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            ca = self.settings.mqtt.ca_file
            client.tls_set(ca_certs=str(ca) if ca else None)
        client.reconnect_delay_set(min_delay=1, max_delay=60)
        client.max_inflight_messages_set(100)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    @property
    def topic_filter(self) -> str:
        base = contract.subscription(
            self.prefix, None if self.config.all_sites else self.settings.site.id)
        group = self.config.shared_group
        return f"$share/{group}/{base}" if group else base

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any,
                    reason: Any, _properties: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        # Subscribing here (not once at start) keeps the subscription across reconnects.
        client.subscribe(self.topic_filter, qos=1)
        self.connected.set()
        log.info("ingest connected to the broker; subscribed to %s", self.topic_filter)

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any,
                       reason: Any, _properties: Any) -> None:
        self.connected.clear()
        if not self._stopping.is_set():
            log.warning("ingest lost the broker (%s); reconnecting with backoff", reason)

    def _on_message(self, client: mqtt.Client, _userdata: Any,
                    msg: mqtt.MQTTMessage) -> None:
        received = self.clock()
        try:
            item: Inbound | Rejected = Inbound(contract.decode(msg.topic, msg.payload),
                                               msg.topic, received, msg.mid)
        except contract.ContractError as exc:
            if self._is_alert_topic(msg.topic):
                # Our own alert channel sits under the site's topics; it is not a sensor node.
                if msg.qos:
                    client.ack(msg.mid, msg.qos)
                return
            item = Rejected(msg.topic, bytes(msg.payload[:contract.MAX_PAYLOAD_BYTES]),
                            str(exc), received, msg.mid)
        # Blocking here applies back-pressure to the broker instead of dropping readings.
        self.inbox.put((item, msg.qos))

    def _is_alert_topic(self, topic: str) -> bool:
        """An alert's topic (checked only for what is not a reading: off the hot path)."""
        try:
            return contract.parse_topic(topic, prefix=self.prefix).channel == "alert"
        except contract.ContractError:
            return False

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        broker = self.settings.mqtt.broker
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.settings.mqtt.session_expiry_s
        self.client.connect_async(broker.host, broker.port, keepalive=self.settings.mqtt.keepalive,
                                  clean_start=False, properties=props)
        self.client.loop_start()
        for target, name in ((self._work, "ingest-worker"), (self._deliver, "alert-delivery")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        self._alerts_waiting.set()
        self.inbox.put((_STOP, 0))
        for thread in self._threads:
            thread.join(timeout=15)
        self.client.disconnect()
        self.client.loop_stop()
        log.info("ingest stopped")

    # --- the worker -------------------------------------------------------------------------

    def _work(self) -> None:
        next_tick = next_schedule = time.monotonic()
        next_prune = time.monotonic() + 60
        while True:
            batch = self._take_batch(timeout=self.config.tick_interval_s)
            if batch is None:
                return
            if batch:
                self._process(batch)
                self._wake_delivery()
            now = time.monotonic()
            try:
                if now >= next_tick:
                    next_tick = now + self.config.tick_interval_s
                    with self.sessions() as db:
                        self.processor.tick(db)
                        self.alerts.escalate(db, now=self.clock())
                if now >= next_schedule:
                    next_schedule = now + self.config.schedule_interval_s
                    with self.sessions() as db:
                        self.processor.run_schedules(db)
                if now >= next_prune:
                    next_prune = now + 24 * 3600
                    with self.sessions() as db:
                        self.processor.prune(db, retention_days=self.config.retention_days)
                self._publish_alerts()
                self._wake_delivery()
            except Exception:  # the periodic work must never end the worker
                log.exception("periodic ingest work failed; will try again")

    def _take_batch(self, timeout: float) -> list[tuple[Any, int]] | None:
        try:
            first = self.inbox.get(timeout=timeout)
        except queue.Empty:
            return []
        if first[0] is _STOP:
            return None
        batch = [first]
        deadline = time.monotonic() + self.config.batch_wait_ms / 1000
        while len(batch) < self.config.batch_size:
            remaining = deadline - time.monotonic()
            try:
                item = self.inbox.get(timeout=max(remaining, 0)) if remaining > 0 \
                    else self.inbox.get_nowait()
            except queue.Empty:
                break
            if item[0] is _STOP:
                self.inbox.put(item)
                break
            batch.append(item)
        self.metrics.set_gauge("servicepoint_ingest_queue_depth", self.inbox.qsize())
        # Counted here, a batch at a time, not in paho's callback for every message.
        self.metrics.inc("servicepoint_mqtt_messages_received_total", len(batch))
        return batch

    def _process(self, batch: list[tuple[Any, int]]) -> None:
        items = [item for item, _qos in batch]
        try:
            with self.sessions() as db:
                self.processor.process(db, items)
        except Exception:
            self.metrics.inc("servicepoint_ingest_errors_total")
            log.exception("a batch of %d failed; retrying one by one", len(items))
            for item in items:
                self._process_one(item)
        for item, qos in batch:
            if qos > 0 and item.mid:
                self.client.ack(item.mid, qos)

    def _process_one(self, item: Inbound | Rejected) -> None:
        for attempt in range(3):
            try:
                with self.sessions() as db:
                    self.processor.process(db, [item])
                return
            except Exception:
                log.exception("message on %s failed (attempt %d)", item.topic, attempt + 1)
                time.sleep(0.2 * (attempt + 1))
        # A message that cannot be stored after retries is dead-lettered so the stream goes on.
        reason = "processing failed"
        payload = contract.encode(item.message) if isinstance(item, Inbound) else item.payload
        try:
            with self.sessions() as db:
                self.processor.process(db, [Rejected(item.topic, payload, reason,
                                                     item.received_at)])
        except Exception:
            log.exception("could not even dead-letter a message on %s", item.topic)

    def _publish_alerts(self) -> None:
        """Alerts also go to MQTT for dashboards and Home Assistant (after they are committed)."""
        if not self.connected.is_set():
            return
        with self.sessions() as db:
            for alert in db.scalars(select(AlertRow).where(AlertRow.published.is_(False))
                                    .order_by(AlertRow.id).limit(100)):
                try:
                    notice = contract.AlertNotice(
                        site_id=alert.site_id, alert_id=alert.id, ticket_id=alert.ticket_id,
                        # encode_alert checks the kind the row holds.
                        kind=alert.kind,  # type: ignore[arg-type]
                        level=alert.level, urgent=alert.urgent, asset_id=alert.asset_id,
                        condition=alert.condition, title=alert.title,
                        created_at=alert.created_at)
                    topic = contract.alert_topic(self.prefix, alert.site_id, alert.id)
                    payload = contract.encode_alert(notice)
                except contract.ContractError as exc:
                    # An asset id the contract refuses (registered by hand): the alert still
                    # reaches staff on the dashboard and their channels, only not on MQTT.
                    log.warning("alert %s not published on MQTT: %s", alert.id, exc)
                    alert.published = True
                    continue
                info = self.client.publish(topic, payload, qos=1)
                if info.rc == mqtt.MQTT_ERR_SUCCESS:
                    alert.published = True
            db.commit()

    def _wake_delivery(self) -> None:
        created = self.metrics.value("servicepoint_alerts_created_total")
        if created != self._alerts_seen:
            self._alerts_seen = created
            self._alerts_waiting.set()

    def _deliver(self) -> None:
        while not self._stopping.is_set():
            self._alerts_waiting.wait(self.config.delivery_interval_s)
            self._alerts_waiting.clear()
            if self._stopping.is_set():
                return
            if self.notifier is None:
                continue
            try:
                self.alerts.deliver_due(self.sessions, self.notifier, now=self.clock(),
                                        rand=random.random)
            except Exception:
                log.exception("alert delivery round failed; will try again")
