"""A sensor node cut off from its broker by the network (tests/faults/proxy.py stands between
them): every reading stored while it was cut off reaches the server's database once, in order,
and the node reconnects by itself, both when the link is reset and when it silently black-holes
traffic for longer than the MQTT keepalive."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from foundation.settings import MqttSettings
from sensors.discovery import discovery_messages
from sensors.publisher import Publisher
from tests.faults.proxy import TcpProxy
from tests.sensors.helpers import NODE, PREFIX, SITE, make_config, wait_until
from tests.support.broker import MosquittoBroker

pytestmark = pytest.mark.broker


@pytest.fixture
def proxy(broker: MosquittoBroker) -> Iterator[TcpProxy]:
    instance = TcpProxy(broker.port).start()
    yield instance
    instance.stop()


def _all_once(server, node, last: int) -> None:  # type: ignore[no-untyped-def]
    wait_until(lambda: (server.seqs(NODE) or [0])[-1] >= last, 30, "the last reading")
    assert server.seqs(NODE) == list(range(1, last + 1))  # every one, once, no gap


def test_link_reset_twice_loses_and_duplicates_nothing(
        broker: MosquittoBroker, proxy: TcpProxy, start_node, run_ingest) -> None:  # type: ignore[no-untyped-def]
    server = run_ingest(broker.url)
    node = start_node(make_config(state_interval_s=0.05, health_interval_s=0.2),
                      url=f"mqtt://127.0.0.1:{proxy.port}")
    for _ in range(2):
        floor = len(server.seqs(NODE))
        wait_until(lambda f=floor: len(server.seqs(NODE)) >= f + 30, 20, "readings flowing")
        proxy.cut()
        depth = node.outbox.depth
        wait_until(lambda d=depth: node.outbox.depth >= d + 40, 20, "readings queueing on disk")
        proxy.restore()
        wait_until(lambda: node.publisher.connected.is_set(), 20, "the node to reconnect")
    node.site.set_bay("ext-1", present=False)  # and an event once the link is back
    wait_until(lambda: node.outbox.last_seq >= 20 + max(server.seqs(NODE) or [0]), 20,
               "more readings")
    node.halt_polling()
    assert node.publisher is not None and node.publisher.wait_drained(30)
    _all_once(server, node, node.outbox.last_seq)
    assert proxy.connections >= 3


def test_silent_black_hole_longer_than_the_keepalive(
        broker: MosquittoBroker, proxy: TcpProxy, start_node, run_ingest) -> None:  # type: ignore[no-untyped-def]
    server = run_ingest(broker.url)
    config = make_config(state_interval_s=0.05, health_interval_s=0.2)
    node = start_node(config)  # on mock pins; its publisher is built here, keepalive 5 s
    publisher = Publisher(
        node.outbox, mqtt_settings=MqttSettings(url=f"mqtt://127.0.0.1:{proxy.port}",
                                                keepalive=5),
        site_id=SITE, node_id=NODE,
        discovery=discovery_messages(config, site_id=SITE, prefix=PREFIX,
                                     discovery_prefix="homeassistant"),
        reconnect_min_s=config.node.reconnect_min_s,
        reconnect_max_s=config.node.reconnect_max_s).start()
    try:
        wait_until(lambda: len(server.seqs(NODE)) >= 30, 20, "readings flowing")
        proxy.stall()
        stalled_at = time.monotonic()
        # Neither end is told. The broker gives up after 1.5 x keepalive and publishes the will;
        # the node notices the missing PINGRESP and reconnects (into the hole, until restored).
        wait_until(lambda: time.monotonic() - stalled_at > 12, 20, "the keepalive to run out")
        assert node.outbox.depth > 50  # readings waited on disk
        proxy.restore()
        wait_until(lambda: publisher.connected.is_set() and node.outbox.depth < 20, 30,
                   "the node to reconnect and drain")
        node.halt_polling()
        assert publisher.wait_drained(30)
        _all_once(server, node, node.outbox.last_seq)
        assert proxy.connections >= 2  # it came back on a new connection
    finally:
        publisher.stop(timeout=1)
