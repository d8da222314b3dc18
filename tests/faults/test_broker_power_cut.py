"""The broker loses power while the server is away: what it had acknowledged but not yet saved
to disk is gone from the broker, and the sensor node's resend after it reconnects brings every
reading to the server all the same, once each.

(A clean broker restart, which saves everything first, is tests/faults/test_broker_restart.py.)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.sensors.helpers import NODE, make_config, wait_until
from tests.support.broker import MosquittoBroker

pytestmark = pytest.mark.broker

AS_ROOT = "user root" if os.geteuid() == 0 else ""


def test_a_broker_power_cut_while_the_server_is_away_loses_no_reading(
        tmp_path: Path, start_node, run_ingest) -> None:  # type: ignore[no-untyped-def]
    # Mosquitto as shipped saves its store once a minute; here not at all during the test, so
    # whatever it acknowledges after its last clean stop lives only in its memory.
    broker = MosquittoBroker(tmp_path / "broker", persistence=True,
                             extra=f"{AS_ROOT}\nautosave_interval 3600").start()
    try:
        server = run_ingest(broker.url)  # makes the server's persistent session
        server.ingest.stop()  # the server goes away (a restart, an upgrade)
        broker.restart()  # a clean stop saves that session, as an autosave would have
        node = start_node(make_config(state_interval_s=0.05, health_interval_s=0.2),
                          url=broker.url, replay_window_s=600)
        assert node.publisher is not None
        wait_until(lambda: node.publisher.acked >= 60, 30, "the broker to take 60 readings")
        node.halt_polling()
        last = node.outbox.last_seq
        assert node.publisher.wait_drained(30)  # the node let go of every reading
        broker.kill()  # the power cut: the readings queued for the server were only in memory
        broker.start()
        wait_until(lambda: node.publisher.connects >= 2 and node.publisher.replayed >= last, 30,
                   "the node to reconnect and send its recent readings again")
        server = run_ingest(broker.url)  # the server is back and resumes its session
        wait_until(lambda: (server.seqs(NODE) or [0])[-1] >= last, 30, "the last reading")
        assert server.seqs(NODE) == list(range(1, last + 1))  # all, once each, no gap
    finally:
        broker.stop()
