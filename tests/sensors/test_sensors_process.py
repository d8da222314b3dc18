"""`servicepoint sensors` as a real process: kill -9, restart, last will, simulation commands."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sensors import contract
from tests.sensors.helpers import NODE, PREFIX, SITE, TEST_SENSORS_TOML, seqs_of, wait_until

pytestmark = pytest.mark.broker

REPO = Path(__file__).resolve().parents[2]


class NodeProcess:
    """Runs `python -m servicepoint sensors --simulate` against a test config."""

    def __init__(self, tmp_path: Path, broker_url: str, *, state_interval_s: float = 30,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.tmp = tmp_path
        sensors = tmp_path / "sensors.toml"
        sensors.write_text(TEST_SENSORS_TOML.replace(
            "state_interval_s = 30", f"state_interval_s = {state_interval_s}").replace(
            "health_interval_s = 30", f"health_interval_s = {max(state_interval_s, 0.05)}"))
        self.config = tmp_path / "servicepoint.toml"
        self.config.write_text(f'environment = "test"\ndata_dir = "{tmp_path / "data"}"\n'
                               f'sensors_file = "{sensors}"\n[site]\nid = "{SITE}"\n')
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEPOINT_")}
        self.env.update(SERVICEPOINT_CONFIG=str(self.config), SERVICEPOINT_MQTT_URL=broker_url,
                        PYTHONUNBUFFERED="1")
        self.env.pop("GPIOZERO_PIN_FACTORY", None)  # --simulate must set up its own factory
        self.args = ("--simulate", *extra_args)
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0

    @property
    def outbox(self) -> Path:
        return self.tmp / "data" / f"sensors-{NODE}.outbox.sqlite3"

    def start(self, *, stdin: bool = False) -> subprocess.Popen[bytes]:
        self.runs += 1
        log = (self.tmp / f"node-{self.runs}.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "servicepoint", "sensors", *self.args,
             *(() if stdin else ("--no-stdin",))],
            cwd=REPO, env=self.env, stdout=log, stderr=log,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL)
        return self.proc

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.tmp.glob("node-*.log")))

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(15)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def node_process(tmp_path: Path):
    made: list[NodeProcess] = []

    def make(url: str, **kwargs) -> NodeProcess:
        made.append(NodeProcess(tmp_path, url, **kwargs))
        return made[-1]

    yield make
    for process in made:
        process.kill()


def availability(messages):
    return [m.online for m in messages if isinstance(m, contract.Availability)]


def test_kill_9_mid_stream_then_restart_loses_nothing(broker, listen, node_process):
    listener = listen(broker.url, f"{PREFIX}/#", client_id="ingest", persistent=True)
    node = node_process(broker.url, state_interval_s=0.03)
    node.start()
    listener.wait_for(lambda ms: len(seqs_of(ms)) >= 60, 30, "a stream from the first run")
    node.kill()  # SIGKILL: no goodbye, no flush
    # The broker publishes the last will once the socket is gone.
    listener.wait_for(lambda ms: availability(ms)[-1:] == [False], 10, "the last will")
    with sqlite3.connect(node.outbox) as db:
        stored = db.execute("SELECT value FROM counters WHERE name='last_seq'").fetchone()[0]
    node.start()
    listener.wait_for(lambda ms: max(seqs_of(ms)) >= stored + 40, 30, "the second run")
    assert node.stop() == 0
    listener.wait_for(lambda ms: availability(ms)[-1:] == [False], 10, "'offline' on stop")
    assert availability(listener.readings()) == [True, False, True, False]
    seqs = seqs_of(listener.readings())
    first_seen = list(dict.fromkeys(seqs))
    # Every reading stored before the kill arrived, the numbering went on after the restart,
    # and the first arrival of each is in order with no gap. Repeats (at least once) are only
    # of readings in flight at the kill; the server drops them by (node_id, epoch, seq).
    assert first_seen == list(range(1, max(seqs) + 1))
    assert max(seqs) > stored
    with sqlite3.connect(node.outbox) as db:
        assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_simulation_steps_and_stdin_commands(broker, listen, node_process):
    listener = listen(broker.url, f"{PREFIX}/#")
    node = node_process(broker.url, extra_args=(
        "--speed", "10", "--step", "0.3: remove ext-1", "--step", "at 0.3 s: drain tank-1 to 5%"))
    proc = node.start(stdin=True)
    listener.wait_for(lambda ms: any(isinstance(m, contract.ExtinguisherBayEvent)
                                     and m.event == "extinguisher_removed" for m in ms),
                      20, "the scripted removal")
    listener.wait_for(lambda ms: [m for m in ms if isinstance(m, contract.TankEvent)
                                  and m.event == "low_level_tripped"], 20, "low level")
    # Drained to 5 %; states follow the level in steps of report_change_percent (5), so the
    # last one sent is within 5 % of it.
    listener.wait_for(lambda ms: [m for m in ms if isinstance(m, contract.TankState)
                                  and m.low_level and m.level_percent is not None
                                  and m.level_percent < 11], 20, "the drained level")
    assert proc.stdin is not None
    proc.stdin.write(b"open ext-1\nnonsense here\n")
    proc.stdin.flush()
    listener.wait_for(lambda ms: any(isinstance(m, contract.ExtinguisherBayEvent)
                                     and m.event == "door_opened" for m in ms), 20, "door")
    proc.stdin.write(b"stop\n")
    proc.stdin.flush()
    assert proc.wait(15) == 0
    assert "not a command" in node.log()


def test_broker_down_at_start_is_not_fatal(tmp_path, listen, node_process):
    from tests.support.broker import MosquittoBroker

    broker = MosquittoBroker(tmp_path / "late-broker")
    node = node_process(broker.url)
    proc = node.start()
    wait_until(lambda: node.outbox.exists(), 20, "the outbox")
    wait_until(lambda: "cannot reach broker" in node.log(), 20, "a retry")
    assert proc.poll() is None
    broker.start()
    try:
        listener = listen(broker.url, f"{PREFIX}/#")
        listener.wait_for(lambda ms: any(isinstance(m, contract.TankState) for m in ms), 20,
                          "the state once the broker is up")
        assert node.stop() == 0
    finally:
        broker.stop()
