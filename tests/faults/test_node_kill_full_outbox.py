"""`servicepoint sensors` killed with kill -9 while its outbox is full (the broker long gone and
the size bound thinning periodic readings): after a restart, every row that was on disk at the
kill reaches the listener exactly once, events included, and new readings follow in order.

Already covered elsewhere: kill -9 mid-stream with the broker up
(tests/sensors/test_sensors_process.py::test_kill_9_mid_stream_then_restart_loses_nothing).
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from sensors import contract
from tests.sensors.helpers import PREFIX, seqs_of, wait_until
from tests.sensors.test_sensors_process import NodeProcess
from tests.support.broker import MosquittoBroker

pytestmark = pytest.mark.broker

AS_ROOT = "user root" if os.geteuid() == 0 else ""
BOUND = 60


def outbox_rows(path: Path) -> tuple[list[int], int]:
    """The seqs on disk, and how many periodic readings the bound has thinned so far."""
    try:
        with sqlite3.connect(path) as db:
            seqs = [row[0] for row in db.execute("SELECT seq FROM outbox ORDER BY seq")]
            thinned = db.execute("SELECT value FROM counters WHERE name = 'thinned'").fetchone()
    except sqlite3.OperationalError:  # the node is still creating it
        return [], 0
    assert thinned is not None, "the outbox's tables exist without their counters"
    return seqs, int(thinned[0])


def test_kill_9_with_a_full_outbox_then_restart_loses_nothing_on_disk(
        tmp_path: Path, listen) -> None:  # type: ignore[no-untyped-def]
    broker = MosquittoBroker(tmp_path / "broker", persistence=True, extra=AS_ROOT).start()
    node = NodeProcess(tmp_path, broker.url, state_interval_s=0.02)
    sensors = tmp_path / "sensors.toml"
    sensors.write_text(sensors.read_text().replace("[node]\n", f"[node]\noutbox_max_rows = "
                                                               f"{BOUND}\n", 1))
    try:
        # The server's persistent session exists, so the broker queues for it across restarts.
        listener = listen(broker.url, f"{PREFIX}/#", client_id="ingest", persistent=True)
        broker.stop()
        proc = node.start(stdin=True)
        wait_until(lambda: node.outbox.exists() and outbox_rows(node.outbox)[1] > 3 * BOUND,
                   30, "the outbox to fill and thin")
        assert proc.stdin is not None
        proc.stdin.write(b"remove ext-1\n")
        proc.stdin.flush()
        wait_until(lambda: outbox_rows(node.outbox)[1] > 6 * BOUND, 30, "more thinning")
        node.kill()  # SIGKILL with a full outbox
        on_disk, _ = outbox_rows(node.outbox)
        assert len(on_disk) >= BOUND * 0.8

        broker.start()
        node.start()
        listener.wait_for(lambda ms: set(on_disk) <= set(seqs_of(ms)), 30,
                          "every row that was on disk")
        listener.wait_for(lambda ms: max(seqs_of(ms)) > max(on_disk) + 20, 30, "new readings")
        node.stop()
        # What the broker forwarded. A message flagged retained is the broker's stored copy of
        # a state topic, sent again whenever the listener (re)subscribes after the restart: not
        # a second delivery (the server's ingest drops it by node and seq all the same).
        received = seqs_of([contract.decode(m.topic, m.payload) for m in listener.snapshot()
                            if m.topic.startswith(PREFIX + "/") and not m.retain])
        assert set(on_disk) <= set(received)
        assert Counter(s for s in received if s in set(on_disk)).most_common(1)[0][1] == 1
        assert list(dict.fromkeys(received)) == sorted(set(received))  # in order
        removed = [m for m in listener.readings()
                   if isinstance(m, contract.ExtinguisherBayEvent)
                   and m.event == "extinguisher_removed"]
        assert len(removed) == 1  # the event, once, though it queued through the thinning
    finally:
        node.kill()
        broker.stop()
