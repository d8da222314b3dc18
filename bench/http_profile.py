"""Where the time of one filing and one phone page goes, under load: the real app served by
uvicorn in this process with a cProfile in every thread (the event loop's and each worker
thread's), while wrk loads one route from its own process; then the profiles merged and the
biggest costs printed, per request.

    .venv/bin/python bench/http_profile.py                 # filing, then the phone page
    .venv/bin/python bench/http_profile.py --duration 5 --connections 20 --top 30

A profile slows Python code (about 1.5-2x here), so it says where the time goes, not how fast
it is: the timings come from bench/http_load.py and bench/http_open_loop.py. Setup as in
bench/http_load.py (demo SQLite database, ingest off, the per-address limits lifted).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import pstats
import subprocess
import sys
import threading
import time
import uuid

import _common
from http_load import POST_LUA, parse_wrk, wait_up

_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()
_go = threading.Event()  # set after the warm-up: profile from then on


def _new_profile() -> cProfile.Profile:
    # CPU time of the calling thread, not wall time: waits (for the GIL, for SQLite's lock, for
    # a worker thread) would otherwise swamp the work itself.
    profile = cProfile.Profile(time.thread_time)
    with _lock:
        _profiles.append(profile)
    return profile


def _profile_this_thread(*_args: object) -> None:
    """threading.setprofile's hook: once the warm-up is over, the next call in each thread
    gives that thread its own cProfile (one Profile object is not safe to share between
    threads), which replaces this hook for the rest of the thread's life."""
    if not _go.is_set():
        return
    sys.setprofile(None)
    _new_profile().enable()


def build_app(db_url: str, port: int, data_dir: str):  # type: ignore[no-untyped-def]
    from server.app import create_app
    from server.settings import load_server_settings

    settings = load_server_settings(_common.CONFIG / "servicepoint.toml", env={
        "SERVICEPOINT_DATABASE_URL": db_url, "SERVICEPOINT_DATA_DIR": data_dir,
        "SERVICEPOINT_ENVIRONMENT": "test", "SERVICEPOINT_INGEST__ENABLED": "false",
        "SERVICEPOINT_HTTP__PUBLIC_URL": f"http://127.0.0.1:{port}"})
    app = create_app(settings, background=False)
    app.state.track_limiter.limit = 10**9
    app.state.filing_limiters.per_address.limit = 10**9
    return app


def profile_route(name: str, url: str, script: str | None, *, db_url: str, workdir: str,
                  duration: int, connections: int, top: int) -> None:
    import uvicorn

    from tests.support.ports import free_port

    port = free_port()
    app = build_app(db_url, port, workdir)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           access_log=False))
    outcome: dict[str, float] = {}

    def load() -> None:
        base = f"http://127.0.0.1:{port}"
        wait_up(base + "/healthz")
        import httpx

        target = url
        if "{token}" in url:
            filed = httpx.post(base + "/api/v1/requests", json={
                "client_id": uuid.uuid4().hex, "category": "water_electric",
                "unit_code": "C01-B01-U1", "answers": {"problem": "leak"},
                "contact_name": "王阿姨", "channel": "kiosk"}, timeout=10).json()
            target = url.format(token=filed["phone_token"])
        def wrk(seconds: int, tag: str) -> dict[str, float]:
            command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
            if script is not None:
                command += ["-s", script]
            command += [base + target, "--", tag + uuid.uuid4().hex[:6]]
            return parse_wrk(subprocess.run(command, capture_output=True, text=True,
                                            timeout=seconds + 60).stdout)

        wrk(2, "warm")  # templates compiled, statements cached, threads started
        _go.set()
        loop.call_soon_threadsafe(lambda: _new_profile().enable())  # the event loop's thread
        started = time.perf_counter()
        outcome.update(wrk(duration, "p"))
        outcome["elapsed"] = time.perf_counter() - started
        server.should_exit = True

    async def serve() -> None:
        nonlocal loop
        loop = asyncio.get_running_loop()
        threading.Thread(target=load, daemon=True).start()
        await server.serve()

    loop: asyncio.AbstractEventLoop
    threading.setprofile(_profile_this_thread)
    asyncio.run(serve())
    threading.setprofile(None)  # type: ignore[arg-type]
    _go.clear()
    elapsed = outcome.get("elapsed", 0.0)
    with _lock:
        for p in _profiles:
            p.disable()
        profiles, _profiles[:] = list(_profiles), []
    stats = pstats.Stats(profiles[0])
    for p in profiles[1:]:
        with contextlib.suppress(TypeError):  # a thread that never ran a profiled call
            stats.add(p)
    served = outcome.get("requests", 0.0)
    print(f"\n=== {name}: {served:.0f} requests in {elapsed:.1f} s under profile "
          f"({outcome.get('rps', 0):.0f} req/s, wrk -c{connections}); "
          f"{len(profiles)} threads profiled; CPU time of all of them "
          f"{sum(pstats.Stats(p).total_tt for p in profiles) / max(served, 1) * 1e3:.1f} ms "
          "per request")
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(top)
    print(_per_request(out.getvalue(), served, "self time"))
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("cumulative").print_stats(top)
    print(_per_request(out.getvalue(), served, "cumulative"))


def _per_request(text: str, served: float, kind: str) -> str:
    """pstats' table with the CPU seconds turned into microseconds per served request."""
    lines = [f"--- by {kind}: µs per request (tottime, cumtime), calls per request, function"]
    for line in text.splitlines():
        parts = line.split(None, 5)
        if len(parts) != 6 or not parts[0].replace("/", "").isdigit():
            continue
        try:
            tottime, cumtime = float(parts[1]), float(parts[3])
        except ValueError:  # the "N function calls in S seconds" line
            continue
        calls = int(parts[0].split("/")[0])
        lines.append(f"{tottime / served * 1e6:9.0f} {cumtime / served * 1e6:9.0f}"
                     f" {calls / served:7.1f}  {parts[5]}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--only", choices=["filing", "phone"])
    args = parser.parse_args()
    if args.only is None:  # each route in a fresh process: a second server in one process
        for only in ("filing", "phone"):  # after the first answered nothing here
            subprocess.run([sys.executable, __file__, "--only", only, "--duration",
                            str(args.duration), "--connections", str(args.connections),
                            "--top", str(args.top)], check=False)
        return
    workdir = _common.temp_dir("sp-bench-profile-")
    print(f"machine: {_common.machine()}")
    db_url = f"sqlite:///{workdir / 'servicepoint.db'}"
    _common.prepare_database(db_url)
    script = workdir / "post.lua"
    script.write_text('PATH = "/api/v1/requests"\n' + POST_LUA)
    routes = {"filing": ("POST /api/v1/requests", "/api/v1/requests", str(script)),
              "phone": ("GET /r/<token> (phone page)", "/r/{token}", None)}
    for key, (name, url, lua) in routes.items():
        if args.only == key:
            profile_route(name, url, lua, db_url=db_url, workdir=str(workdir),
                          duration=args.duration, connections=args.connections, top=args.top)


if __name__ == "__main__":
    main()
