"""HTTP under load: filing requests (POST /api/v1/requests) and reading the phone page
(GET /r/<token>) with 100 concurrent connections from wrk in its own process, against a bare
endpoint of the same framework (FastAPI + uvicorn, same options) in the same run.

    .venv/bin/python bench/http_load.py                  # 3 runs, 10 s per scenario
    .venv/bin/python bench/http_load.py --runs 5 --duration 20 --connections 100

Needs wrk (Debian: ``sudo apt-get install wrk``). The server is the real app on a SQLite demo
database, served by uvicorn as ``servicepoint server`` does: ``--workers 2`` (the default here,
what ``http.workers = 0`` gives a Pi 4/5) runs two worker processes, one holding the duties, as
server/workers.py builds them; ``--workers 1`` is the single process of ``server.app.serve``. No
access log, the sensor ingest off. The bare reference is always one process. Two deliberate
changes, both said in the output: the per-address limit on phone-token lookups (60 a minute)
is lifted, because wrk comes from one address while real phones come from many; and each POST
carries a fresh client_id, so every one files a new request (a retry with the same id would be
answered from the database without writing).

Printed per scenario: requests/s, p50 and p99 latency (wrk --latency), non-2xx answers and socket
errors; then the ratios to the bare endpoint. Targets: p99 <= 50 ms at 100 concurrent, and
throughput >= 0.3 of bare.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import _common
from _common import median, spawn, summary_line
from pydantic import BaseModel

POST_LUA = r"""
local counter = 0
local prefix = "wrk"
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
end
function init(args)
  prefix = args[1] or "wrk"
end
request = function()
  counter = counter + 1
  local body = string.format('{"client_id":"%s-%d-%d","category":"water_electric",' ..
    '"unit_code":"C01-B01-U1","answers":{"problem":"leak"},"contact_name":"王阿姨",' ..
    '"contact_phone":"13800001234","channel":"kiosk"}', prefix, tid, counter)
  return wrk.format("POST", PATH, {["Content-Type"] = "application/json"}, body)
end
"""


# ------------------------------------------------------------------------------ server roles

def _bench_env(db_url: str, port: int, data_dir: str) -> dict[str, str]:
    return {"SERVICEPOINT_DATABASE_URL": db_url, "SERVICEPOINT_DATA_DIR": data_dir,
            "SERVICEPOINT_ENVIRONMENT": "test", "SERVICEPOINT_INGEST__ENABLED": "false",
            "SERVICEPOINT_HTTP__PUBLIC_URL": f"http://127.0.0.1:{port}"}


def _lift_limits(app: Any) -> Any:
    app.state.track_limiter.limit = 10**9  # wrk is one address; phones are many
    app.state.filing_limiters.per_address.limit = 10**9  # and so are the kiosks it stands for
    return app


def bench_app() -> Any:
    """uvicorn's factory in each worker process when the app runs with --workers > 1: the
    app exactly as ``servicepoint server`` builds it in a worker (server/workers.py), with the
    limits lifted; the settings come from the environment serve_app put them in."""
    from server import workers
    from server.settings import load_server_settings

    settings = load_server_settings(_common.CONFIG / "servicepoint.toml")
    lease = workers.DutiesLease(settings.data_dir / workers.LEASE_FILE)
    bench_app.lease = lease  # type: ignore[attr-defined]  # held as long as the worker lives
    app = _lift_limits(workers.build_app(settings, duties=lease.take()))
    gc.collect()
    gc.freeze()
    return app


def serve_app(db_url: str, port: int, data_dir: str, workers: int = 1) -> None:
    """The app as ``servicepoint server`` serves it: one process, or ``workers`` processes
    with one of them holding the duties (server/workers.py)."""
    from server.settings import load_server_settings

    env = _bench_env(db_url, port, data_dir)
    if workers > 1:
        import uvicorn

        os.environ.update(env)
        uvicorn.run("http_load:bench_app", factory=True, workers=workers, host="127.0.0.1",
                    port=port, log_config=None, access_log=False, proxy_headers=False)
        return
    from server.app import create_app, serve

    settings = load_server_settings(_common.CONFIG / "servicepoint.toml", env=env)
    try:  # as servicepoint server builds it: with the duties (the notice courier among them)
        from server.workers import build_app
    except ImportError:  # a commit from before worker processes, for comparison
        app = create_app(settings)
    else:
        app = build_app(settings, duties=True)
    serve(_lift_limits(app), host="127.0.0.1", port=port)


class Filed(BaseModel):
    """The bare endpoint's body: the same JSON the real one takes, validated and nothing else.
    At module level: with postponed annotations FastAPI cannot see a class local to a function
    and would take ``body`` for a query parameter (every bare POST a 422)."""

    client_id: str
    category: str
    unit_code: str
    answers: dict[str, str]
    contact_name: str
    contact_phone: str
    channel: str


def serve_bare(port: int) -> None:
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/bare")
    def bare_get() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/bare", status_code=201)
    def bare_post(body: Filed) -> dict[str, str]:
        return {"client_id": body.client_id, "status": "new"}

    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


# ----------------------------------------------------------------------------------- driver

def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and all its descendants (the
    uvicorn supervisor and its workers). Unlike requests/s, CPU per request hardly depends on
    what else the machine is doing, so it is the figure to compare on a shared machine."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        child = int(stat.parent.name)
        parents[child] = int(fields[1])
        ticks[child] = int(fields[11]) + int(fields[12])
    family, grew = {pid}, True
    while grew:
        more = {c for c, p in parents.items() if p in family} - family
        family |= more
        grew = bool(more)
    return sum(ticks.get(p, 0) for p in family) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, *, connections: int, duration: int, threads: int, script: Path | None,
        args: tuple[str, ...] = ()) -> dict[str, float]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
               "--timeout", "10s"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(url)
    if args:
        command += ["--", *args]
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60).stdout
    return parse_wrk(out)


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(out: str) -> dict[str, float]:
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for q in ("50", "99"):
        found = re.search(rf"^\s+{q}%\s+(\S+)", out, re.MULTILINE)
        result[f"p{q}"] = _ms(found.group(1)) if found else float("nan")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non2xx"] = float(non2xx.group(1)) if non2xx else 0.0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["errors"] = float(sum(int(x) for x in errors.groups())) if errors else 0.0
    result["requests"] = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    if not result["requests"]:  # wrk prints 0 latencies when nothing came back: not "fast"
        result["p50"] = result["p99"] = float("inf")
    return result


def wait_up(url: str, timeout: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(url)


def wait_quiet(url: str, timeout: float = 120) -> float:
    """Wait until the server answers ``url`` promptly again (requests wrk left behind have been
    worked off), so one scenario's backlog is not charged to the next. Returns the wait."""
    import httpx

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        started = time.monotonic()
        try:
            if httpx.get(url, timeout=5).status_code < 500 and time.monotonic() - started < 0.5:
                return time.monotonic() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return time.monotonic() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--role", default="driver", choices=["driver", "app", "bare"])
    parser.add_argument("--db")
    parser.add_argument("--port", type=int)
    parser.add_argument("--data-dir")
    parser.add_argument("--workers", type=int, default=2,
                        help="server processes, as http.workers (2: what a Pi 4/5 runs)")
    args = parser.parse_args()
    if args.role == "app":
        serve_app(args.db, args.port, args.data_dir, args.workers)
        return
    if args.role == "bare":
        serve_bare(args.port)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: sudo apt-get install wrk")

    from tests.support.ports import free_port

    workdir = _common.temp_dir("sp-bench-http-")
    print(f"machine: {_common.machine()}")
    print(f"{args.runs} runs, {args.duration} s per scenario, {args.connections} connections, "
          f"wrk -t{args.threads}; app: {args.workers} worker process(es), bare: 1; "
          "phone-token rate limit lifted; a fresh client_id per POST\n",
          flush=True)
    db_url = f"sqlite:///{workdir / 'servicepoint.db'}"
    _common.prepare_database(db_url)
    app_port, bare_port = free_port(), free_port()
    app = spawn(__file__, "--role", "app", "--db", db_url, "--port", str(app_port),
                "--data-dir", str(workdir), "--workers", str(args.workers))
    bare = spawn(__file__, "--role", "bare", "--port", str(bare_port))
    results: dict[str, list[dict[str, float]]] = {}
    try:
        app_url, bare_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}"
        wait_up(app_url + "/healthz", timeout=120)  # workers start slowly on a busy machine
        wait_up(bare_url + "/bare")
        import httpx

        filed = httpx.post(app_url + "/api/v1/requests", json={
            "client_id": uuid.uuid4().hex, "category": "water_electric",
            "unit_code": "C01-B01-U1", "answers": {"problem": "leak"},
            "contact_name": "王阿姨", "channel": "kiosk"}, timeout=10).json()
        phone = f"/r/{filed['phone_token']}"
        assert httpx.get(app_url + phone, timeout=10).status_code == 200
        scripts = {}
        for name, path in (("app", "/api/v1/requests"), ("bare", "/bare")):
            scripts[name] = workdir / f"post-{name}.lua"
            scripts[name].write_text(f'PATH = "{path}"\n' + POST_LUA)
        scenarios = {
            "POST /api/v1/requests": (app_url + "/api/v1/requests", scripts["app"]),
            "GET /r/<token> (phone)": (app_url + phone, None),
            "bare POST": (bare_url + "/bare", scripts["bare"]),
            "bare GET": (bare_url + "/bare", None),
        }
        for run in range(args.runs):
            for name, (url, script) in scenarios.items():
                server = app if url.startswith(app_url) else bare
                cpu_before = tree_cpu_s(server.pid)
                result = wrk(url, connections=args.connections, duration=args.duration,
                             threads=args.threads, script=script,
                             args=(f"r{run}-{uuid.uuid4().hex[:6]}",) if script else ())
                waited = wait_quiet((app_url if url.startswith(app_url) else bare_url)
                                    + ("/healthz" if url.startswith(app_url) else "/bare"))
                # Includes the backlog worked off after wrk stopped (those requests were
                # counted by wrk only if answered in time: a slight overestimate when busy).
                result["cpu_ms"] = ((tree_cpu_s(server.pid) - cpu_before) * 1000
                                    / max(result["requests"], 1))
                results.setdefault(name, []).append(result)
                note = ("  NO REQUEST COMPLETED (server stalled)" if not result["requests"]
                        else "")
                if waited > 1:
                    note += f"  (server busy {waited:.0f} s after wrk stopped)"
                print(f"run {run + 1} {name:24s} {result['rps']:7.0f} req/s  p50 "
                      f"{result['p50']:6.1f} ms  p99 {result['p99']:7.1f} ms  server CPU "
                      f"{result['cpu_ms']:5.2f} ms/request  non-2xx "
                      f"{result['non2xx']:.0f}  socket errors {result['errors']:.0f}{note}",
                      flush=True)
    finally:
        for proc in (app, bare):  # uvicorn does not watch stdin: ask it to stop with SIGTERM
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    print("\nmedians over runs:")
    for name, rows in results.items():
        print(f"  {name:24s} {median(r['rps'] for r in rows):7.0f} req/s   p99 "
              f"{median(r['p99'] for r in rows):7.1f} ms   (p50 "
              f"{median(r['p50'] for r in rows):.1f} ms)   server CPU "
              f"{median(r['cpu_ms'] for r in rows):.2f} ms/request")
    print("\nratios to bare (per run, then median); targets: p99 <= 50 ms, >= 0.3 of bare:")
    for name, bare_name in (("POST /api/v1/requests", "bare POST"),
                            ("GET /r/<token> (phone)", "bare GET")):
        per_run = [a["rps"] / b["rps"] for a, b in zip(results[name], results[bare_name],
                                                          strict=True)]
        print(f"  {name:24s} / {bare_name:9s} = {median(per_run):.2f} "
              f"({', '.join(f'{x:.2f}' for x in per_run)})")
    print()
    for name, bare_name, figure, what in (
            ("POST /api/v1/requests", "bare POST", "http-filing-throughput",
             "Filing, 100 connections (wrk), vs bare FastAPI"),
            ("GET /r/<token> (phone)", "bare GET", "http-phone-throughput",
             "Phone page, 100 connections (wrk), vs bare FastAPI")):
        print(summary_line(figure, median(r["rps"] for r in results[name]), "req/s",
                           reference=median(r["rps"] for r in results[bare_name]),
                           at_least=0.3, what=what + f" ({args.workers} workers)"))


if __name__ == "__main__":
    main()
