"""The sensor node: CPU per reading, and how fast the on-disk outbox drains after an outage.

    .venv/bin/python bench/sensor_node.py              # 3 runs of each
    .venv/bin/python bench/sensor_node.py --runs 5 --seconds 20 --backlog 36000

1. CPU. The real node (sensors.node, on-disk outbox with synchronous=FULL, publisher) runs on
   gpiozero mock pins with the shipped config/sensors.toml, publishing to a private Mosquitto,
   for ``--seconds``: once as shipped (poll every 50 ms, states every 60 s: the idle cost of
   watching the pins), once with states every poll (about 80 readings/s). Printed: the process's
   CPU (user + sys, every thread) as % of one core, and the CPU per reading, i.e. the extra CPU
   of the busy run over the idle one, divided by the readings the broker acknowledged.
   The mock pins are not free (gpiozero's software SPI bit-bangs the MCP3008 in Python, and the
   HC-SR04 echo is simulated), so the idle figure is an upper bound for a Pi with hardware SPI.
2. Drain. An outbox holding ``--backlog`` readings (10 sensors x 1 reading/s x 1 hour = 36,000)
   is handed to the publisher with the broker up and a QoS 1 subscriber (paho, own process)
   listening: time until every row is acknowledged and deleted, and until the subscriber has
   them all. The time to fill the outbox (one fsync'd transaction per reading, as the node does)
   is printed too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import _common
from _common import median, read_json_line, spawn, spread, stop

HELPER = str(Path(__file__).with_name("_mqtt.py"))


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def run_node(workdir: Path, url: str, *, seconds: float, state_interval: float) -> dict[str, float]:
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    from foundation.settings import MqttSettings
    from sensors.config import load_sensors_config, parse_sensors_config
    from sensors.mockhw import MockSite
    from sensors.node import SensorNode
    from sensors.outbox import Outbox
    from sensors.publisher import Publisher

    shipped = load_sensors_config(_common.CONFIG / "sensors.toml")
    raw = shipped.model_dump(mode="json", exclude_none=True)
    raw["node"]["state_interval_s"] = state_interval
    raw["node"]["health_interval_s"] = max(state_interval, 1.0)
    config = parse_sensors_config(raw, "bench")
    factory = MockFactory()
    # gpiozero's software SPI bus (the MCP3008) asks for the global factory: make it this one.
    Device.pin_factory = factory
    site = MockSite(config, factory)
    for tank in config.tanks:
        site.set_depth(tank.id, 100.0)
        site.set_turbidity(tank.id, 0.4)
        site.set_float(tank.id, "overflow", False)
        site.set_float(tank.id, "low_level", False)
    for bay in config.bays:
        site.set_bay(bay.id, present=True, pressure_ok=True, door_open=False)
    # As shipped, acknowledged readings are kept for the resend after a reconnect.
    outbox = Outbox(workdir / f"cpu-{time.monotonic_ns()}.sqlite3",
                    keep_sent_s=config.node.replay_window_s)
    node = SensorNode(config, site_id="site-01", topic_prefix="servicepoint", outbox=outbox,
                      pin_factory=factory)
    site.sync()
    publisher = Publisher(outbox, mqtt_settings=MqttSettings(url=url), site_id="site-01",
                          node_id=config.node.id).start()
    publisher.connected.wait(10)
    stopping = threading.Event()
    poller = threading.Thread(target=node.run, args=(stopping,), daemon=True)
    poller.start()
    time.sleep(2)  # filter windows fill, first states go out
    acked0, cpu0, t0 = publisher.acked, cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    acked, cpu, elapsed = publisher.acked - acked0, cpu_seconds() - cpu0, time.monotonic() - t0
    stopping.set()
    poller.join(5)
    publisher.stop()
    node.close()
    outbox.close()
    factory.reset()
    return {"readings": acked, "core_percent": cpu / elapsed * 100, "cpu_s": cpu,
            "elapsed": elapsed}


def fill(path: Path, count: int) -> float:
    from sensors import contract
    from sensors.outbox import Outbox, Outgoing

    assets = ["tank-1", *[f"ext-{i}" for i in range(1, 10)]]  # 10 sensors
    start = datetime.now().astimezone() - timedelta(hours=1)
    t0 = time.monotonic()
    with Outbox(path, max_rows=100_000) as outbox:
        for i in range(count):
            asset = assets[i % len(assets)]
            at = start + timedelta(seconds=i // len(assets))

            def make(seq: int, asset: str = asset, at: datetime = at):  # type: ignore[no-untyped-def]
                if asset.startswith("tank"):
                    message: contract.Message = contract.TankState(
                        site_id="site-01", node_id="pump-room", seq=seq, ts=at, asset_id=asset,
                        level_percent=60.0, volume_l=5400.0, capacity_l=9000.0, overflow=False,
                        low_level=False, turbidity_ntu=0.4)
                else:
                    message = contract.ExtinguisherBayState(
                        site_id="site-01", node_id="pump-room", seq=seq, ts=at, asset_id=asset,
                        present=True, pressure_ok=True, door_open=False)
                return Outgoing(contract.topic_for(message, prefix="servicepoint"),
                                contract.encode(message), True, True)

            outbox.add(make)
    return time.monotonic() - t0


def drain(workdir: Path, template: Path, count: int) -> dict[str, float]:
    from foundation.settings import MqttSettings
    from sensors.config import load_sensors_config
    from sensors.outbox import Outbox
    from sensors.publisher import Publisher

    path = workdir / f"drain-{time.monotonic_ns()}.sqlite3"
    shutil.copy(template, path)
    broker = _common.broker(workdir / f"broker-{time.monotonic_ns()}")
    sub = spawn(HELPER, "subscribe", "--url", broker.url, "--count", str(count), "--qos", "1")
    try:
        read_json_line(sub, 20)
        keep = load_sensors_config(_common.CONFIG / "sensors.toml").node.replay_window_s
        with Outbox(path, keep_sent_s=keep) as outbox:  # as shipped: copies kept for a resend
            assert outbox.depth == count, outbox.depth
            t0 = time.time()
            publisher = Publisher(outbox, mqtt_settings=MqttSettings(url=broker.url),
                                  site_id="site-01", node_id="pump-room").start()
            drained = publisher.wait_drained(600)
            t_acked = time.time()
            done = read_json_line(sub, 120)
            publisher.stop()
        return {"drained": float(drained), "acked_s": t_acked - t0,
                "received_s": float(done["t_done"]) - t0, "received": float(done["count"])}
    finally:
        stop(sub)
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="per CPU measurement")
    parser.add_argument("--backlog", type=int, default=36_000)
    args = parser.parse_args()
    workdir = _common.temp_dir("sp-bench-node-")
    print(f"machine: {_common.machine()}\n", flush=True)

    idle, busy, per_reading = [], [], []
    broker = _common.broker(workdir / "broker")
    sink = spawn(HELPER, "subscribe", "--url", broker.url, "--count", str(10**9), "--qos", "1")
    try:
        read_json_line(sink, 20)
        for run in range(args.runs):
            quiet = run_node(workdir, broker.url, seconds=args.seconds, state_interval=60.0)
            loud = run_node(workdir, broker.url, seconds=args.seconds, state_interval=0.05)
            extra = (loud["cpu_s"] / loud["elapsed"] - quiet["cpu_s"] / quiet["elapsed"])
            us = extra * loud["elapsed"] / max(loud["readings"] - quiet["readings"], 1) * 1e6
            idle.append(quiet["core_percent"])
            busy.append(loud["core_percent"])
            per_reading.append(us)
            print(f"run {run + 1} CPU: shipped config {quiet['core_percent']:.1f} % of a core "
                  f"({quiet['readings']:.0f} readings); states every poll "
                  f"{loud['core_percent']:.1f} % ({loud['readings'] / loud['elapsed']:.0f} "
                  f"readings/s); {us:.0f} us CPU per reading", flush=True)
    finally:
        sink.kill()
        sink.wait()
        broker.stop()

    template = workdir / "backlog.sqlite3"
    fill_s = fill(template, args.backlog)
    print(f"\nfilled an outbox with {args.backlog} readings in {fill_s:.1f} s "
          f"({args.backlog / fill_s:.0f} stores/s, one fsync'd transaction each)", flush=True)
    acked, received = [], []
    for run in range(args.runs):
        result = drain(workdir, template, args.backlog)
        acked.append(args.backlog / result["acked_s"])
        received.append(args.backlog / result["received_s"])
        print(f"run {run + 1} drain: all acknowledged in {result['acked_s']:.1f} s, all received "
              f"by the subscriber in {result['received_s']:.1f} s "
              f"({result['received']:.0f} received)", flush=True)

    print("\nmedians (min-max):")
    print(f"  node CPU, shipped config (idle watching): {spread(idle, '{:.1f}')} % of a core")
    print(f"  node CPU, states every poll:              {spread(busy, '{:.1f}')} % of a core")
    print(f"  CPU per reading:                          {spread(per_reading)} us")
    print(f"  outbox drain ({args.backlog} readings):   {spread(acked)} readings/s acknowledged,"
          f" {median(args.backlog / r for r in acked):.1f} s")
    print(f"                                            {spread(received)} readings/s received")


if __name__ == "__main__":
    main()
