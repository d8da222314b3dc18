"""Fixtures for the sensor node: mock pins, a running node, MQTT listeners.

Everything real except the far side of the GPIO wires: gpiozero's MockFactory with
:class:`sensors.mockhw.MockSite`, a real SQLite outbox, a real Mosquitto broker (from
tests/conftest.py) and paho on both ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from foundation.settings import MqttSettings
from sensors.config import SensorsConfig
from sensors.discovery import discovery_messages
from sensors.mockhw import MockSite
from sensors.node import SensorNode
from sensors.outbox import Outbox
from sensors.publisher import Publisher
from tests.sensors.helpers import PREFIX, SITE, Listener, RunningNode, make_config


@pytest.fixture
def mock_factory() -> Iterator[MockFactory]:
    factory = MockFactory()
    yield factory
    factory.reset()


@pytest.fixture
def start_node(tmp_path: Path, mock_factory: MockFactory) -> Iterator[Callable[..., RunningNode]]:
    """Build a node on mock pins; with ``url=`` it also publishes to that broker."""
    running: list[RunningNode] = []

    def start(config: SensorsConfig | None = None, *, url: str | None = None,
              clock: Any = None, poll: bool = True, initial: Callable[[MockSite], None] | None
              = None, outbox_rows: int | None = None, replay_window_s: float = 0.0
              ) -> RunningNode:
        config = config or make_config()
        site = MockSite(config, mock_factory)
        for tank in config.tanks:
            site.set_depth(tank.id, 120.0)
            site.set_turbidity(tank.id, 0.5)
            site.set_float(tank.id, "overflow", False)
            site.set_float(tank.id, "low_level", False)
        for bay in config.bays:
            site.set_bay(bay.id, present=True, pressure_ok=True, door_open=False)
        if initial is not None:
            initial(site)
        # The resend after a reconnect is off unless a test asks for it (``replay_window_s``):
        # most tests watch the wire, where it would add copies of what they already saw.
        outbox = Outbox(tmp_path / f"outbox-{len(running)}.sqlite3",
                        max_rows=outbox_rows or config.node.outbox_max_rows,
                        keep_sent_s=replay_window_s)
        node = SensorNode(config, site_id=SITE, topic_prefix=PREFIX, outbox=outbox,
                          pin_factory=mock_factory, clock=clock, cpu_temperature=lambda: 47.5)
        site.sync()
        publisher = None
        if url is not None:
            publisher = Publisher(
                outbox, mqtt_settings=MqttSettings(url=url), site_id=SITE, node_id=config.node.id,
                discovery=discovery_messages(config, site_id=SITE, prefix=PREFIX,
                                             discovery_prefix="homeassistant"),
                discovery_delay_s=config.node.discovery_delay_s,
                reconnect_min_s=config.node.reconnect_min_s,
                reconnect_max_s=config.node.reconnect_max_s).start()
        handle = RunningNode(config, mock_factory, site, outbox, node, publisher)
        running.append(handle)
        if poll:
            handle.start_polling()
        return handle

    yield start
    for handle in running:
        handle.close()


@pytest.fixture
def listen() -> Iterator[Callable[..., Listener]]:
    listeners: list[Listener] = []

    def make(url: str, *topics: str, **kwargs: Any) -> Listener:
        listener = Listener(url, topics or ("#",), **kwargs)
        listeners.append(listener)
        return listener

    yield make
    for listener in listeners:
        listener.close()
