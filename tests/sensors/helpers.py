"""Helpers for the sensor tests: a fast test config, a fake clock, an MQTT listener, a running node.

Everything real except the far side of the GPIO wires: gpiozero's MockFactory with
:class:`sensors.mockhw.MockSite`, a real SQLite outbox, a real Mosquitto broker (from
tests/conftest.py) and paho on both ends.
"""

from __future__ import annotations

import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import paho.mqtt.client as mqtt
from gpiozero.pins.mock import MockFactory
from paho.mqtt.enums import CallbackAPIVersion

from foundation.settings import MqttSettings
from sensors import contract
from sensors.config import SensorsConfig, parse_sensors_config
from sensors.mockhw import MockSite
from sensors.node import SensorNode
from sensors.outbox import Outbox
from sensors.publisher import Publisher

SITE = "site-01"
NODE = "node-t"
PREFIX = "servicepoint"

# Small intervals and windows so a test sees a change in tens of milliseconds.
TEST_SENSORS_TOML = """
[node]
id = "node-t"
name = "Test node"
poll_interval_s = 0.02
state_interval_s = 30
health_interval_s = 30
report_change_percent = 5
discovery_delay_s = 0.3
reconnect_min_s = 0.1
reconnect_max_s = 0.5

[adc]
vref = 3.3

[[tank]]
id = "tank-1"
name = "Tank 1"
[tank.ultrasonic]
trigger_pin = 23
echo_pin = 24
max_distance_m = 2.5
window = 5
outlier_cm = 10
[tank.geometry]
shape = "rectangular"
length_cm = 200
width_cm = 100
full_depth_cm = 150
sensor_height_cm = 175
[tank.turbidity]
adc_channel = 1
table = [[1.65, 3000.0], [2.10, 1000.0], [2.55, 100.0], [2.75, 10.0], [2.80, 1.0], [2.82, 0.0]]
window = 3
[tank.overflow]
pin = 5
debounce_s = 0.05
[tank.low_level]
pin = 6
tripped_when = "open"
debounce_s = 0.05

[[bay]]
id = "ext-1"
name = "Bay 1"
present_pin = 17
gauge_pin = 27
door_pin = 22
debounce_s = 0.05

[[bay]]
id = "ext-2"
present_pin = 16

[simulation]
step_percent_per_s = 200
"""


def make_config(text: str = TEST_SENSORS_TOML, **node: Any) -> SensorsConfig:
    raw = tomllib.loads(text)
    raw.setdefault("node", {}).update(node)
    return parse_sensors_config(raw, "test-sensors.toml")


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll a condition (never a fixed sleep for correctness); fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)


class FakeClock:
    """An injectable clock: tests move time by hand."""

    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = datetime(2026, 11, 25, 17, 0, tzinfo=timezone(timedelta(hours=8)))

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool


class Listener:
    """A paho subscriber that records everything, reconnecting by itself like the server does.

    ``persistent=True`` keeps a broker session (clean_session=False) so nothing is lost while it
    is disconnected, the way the server's ingest subscribes.
    """

    def __init__(self, url: str, topics: tuple[str, ...] = ("#",), *,
                 client_id: str = "test-listener", persistent: bool = False) -> None:
        address = MqttSettings(url=url).broker
        self.topics = topics
        self.messages: list[Received] = []
        self.cond = threading.Condition()
        self.connected = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv311, clean_session=not persistent)
        if address.username:
            self.client.username_pw_set(address.username, address.password)
        self.client.reconnect_delay_set(0.1, 0.5)  # type: ignore[arg-type]
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.on_subscribe = lambda *a: self.connected.set()
        self.client.on_message = self._on_message
        self.client.connect_async(address.host, address.port, keepalive=10)
        self.client.loop_start()
        wait_until(self.connected.is_set, 10, "the listener to connect")

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        # One SUBSCRIBE for all topics; "connected" is set on its SUBACK, so a test that waits
        # for it knows nothing published afterwards can be missed.
        client.subscribe([(topic, 1) for topic in self.topics])

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self.cond:
            self.messages.append(Received(msg.topic, bytes(msg.payload), bool(msg.retain)))
            self.cond.notify_all()

    def snapshot(self) -> list[Received]:
        with self.cond:
            return list(self.messages)

    def readings(self) -> list[contract.Message]:
        """Every contract message received (availability included), decoded, in order."""
        out = []
        for item in self.snapshot():
            if item.topic.startswith(PREFIX + "/"):
                out.append(contract.decode(item.topic, item.payload))
        return out

    def wait_for(self, predicate: Callable[[list[contract.Message]], Any],
                 timeout: float = 10.0, what: str = "messages") -> Any:
        return wait_until(lambda: predicate(self.readings()), timeout, what)

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class RunningNode:
    config: SensorsConfig
    factory: MockFactory
    site: MockSite
    outbox: Outbox
    node: SensorNode
    publisher: Publisher | None
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    closed: bool = False

    def start_polling(self) -> RunningNode:
        self.thread = threading.Thread(target=self.node.run, args=(self.stop,), daemon=True)
        self.thread.start()
        return self

    def halt_polling(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(5)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.halt_polling()
        if self.publisher is not None:
            self.publisher.stop(timeout=1)
        self.node.close()
        self.outbox.close()


def seqs_of(messages: list[contract.Message]) -> list[int]:
    return [m.seq for m in messages if isinstance(m, contract.Reading)]


