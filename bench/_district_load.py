"""The district's load generator for bench/district_scale.py, in processes of its own, talking
JSON lines on stdout (as bench/_mqtt.py does).

    python bench/_district_load.py nodes --url mqtt://… --sites 200 --rate 33 --seconds 40
    python bench/_district_load.py nodes --url mqtt://… --sites 200 --count 20000
    python bench/_district_load.py raw --url mqtt://… --count 20000 --prefix reference
    python bench/_district_load.py kiosks --plan plan.json --seconds 40

- ``nodes``: every site's sensor node as its bridge delivers it to the centre: one MQTT
  connection per site (a Pi's bridge is one connection), QoS 1, ``tank_state`` readings on the
  site's own topics (``servicepoint/<site>/<node>/state/<tank>``) from the node that owns the
  tank. ``--rate`` offers a fixed rate spread over the sites; ``--count`` sends that many as fast
  as the connections take them (an outage's backlog arriving at once).
- ``raw``: the reference: one paho subscriber decoding JSON, nothing else, on the same broker.
- ``kiosks``: every site's kiosk filing requests with its own kiosk key, and a staff member
  reading the staff page, both **open-loop**: each request has an intended send time on a fixed
  schedule, and its latency is measured from that time, so a slow server cannot slow the
  offered load down and hide its own queue (coordinated omission). The same schedule is driven
  at the bare FastAPI endpoint at the same time, as the reference.

Nothing here is imported by the product or the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import sys
import threading
import time
import uuid
from datetime import datetime
from typing import Any

import _common  # noqa: F401  (puts the repository on sys.path)
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from foundation.settings import parse_mqtt_url
from sensors import contract

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def site_ids(count: int) -> list[str]:
    """The simulated sites' ids, their nodes' and their tanks' (registered by the driver)."""
    return [f"dist-{i:03d}" for i in range(1, count + 1)]


def node_of(site: str) -> str:
    return f"node-{site}"


def tank_of(site: str) -> str:
    return f"tank-{site}"


def reading(site: str, seq: int, at: datetime, *, prefix: str) -> tuple[str, bytes]:
    message = contract.TankState(site_id=site, node_id=node_of(site), seq=seq, ts=at,
                                 asset_id=tank_of(site), level_percent=60.0 + seq % 7,
                                 volume_l=12000.0, capacity_l=20000.0, overflow=False,
                                 low_level=False, turbidity_ntu=0.4)
    return contract.topic_for(message, prefix=prefix), contract.encode(message)


# ------------------------------------------------------------------------------------ nodes

def nodes(args: argparse.Namespace) -> None:
    address = parse_mqtt_url(args.url)
    sites = site_ids(args.sites)
    acked, lock, done = 0, threading.Lock(), threading.Event()

    def on_publish(*_a: object) -> None:
        nonlocal acked
        with lock:
            acked += 1
            if args.count and acked >= args.count:
                done.set()

    clients = []
    for site in sites:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-bridge-{site}",
                             protocol=mqtt.MQTTv311)
        client.on_publish = on_publish
        client.connect(address.host, address.port, keepalive=60)
        client.loop_start()
        clients.append(client)
    seqs = {site: args.first_seq for site in sites}
    turn = itertools.cycle(range(len(sites)))
    say(connected=len(clients))

    def send_one() -> None:
        i = next(turn)
        site = sites[i]
        topic, payload = reading(site, seqs[site], datetime.now().astimezone(),
                                 prefix=args.prefix)
        seqs[site] += 1
        clients[i].publish(topic, payload, qos=1)

    t_first = time.time()
    sent = 0
    if args.count:
        for _ in range(args.count):
            send_one()
        sent = args.count
        done.wait(600)
        say(t_first=t_first, t_acked=time.time(), sent=sent,
            next_seq=max(seqs.values()))
    else:
        start = time.monotonic()
        while time.monotonic() - start < args.seconds:
            due = int((time.monotonic() - start) * args.rate)
            while sent < due:
                send_one()
                sent += 1
            time.sleep(0.01)
        say(t_first=t_first, sent=sent, seconds=time.monotonic() - start,
            next_seq=max(seqs.values()))
    for client in clients:
        client.disconnect()
    for client in clients:
        client.loop_stop()


def raw(args: argparse.Namespace) -> None:
    address = parse_mqtt_url(args.url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-raw-{os.getpid()}",
                         protocol=mqtt.MQTTv5)
    received, t_done = 0, 0.0
    subscribed, done = threading.Event(), threading.Event()

    def on_connect(c: mqtt.Client, *_a: object) -> None:
        c.subscribe(f"{args.prefix}/+/+/#", qos=1)

    def on_message(_c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        nonlocal received, t_done
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
    done.wait(300)
    say(t_done=t_done, count=received)
    sys.stdin.read()
    client.disconnect()
    client.loop_stop()


# ----------------------------------------------------------------------------------- kiosks

class Stream:
    """One open-loop stream: latencies (ms, from each request's intended send time) and what
    came back."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.latencies: list[float] = []
        self.statuses: dict[str, int] = {}

    def record(self, intended: float, status: str) -> None:
        self.latencies.append((time.monotonic() - intended) * 1000)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def pct(q: float) -> float:
            if not ordered:
                return float("nan")
            return ordered[max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5))) - 1]

        return {"count": len(ordered), "p50": pct(50), "p99": pct(99),
                "max": ordered[-1] if ordered else float("nan"), "statuses": self.statuses}


async def _open_loop(rate: float, seconds: float, send: Any) -> None:
    """Start ``send(intended)`` at ``rate`` per second for ``seconds``, never waiting for an
    answer before the next is due."""
    if rate <= 0:
        return
    tasks = set()
    start = time.monotonic()
    for k in itertools.count():
        intended = start + k / rate
        if intended - start >= seconds:
            break
        delay = intended - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.ensure_future(send(intended))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)


async def _staff_client(base: str) -> Any:
    import httpx

    client = httpx.AsyncClient(base_url=base, timeout=30)
    page = await client.get("/login")
    found = CSRF.search(page.text)
    assert found, "no CSRF token on /login"
    reply = await client.post("/login", data={"username": "staff", "password": "staff-demo",
                                              "csrf_token": found.group(1)})
    assert "sp_session" in client.cookies, f"staff sign-in failed: {reply.status_code}"
    return client


async def kiosks_main(plan: dict[str, Any], seconds: float) -> dict[str, Any]:
    import httpx

    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
    app_urls: list[str] = plan["app_urls"]
    filers = [httpx.AsyncClient(base_url=url, timeout=30, limits=limits) for url in app_urls]
    bare = httpx.AsyncClient(base_url=plan["bare_url"], timeout=30, limits=limits)
    staff = [await _staff_client(url) for url in app_urls]
    kiosks: list[dict[str, str]] = plan["kiosks"]
    streams = {name: Stream(name) for name in ("filing", "staff_page", "bare_post", "bare_get")}
    filed_per_site: dict[str, int] = {}
    picks = itertools.count()

    def body(kiosk: dict[str, str]) -> dict[str, Any]:
        return {"client_id": uuid.uuid4().hex, "category": "water_electric",
                "unit_code": kiosk["unit_code"], "answers": {"problem": "leak"},
                "contact_name": "王阿姨", "contact_phone": "13800001234", "channel": "kiosk"}

    async def file(intended: float) -> None:
        i = next(picks)
        kiosk = kiosks[i % len(kiosks)]
        client = filers[i % len(filers)]  # a proxy in front of the replicas would do the same
        try:
            reply = await client.post("/api/v1/requests", json=body(kiosk),
                                      headers={"X-Kiosk-Key": kiosk["key"]})
            status = str(reply.status_code)
            if reply.status_code in (200, 201):
                filed_per_site[kiosk["site_id"]] = filed_per_site.get(kiosk["site_id"], 0) + 1
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        streams["filing"].record(intended, status)

    page_turn = itertools.count()

    async def read_page(intended: float) -> None:
        client = staff[next(page_turn) % len(staff)]
        try:
            status = str((await client.get(plan.get("staff_path", "/staff"))).status_code)
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        streams["staff_page"].record(intended, status)

    async def bare_post(intended: float) -> None:
        try:
            status = str((await bare.post("/bare", json=body(kiosks[0]))).status_code)
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        streams["bare_post"].record(intended, status)

    async def bare_get(intended: float) -> None:
        try:
            status = str((await bare.get("/bare")).status_code)
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        streams["bare_get"].record(intended, status)

    filing_rate, page_rate = float(plan["filing_rate"]), float(plan["page_rate"])
    await asyncio.gather(_open_loop(filing_rate, seconds, file),
                         _open_loop(page_rate, seconds, read_page),
                         _open_loop(filing_rate, seconds, bare_post),
                         _open_loop(page_rate, seconds, bare_get))
    for client in (*filers, *staff, bare):
        await client.aclose()
    return {**{name: s.summary() for name, s in streams.items()},
            "filed_sites": len(filed_per_site), "filed": sum(filed_per_site.values())}


def kiosks(args: argparse.Namespace) -> None:
    with open(args.plan, encoding="utf-8") as f:
        plan = json.load(f)
    say(**asyncio.run(kiosks_main(plan, args.seconds)))


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="role", required=True)
    n = sub.add_parser("nodes")
    n.add_argument("--url", required=True)
    n.add_argument("--sites", type=int, default=200)
    n.add_argument("--rate", type=float, default=33.0)
    n.add_argument("--seconds", type=float, default=30.0)
    n.add_argument("--count", type=int, default=0)
    n.add_argument("--first-seq", type=int, default=1)
    n.add_argument("--prefix", default="servicepoint")
    r = sub.add_parser("raw")
    r.add_argument("--url", required=True)
    r.add_argument("--count", type=int, required=True)
    r.add_argument("--prefix", default="reference")
    k = sub.add_parser("kiosks")
    k.add_argument("--plan", required=True)
    k.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    {"nodes": nodes, "raw": raw, "kiosks": kiosks}[args.role](args)


if __name__ == "__main__":
    main()
