"""Helper processes for the MQTT benchmarks, each talking JSON lines on stdout.

    python bench/_mqtt.py publish --url mqtt://127.0.0.1:PORT --count 20000 --qos 1
    python bench/_mqtt.py publish --url ... --count 0 --rate 1000      # until stdin closes
    python bench/_mqtt.py subscribe --url ... --count 20000 --qos 1    # the raw paho reference
    python bench/_mqtt.py replica --url ... --db URL --client-id a [--group g]   # server ingest

The publisher sends valid contract readings (``tank_state``) from ``--nodes`` node ids in turn,
each with its own rising ``seq`` and its own tank (``tank-<node id>``, registered by
``_common.prepare_database``: the server takes an asset's readings only from its own node), as
sensor nodes do. The raw
subscriber is the ceiling: paho receiving and decoding JSON, nothing else (it counts readings;
a node's plain-text availability messages are skipped). The replica is the
server's own ingest (``server.sensing.ingest.Ingest``) on a database, as ``servicepoint server``
runs it, without the HTTP side.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from datetime import datetime, timedelta

import _common  # noqa: F401  (puts the repository on sys.path)
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from foundation.settings import parse_mqtt_url
from sensors import contract

SITE = "site-01"


def say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def wait_for_stdin_close() -> None:
    sys.stdin.read()


def reading(node: str, seq: int, at: datetime, level: float = 60.0) -> tuple[str, bytes]:
    message = contract.TankState(site_id=SITE, node_id=node, seq=seq, ts=at,
                                 asset_id=f"tank-{node}", level_percent=level,
                                 volume_l=level * 200, capacity_l=20000.0,
                                 overflow=False, low_level=False, turbidity_ntu=0.4)
    return contract.topic_for(message, prefix="servicepoint"), contract.encode(message)


def _client(url: str, client_id: str, protocol: int) -> mqtt.Client:
    address = parse_mqtt_url(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol)
    if address.username:
        client.username_pw_set(address.username, address.password)
    return client


def publish(args: argparse.Namespace) -> None:
    address = parse_mqtt_url(args.url)
    client = _client(args.url, f"bench-pub-{os.getpid()}", mqtt.MQTTv311)
    client.max_inflight_messages_set(args.inflight)
    acked = 0
    done = threading.Event()
    lock = threading.Lock()

    def on_publish(*_a: object) -> None:
        nonlocal acked
        with lock:
            acked += 1
            if args.count and acked >= args.count:
                done.set()

    client.on_publish = on_publish
    client.connect(address.host, address.port, keepalive=60)
    client.loop_start()
    nodes = [f"{args.node_prefix}-{i:02d}" for i in range(args.nodes)]
    start = datetime.now().astimezone()
    if args.count:
        # Encoded before the clock starts: the publisher should cost the run as little as it can.
        # Stamped 1 ms apart and all in the past, as a real node's readings are when they arrive:
        # a reading from the future makes the rules engine log a warning for it, which would
        # charge the ingest for a log line per reading that a deployment never writes.
        payloads = [reading(nodes[i % len(nodes)], args.first_seq + i // len(nodes),
                            start - timedelta(milliseconds=args.count - i))
                    for i in range(args.count)]
        t_first = time.time()
        for topic, payload in payloads:
            client.publish(topic, payload, qos=args.qos)
        if args.qos == 0:
            done.set()
        done.wait(600)
        say(t_first=t_first, t_acked=time.time(), count=args.count)
        wait_for_stdin_close()
    else:
        stopped = threading.Event()
        threading.Thread(target=lambda: (wait_for_stdin_close(), stopped.set()),
                         daemon=True).start()
        sent, t_first = 0, time.monotonic()
        say(started=time.time())
        while not stopped.is_set():
            due = int((time.monotonic() - t_first) * args.rate)
            while sent < due:
                node = nodes[sent % len(nodes)]
                # Stamped now (never ahead of the server's clock; see above).
                topic, payload = reading(node, args.first_seq + sent // len(nodes),
                                         datetime.now().astimezone())
                client.publish(topic, payload, qos=args.qos)
                sent += 1
            time.sleep(0.005)
        say(sent=sent, seconds=time.monotonic() - t_first)
    client.disconnect()
    client.loop_stop()


def subscribe(args: argparse.Namespace) -> None:
    address = parse_mqtt_url(args.url)
    client = _client(args.url, f"bench-sub-{os.getpid()}", mqtt.MQTTv5)
    received = 0
    subscribed, done = threading.Event(), threading.Event()
    t_done = 0.0

    def on_connect(c: mqtt.Client, *_a: object) -> None:
        c.subscribe(contract.subscription("servicepoint", SITE), qos=args.qos)

    def on_message(_c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        nonlocal received, t_done
        # Readings only: a node's availability (plain "online"/"offline", retained) shares the
        # topic tree and is neither decoded nor counted.
        if not msg.payload.startswith(b"{"):
            return
        json.loads(msg.payload)
        received += 1
        if received == args.count:
            t_done = time.time()
            done.set()

    client.on_connect = on_connect
    client.on_subscribe = lambda *_a: subscribed.set()
    client.on_message = on_message
    client.connect(address.host, address.port, keepalive=60)
    client.loop_start()
    subscribed.wait(10)
    say(ready=True)
    done.wait(600)
    say(t_done=t_done, count=received, cpu_s=sum(os.times()[:2]))
    wait_for_stdin_close()
    client.disconnect()
    client.loop_stop()


def replica(args: argparse.Namespace) -> None:
    import logging

    from server.alerts import RecordingNotifier
    from server.db import make_engine, session_factory
    from server.sensing.ingest import Ingest
    from server.settings import load_server_settings

    logging.basicConfig(level=logging.WARNING)
    env = {"SERVICEPOINT_DATABASE_URL": args.db, "SERVICEPOINT_MQTT_URL": args.url,
           "SERVICEPOINT_ENVIRONMENT": "test", "SERVICEPOINT_INGEST__CLIENT_ID": args.client_id,
           "SERVICEPOINT_INGEST__SHARED_GROUP": args.group}
    settings = load_server_settings(_common.CONFIG / "servicepoint.toml", env=env)
    engine = make_engine(settings.database_url)
    ingest = Ingest.from_settings(settings, sessions=session_factory(engine),
                                  notifier=RecordingNotifier())
    ingest.start()
    if not ingest.connected.wait(15):
        say(error="ingest never reached the broker")
        return
    time.sleep(0.3)  # the SUBACK
    import gc

    gc.collect()
    gc.freeze()  # as `servicepoint server` does before it serves (server.app.serve)
    cpu0 = sum(os.times()[:2])
    threads0 = thread_cpu()
    say(ready=True)
    wait_for_stdin_close()
    cpu = sum(os.times()[:2]) - cpu0
    threads = {name: seconds - threads0.get(name, 0.0) for name, seconds in thread_cpu().items()}
    stored = ingest.metrics.value("servicepoint_mqtt_messages_stored_total")
    batches = ingest.metrics.value("servicepoint_ingest_batches_total")
    ingest.stop()
    engine.dispose()
    say(cpu_s=cpu, stored=stored, batches=batches, threads=threads)


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) of each of this process's threads, by Python thread name
    (paho's network loop, the ingest's worker, ...), read from /proc: no profiler's distortion."""
    import threading

    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for tid, name in names.items():
        try:
            with open(f"/proc/self/task/{tid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="role", required=True)
    p = sub.add_parser("publish")
    p.add_argument("--url", required=True)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--rate", type=float, default=1000.0)
    p.add_argument("--qos", type=int, default=1)
    p.add_argument("--nodes", type=int, default=10)
    p.add_argument("--node-prefix", default="load")
    p.add_argument("--first-seq", type=int, default=1)
    p.add_argument("--inflight", type=int, default=1000)
    s = sub.add_parser("subscribe")
    s.add_argument("--url", required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--qos", type=int, default=1)
    r = sub.add_parser("replica")
    r.add_argument("--url", required=True)
    r.add_argument("--db", required=True)
    r.add_argument("--client-id", required=True)
    r.add_argument("--group", default="")
    args = parser.parse_args()
    {"publish": publish, "subscribe": subscribe, "replica": replica}[args.role](args)


if __name__ == "__main__":
    main()
