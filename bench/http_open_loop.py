"""HTTP latency measured open-loop: requests sent at a fixed offered rate, each one's latency
counted from the moment it was due to be sent, so a server that stalls shows the queue it made.

wrk keeps N connections busy (a closed loop): when the server slows down, wrk slows down with it
and its latency only mirrors throughput. Here the schedule does not wait for the server: request
i is due at start + i/rate whatever happened to request i-1; if no connection is free, another is
opened. p50 and p99 are from due time to the last byte of the answer.

    .venv/bin/python bench/http_open_loop.py                     # 100 req/s, 10 s, 3 runs
    .venv/bin/python bench/http_open_loop.py --runs 1 --sweep 50,100,150,200,300,400

Against the real app as ``servicepoint server`` runs it (bench/http_load.py's app role: 2 worker
processes by default, SQLite demo database, ingest off, per-address limits lifted), for filing
(POST /api/v1/requests, a fresh client_id each) and the phone page (GET /r/<token>), and the
same generator against a bare FastAPI app (one process) as the reference. The sweep reports where
p99 crosses 100 ms. The generator is one asyncio process with raw HTTP/1.1 keep-alive connections;
it says how late it was itself (its own send lag is part of every latency, so it never flatters).
Target (issue 21): p99 <= 50 ms at 100 req/s for filing and for the phone page.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import _common
from _common import median, percentile, spawn, summary_line
from http_load import tree_cpu_s, wait_quiet, wait_up

BODY = ('{{"client_id":"{cid}","category":"water_electric","unit_code":"C01-B01-U1",'
        '"answers":{{"problem":"leak"}},"contact_name":"王阿姨","contact_phone":"13800001234",'
        '"channel":"kiosk"}}')
MAX_CONNECTIONS = 400  # past this many in flight the server has fallen over: stop opening more


@dataclass
class Outcome:
    latencies_ms: list[float] = field(default_factory=list)
    send_lag_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    connections: int = 0


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request, read the whole answer; its status and body."""
        self.writer.write(request)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length, close = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
            elif name == "transfer-encoding":
                raise RuntimeError("chunked answers are not expected here")
        body = await self.reader.readexactly(length)
        if close:
            raise ConnectionResetError("server closed the connection")
        return status, body


def build_request(method: str, path: str, host: str, body: str | None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n"
    if body is None:
        return (head + "\r\n").encode()
    data = body.encode()
    return (head + f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
            ).encode() + data


Answered = Callable[[int, int, bytes, float], None]  # index, status, body, perf_counter()


async def open_loop(host: str, port: int, method: str, path: str, *, rate: float,
                    duration: float, post: bool, answered: Answered | None = None) -> Outcome:
    """Send ``rate * duration`` requests on the schedule; ``answered`` hears of each answer."""
    outcome = Outcome()
    idle: list[Connection] = []
    prefix = uuid.uuid4().hex[:8]
    address = f"{host}:{port}"

    async def one(index: int, due: float) -> None:
        outcome.send_lag_ms.append((time.perf_counter() - due) * 1000)
        connection = idle.pop() if idle else None
        try:
            if connection is None:
                if outcome.connections >= MAX_CONNECTIONS:
                    raise ConnectionError("too many connections in flight")
                outcome.connections += 1
                connection = Connection(*await asyncio.open_connection(host, port))
            body = BODY.format(cid=f"ol-{prefix}-{index}") if post else None
            status, answer = await connection.exchange(
                build_request(method, path, address, body))
        except (OSError, ValueError, IndexError, RuntimeError, asyncio.IncompleteReadError):
            outcome.errors += 1
            if connection is not None:
                connection.writer.close()
            return
        now = time.perf_counter()
        outcome.latencies_ms.append((now - due) * 1000)
        if answered is not None:
            answered(index, status, answer, now)
        outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
        idle.append(connection)

    tasks = []
    start = time.perf_counter() + 0.05
    total = int(rate * duration)
    for index in range(total):
        due = start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, due)))
    done, pending = await asyncio.wait(tasks, timeout=30)
    outcome.errors += len(pending)  # still unanswered 30 s after the last was due
    for task in pending:
        task.cancel()
    for connection in idle:
        connection.writer.close()
    return outcome


def run_generator(url: str, method: str, *, rate: float, duration: float) -> dict[str, float]:
    """The generator in its own process (so the driver's own work never delays a send)."""
    out = subprocess.run(
        [_common.PYTHON, __file__, "--role", "generator", "--url", url, "--method", method,
         "--rate", str(rate), "--duration", str(duration)],
        capture_output=True, text=True, timeout=duration + 120)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"generator failed: {out.stderr[-2000:]}")
    result: dict[str, float] = json.loads(lines[-1])
    return result


def generator_main(url: str, method: str, rate: float, duration: float) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    outcome = asyncio.run(open_loop(parts.hostname or "127.0.0.1", parts.port or 80, method,
                                    parts.path, rate=rate, duration=duration,
                                    post=method == "POST"))
    lat = outcome.latencies_ms or [float("inf")]
    good = sum(n for status, n in outcome.statuses.items() if 200 <= status < 300)
    print(json.dumps({
        "sent": len(outcome.send_lag_ms), "ok": good, "errors": outcome.errors,
        "non2xx": sum(outcome.statuses.values()) - good, "connections": outcome.connections,
        "p50": percentile(lat, 50), "p99": percentile(lat, 99), "max": max(lat),
        "lag_p99": percentile(outcome.send_lag_ms or [0.0], 99)}))


def describe(result: dict[str, float]) -> str:
    note = ""
    if result["errors"] or result["non2xx"]:
        note += f"  errors {result['errors']:.0f}, non-2xx {result['non2xx']:.0f}"
    if result["lag_p99"] > 5:
        note += f"  (generator itself late: p99 {result['lag_p99']:.1f} ms)"
    return (f"p50 {result['p50']:7.1f} ms  p99 {result['p99']:8.1f} ms  max "
            f"{result['max']:8.1f} ms  server CPU {result.get('cpu_ms', 0):5.2f} ms/request  "
            f"connections {result['connections']:.0f}{note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100.0, help="offered requests/s")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sweep", default="25,50,100,150,200,300",
                        help="rates for the sweep (comma-separated; empty: no sweep)")
    parser.add_argument("--workers", type=int, default=2, help="app worker processes")
    parser.add_argument("--role", default="driver", choices=["driver", "generator"])
    parser.add_argument("--url")
    parser.add_argument("--method", default="GET")
    args = parser.parse_args()
    if args.role == "generator":
        generator_main(args.url, args.method, args.rate, args.duration)
        return

    import httpx

    from tests.support.ports import free_port

    workdir = _common.temp_dir("sp-bench-openloop-")
    print(f"machine: {_common.machine()}")
    print(f"open loop: {args.rate:g} req/s offered for {args.duration:g} s, {args.runs} runs; "
          f"app: {args.workers} worker process(es); bare FastAPI: 1 process\n", flush=True)
    db_url = f"sqlite:///{workdir / 'servicepoint.db'}"
    _common.prepare_database(db_url)
    app_port, bare_port = free_port(), free_port()
    load = str(_common.REPO / "bench" / "http_load.py")
    app = spawn(load, "--role", "app", "--db", db_url, "--port", str(app_port),
                "--data-dir", str(workdir), "--workers", str(args.workers))
    bare = spawn(load, "--role", "bare", "--port", str(bare_port))
    results: dict[str, list[dict[str, float]]] = {}
    sweep: dict[str, list[tuple[float, dict[str, float]]]] = {}
    try:
        app_url, bare_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}"
        wait_up(app_url + "/healthz", timeout=120)  # workers start slowly on a busy machine
        wait_up(bare_url + "/bare")
        filed = httpx.post(app_url + "/api/v1/requests", json={
            "client_id": uuid.uuid4().hex, "category": "water_electric",
            "unit_code": "C01-B01-U1", "answers": {"problem": "leak"},
            "contact_name": "王阿姨", "channel": "kiosk"}, timeout=10).json()
        phone = f"{app_url}/r/{filed['phone_token']}"
        scenarios = {"filing": (app_url + "/api/v1/requests", "POST", app_url),
                     "phone page": (phone, "GET", app_url),
                     "bare POST": (bare_url + "/bare", "POST", bare_url),
                     "bare GET": (bare_url + "/bare", "GET", bare_url)}

        def measure(name: str, rate: float) -> dict[str, float]:
            url, method, base = scenarios[name]
            server = app if base == app_url else bare
            cpu_before = tree_cpu_s(server.pid)
            result = run_generator(url, method, rate=rate, duration=args.duration)
            wait_quiet(base + ("/healthz" if base == app_url else "/bare"))
            result["cpu_ms"] = ((tree_cpu_s(server.pid) - cpu_before) * 1000
                                / max(result["sent"], 1))
            return result

        for run in range(args.runs):
            for name in scenarios:
                result = measure(name, args.rate)
                results.setdefault(name, []).append(result)
                print(f"run {run + 1} {name:11s} at {args.rate:g}/s: {describe(result)}",
                      flush=True)
        rates = [float(r) for r in args.sweep.split(",") if r.strip()]
        if rates:
            print("\nsweep (one run per rate; stops for a scenario once p99 passes 1 s or "
                  "more than 1 % fail):")
        for name in ("filing", "phone page", "bare POST"):
            for rate in rates:
                result = measure(name, rate)
                sweep.setdefault(name, []).append((rate, result))
                print(f"  {name:11s} at {rate:5g}/s: {describe(result)}", flush=True)
                if result["p99"] > 1000 or result["errors"] > result["sent"] / 100:
                    break
    finally:
        for proc in (app, bare):
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    print(f"\nmedians over runs at {args.rate:g} req/s (target: p99 <= 50 ms):")
    for name, rows in results.items():
        each = ", ".join(f"{r['p99']:.1f}" for r in rows)
        print(f"  {name:11s} p50 {median(r['p50'] for r in rows):6.1f} ms   p99 "
              f"{median(r['p99'] for r in rows):7.1f} ms   ({each})   server CPU "
              f"{median(r['cpu_ms'] for r in rows):.2f} ms/request")
    if sweep:
        print("\nwhere p99 crosses 100 ms:")
        for name, points in sweep.items():
            over = [rate for rate, r in points
                    if r["p99"] > 100 or r["errors"] > r["sent"] / 100]
            below = [rate for rate, _ in points if not over or rate < min(over)]
            where = (f"between {max(below, default=0):g} and {min(over):g} req/s" if over
                     else f"not within the sweep (up to {points[-1][0]:g} req/s)")
            print(f"  {name:11s} {where}")
    print()
    for name, bare_name, figure in (("filing", "bare POST", "http-filing-p99-open-loop"),
                                    ("phone page", "bare GET", "http-phone-p99-open-loop")):
        print(summary_line(
            figure, median(r["p99"] for r in results[name]), "ms", measure="value",
            reference=median(r["p99"] for r in results[bare_name]), at_most=50,
            what=f"{name.capitalize()} p99 at {args.rate:g} req/s offered (open loop, "
                 f"{args.workers} workers; reference: bare FastAPI)"))


if __name__ == "__main__":
    main()
