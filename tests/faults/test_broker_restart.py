"""The broker restarts while a sensor node publishes hard into the server's ingest: every
reading reaches the database exactly once, in its own numbering, and both ends reconnect by
themselves.

Already covered elsewhere: the node's side of a broker outage on its own
(tests/sensors/test_sensors_mqtt.py::test_broker_outage_loses_nothing_and_keeps_order) and a
broker that is down when the node starts (tests/sensors/test_sensors_process.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.sensors.helpers import NODE, make_config, wait_until
from tests.support.broker import MosquittoBroker

pytestmark = pytest.mark.broker

AS_ROOT = "user root" if os.geteuid() == 0 else ""


def test_broker_restarts_under_heavy_publishing_lose_and_duplicate_nothing(
        tmp_path: Path, start_node, run_ingest) -> None:  # type: ignore[no-untyped-def]
    # Persistence on, as shipped: the server's session and its queued readings survive.
    broker = MosquittoBroker(tmp_path / "broker", persistence=True, extra=AS_ROOT).start()
    try:
        server = run_ingest(broker.url)
        # Three assets every poll (20 ms): about 150 readings a second, for the whole test.
        node = start_node(make_config(state_interval_s=0.01, health_interval_s=0.05),
                          url=broker.url)
        for restart in range(2):
            floor = server.stored()
            wait_until(lambda f=floor: server.stored() >= f + 150, 30,
                       f"a stream into the database before restart {restart + 1}")
            broker.restart()  # SIGTERM: Mosquitto saves its store and comes back
            wait_until(lambda: node.publisher.connected.is_set()  # type: ignore[union-attr]
                       and server.ingest.connected.is_set(), 20, "both ends to reconnect")
        wait_until(lambda: server.stored() >= floor + 300, 30, "the stream after the restarts")
        node.halt_polling()
        last = node.outbox.last_seq
        assert node.publisher is not None and node.publisher.wait_drained(30)
        wait_until(lambda: (server.seqs(NODE) or [0])[-1] >= last, 30, "the last reading")
        assert server.seqs(NODE) == list(range(1, last + 1))  # all, once each, no gap
        assert last > 300
    finally:
        broker.stop()
