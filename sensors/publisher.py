"""Drains the outbox to the MQTT broker, in order, deleting each row only on its PUBACK.

Wiring (paho-mqtt 2.x, MQTT 3.1.1, QoS 1 throughout):

- the last will (``offline``, retained) is set before connecting; the birth message (``online``,
  retained) is sent from ``on_connect``, which also subscribes to Home Assistant's status topic so
  the subscription survives reconnects;
- ``connect_async`` + ``loop_start``: paho's thread connects and reconnects forever with
  exponential backoff (``reconnect_min_s`` doubling to ``reconnect_max_s``); a broker outage never
  ends the process;
- paho's callbacks only hand off (an ack queue and a wake-up event); one pump thread does the
  work: it hands paho at most ``window`` outbox rows beyond those still unacknowledged, in
  sequence order, and deletes rows whose PUBACK came back. Rows handed to paho stay in paho's
  in-memory queue across a reconnect and paho resends them in order; after a process restart the
  outbox still holds them and they are handed over again. Delivery is therefore at least once:
  a listener drops repeats by (node_id, epoch, seq).
- discovery is sent on every connect and again ``discovery_delay_s`` after Home Assistant
  publishes ``online`` on ``<discovery_prefix>/status``.

    publisher = Publisher(outbox, mqtt=settings.mqtt, site_id="site-01", node_id="pump-room",
                          discovery=messages)
    publisher.start(); ...; publisher.stop()
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from foundation.settings import MqttSettings
from sensors import contract
from sensors.discovery import status_topic
from sensors.outbox import Outbox

__all__ = ["Publisher"]

log = logging.getLogger(__name__)

QOS = 1


class Publisher:
    def __init__(
        self,
        outbox: Outbox,
        *,
        mqtt_settings: MqttSettings,
        site_id: str,
        node_id: str,
        discovery: list[tuple[str, bytes]] | None = None,
        discovery_delay_s: float = 2.0,
        reconnect_min_s: float = 1.0,
        reconnect_max_s: float = 60.0,
        window: int = 100,
    ) -> None:
        self.outbox = outbox
        self.settings = mqtt_settings
        self.broker = mqtt_settings.broker
        self.site_id = site_id
        self.node_id = node_id
        self.discovery = list(discovery or [])
        self.discovery_delay_s = discovery_delay_s
        self.window = window
        self.availability_topic = contract.availability_topic(
            mqtt_settings.topic_prefix, site_id, node_id)
        self.replay_topic = contract.replay_topic(mqtt_settings.topic_prefix, site_id, node_id)
        self.status_topic = status_topic(mqtt_settings.discovery_prefix)
        self.connected = threading.Event()
        self.acked = 0
        self.connects = 0
        self.replayed = 0
        self._replay_due = False

        self._wake = outbox.changed
        self._acks: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._ha_online: queue.SimpleQueue[float] = queue.SimpleQueue()
        self._inflight: dict[int, int] = {}  # paho mid -> outbox seq
        self._cursor = 0  # the highest seq handed to paho
        self._caught_up = False  # the last hand-over took every row there was
        self._discovery_at: float | None = None
        self._stopping = threading.Event()
        self._pump: threading.Thread | None = None

        client = mqtt.Client(CallbackAPIVersion.VERSION2,
                             client_id=f"servicepoint-{site_id}-{node_id}",
                             protocol=mqtt.MQTTv311, clean_session=True)
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            ca = str(mqtt_settings.ca_file) if mqtt_settings.ca_file else None
            client.tls_set(ca_certs=ca, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.will_set(self.availability_topic, contract.AVAILABILITY_OFFLINE, qos=QOS,
                        retain=True)
        client.reconnect_delay_set(reconnect_min_s, reconnect_max_s)  # type: ignore[arg-type]
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        self.client = client

    # ------------------------------------------------------------ paho callbacks (hand off only)
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if reason.is_failure:
            log.warning("broker %s:%s refused the connection: %s", self.broker.host,
                        self.broker.port, reason)
            return
        self.connects += 1
        log.info("connected to broker %s:%s", self.broker.host, self.broker.port)
        client.publish(self.availability_topic, contract.AVAILABILITY_ONLINE, qos=QOS,
                       retain=True)
        client.subscribe(self.status_topic, qos=QOS)
        self._ha_online.put(0.0)  # announce discovery now, without the delay
        self._replay_due = True
        self.connected.set()
        self._wake.set()

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        log.warning("cannot reach broker %s:%s; retrying with backoff", self.broker.host,
                    self.broker.port)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
        if self.connected.is_set() and not self._stopping.is_set():
            log.warning("lost the broker (%s); readings queue in the outbox", reason)
        self.connected.clear()

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any,
                    properties: Any) -> None:
        self._acks.put(mid)
        self._wake.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.topic == self.status_topic and message.payload == b"online":
            self._ha_online.put(self.discovery_delay_s)
            self._wake.set()

    # ------------------------------------------------------------------------------ the pump
    def _take_acks(self) -> None:
        done: list[int] = []
        while True:
            try:
                mid = self._acks.get_nowait()
            except queue.Empty:
                break
            seq = self._inflight.pop(mid, None)
            if seq is not None:  # birth and discovery are not outbox rows
                done.append(seq)
        if done:
            self.outbox.remove(done)
            self.acked += len(done)

    def _hand_over(self) -> None:
        room = self.window - len(self._inflight)
        if room <= 0:
            self._caught_up = False
            return
        rows = self.outbox.after(self._cursor, limit=room)
        self._caught_up = len(rows) < room
        for row in rows:
            info = self.client.publish(row.topic, row.payload, qos=QOS, retain=row.retain)
            # NO_CONN still leaves the message in paho's queue; it goes out on reconnect.
            if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
                log.warning("paho refused seq %d (%s); retrying later", row.seq, info.rc)
                break
            self._inflight[info.mid] = row.seq
            self._cursor = row.seq

    def _announce(self) -> None:
        while True:
            try:
                delay = self._ha_online.get_nowait()
            except queue.Empty:
                break
            due = time.monotonic() + delay
            self._discovery_at = due if self._discovery_at is None else min(self._discovery_at,
                                                                               due)
        if self._discovery_at is not None and time.monotonic() >= self._discovery_at:
            if self.connected.is_set():
                for topic, payload in self.discovery:
                    self.client.publish(topic, payload, qos=QOS, retain=True)
                log.info("announced %d entities to Home Assistant", len(self.discovery))
            self._discovery_at = None

    def _replay(self) -> None:
        """Send what the broker acknowledged in the last ``keep_sent_s`` once more, on the replay
        topic: if the broker lost power before it saved them, the server still gets them (it
        takes each seq once). Not retained, so no retained state goes back in time."""
        self._replay_due = False
        rows = self.outbox.recently_sent()
        for _seq, payload in rows:
            self.client.publish(self.replay_topic, payload, qos=QOS, retain=False)
        if rows:
            self.replayed += len(rows)
            log.info("sent %d acknowledged readings once more on %s, in case the broker lost "
                     "them", len(rows), self.replay_topic)

    def _note_depth(self) -> None:
        """Tell the outbox its depth once this round of sending is over, for the node's health
        reading. While connected, that is when every row there was has been sent and
        acknowledged, or when a backlog fills the window; rows stored a moment before are not
        "waiting" (sampling right after the node stored its periodic states read 2-3 on a
        connected node). While disconnected, every row waits."""
        drained = self._caught_up and not self._inflight
        if not self.connected.is_set() or drained or len(self._inflight) >= self.window:
            self.outbox.note_depth_after_send()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._take_acks()
                self._announce()
                if self.connected.is_set() and self._replay_due:
                    self._replay()
                if self.connected.is_set():
                    self._hand_over()
                self._note_depth()
            except Exception:
                log.exception("publisher pump failed; carrying on")
            timeout = 0.5
            if self._discovery_at is not None:
                timeout = max(0.0, min(timeout, self._discovery_at - time.monotonic()))
            self._wake.wait(timeout)
            self._wake.clear()

    # ---------------------------------------------------------------------------- lifecycle
    def start(self) -> Publisher:
        self.client.connect_async(self.broker.host, self.broker.port,
                                  keepalive=self.settings.keepalive)
        self.client.loop_start()
        self._pump = threading.Thread(target=self._run, name="sensors-publisher", daemon=True)
        self._pump.start()
        return self

    def wait_drained(self, timeout: float) -> bool:
        """Wait until every stored row has been acknowledged (for an orderly shutdown, tests)."""
        deadline = time.monotonic() + timeout
        while self.outbox.depth > 0:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def stop(self, *, timeout: float = 2.0) -> None:
        """Say 'offline' (when connected), then disconnect. Unsent rows stay in the outbox."""
        self._stopping.set()
        self._wake.set()
        if self._pump is not None:
            self._pump.join(timeout)
        if self.connected.is_set():
            info = self.client.publish(self.availability_topic, contract.AVAILABILITY_OFFLINE,
                                       qos=QOS, retain=True)
            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError):
                log.debug("offline message not confirmed", exc_info=True)
            self._take_acks()
        # disconnect() before loop_stop(): the other order stalls about a second.
        self.client.disconnect()
        self.client.loop_stop()
