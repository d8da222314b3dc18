"""``servicepoint demo``: the whole system on one machine, with the embedded defaults.

It starts, as child processes, a private Mosquitto broker on loopback, the server on a SQLite
file in the data folder (migrated and seeded with the demo site), the simulated sensor node, and
the kiosk (in a window where there is a screen; offscreen with a screenshot where there is none).
It prints where to look, and on Ctrl-C stops every child it started and leaves nothing behind.

    servicepoint demo                 # until Ctrl-C
    servicepoint demo --duration 60   # stop by itself after a minute
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

from servicepoint.settings import load_settings

__all__ = ["main"]

log = logging.getLogger("servicepoint.demo")


@dataclass
class Child:
    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log_path.open("ab")
        self.process = subprocess.Popen(self.argv, stdout=handle, stderr=subprocess.STDOUT,
                                        env={**os.environ, **self.env}, start_new_session=True)
        log.info("started %s (pid %s), log: %s", self.name, self.process.pid, self.log_path)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        log.info("stopped %s", self.name)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _free_port_from(start: int) -> int:
    port = start
    while not _port_free(port):
        port += 1
    return port


def _wait_http(url: str, child: Child, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(f"{child.name} exited; see {child.log_path}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{child.name} did not answer at {url} within {timeout:.0f}s")


def _broker(workdir: Path, port: int) -> Child | None:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        log.warning("mosquitto is not installed: the demo runs without sensors")
        return None
    store = workdir / "mosquitto"
    store.mkdir(parents=True, exist_ok=True)
    config = workdir / "mosquitto.conf"
    # Loopback only and anonymous: this broker is private to the demo. A deployment uses
    # config/mosquitto/ with passwords and ACLs.
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {store}/\nlog_dest stdout\nlog_type error\nlog_type warning\n"
        "log_type notice\n")
    return Child("broker", [binary, "-c", str(config)], workdir / "logs" / "broker.log")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="servicepoint demo", description=__doc__.split("\n\n")[0],
        epilog="Example: servicepoint demo --duration 120")
    parser.add_argument("--duration", type=float, default=None,
                        help="stop by itself after this many seconds")
    parser.add_argument("--port", type=int, default=None, help="HTTP port (default 8080)")
    parser.add_argument("--no-kiosk", action="store_true", help="do not start the kiosk")
    parser.add_argument("--no-sensors", action="store_true", help="do not start the sensors")
    args = parser.parse_args(argv)

    settings = load_settings()
    workdir = settings.data_dir / "demo"
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    http_port = args.port or _free_port_from(settings.http.port)
    base_url = f"http://127.0.0.1:{http_port}"
    mqtt_port = _free_port_from(18830)
    env = {
        "SERVICEPOINT_DATA_DIR": str(settings.data_dir),
        "SERVICEPOINT_MQTT_URL": f"mqtt://127.0.0.1:{mqtt_port}",
        "SERVICEPOINT_HTTP__PORT": str(http_port),
        "SERVICEPOINT_HTTP__PUBLIC_URL": base_url,
        "SERVICEPOINT_KIOSK__SERVER_URL": base_url,
    }
    if settings.source:
        env["SERVICEPOINT_CONFIG"] = settings.source
    python = [sys.executable, "-m", "servicepoint"]

    seeded = subprocess.run([*python, "seed", "--demo"], env={**os.environ, **env},
                            capture_output=True, text=True)
    if seeded.returncode != 0:
        log.error("could not prepare the demo database:\n%s", seeded.stderr[-2000:])
        return 1
    log.info("%s", seeded.stdout.strip())

    children: list[Child] = []
    broker = _broker(workdir, mqtt_port)
    if broker is not None:
        children.append(broker)
    server = Child("server", [*python, "server", "--port", str(http_port)],
                   workdir / "logs" / "server.log", env)
    children.append(server)
    if broker is not None and not args.no_sensors and _has_module("sensors.cli"):
        scenario = Path(settings.sensors_file).parent / "scenarios" / "demo.toml"
        sensor_argv = [*python, "sensors", "--simulate"]
        if scenario.exists():
            sensor_argv += ["--scenario", str(scenario)]
        children.append(Child("sensors", sensor_argv, workdir / "logs" / "sensors.log", env))
    if not args.no_kiosk and _has_module("kiosk.app"):
        kiosk_env = dict(env)
        kiosk_argv = [*python, "kiosk"]
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            kiosk_env.update({"SDL_VIDEODRIVER": "offscreen", "KIVY_WINDOW": "sdl2"})
            kiosk_argv += ["--screenshot", str(workdir / "kiosk.png")]
        children.append(Child("kiosk", kiosk_argv, workdir / "logs" / "kiosk.log", kiosk_env))

    stopping = False

    def _stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        for child in children:
            child.start()
            if child is server:
                _wait_http(base_url + "/healthz", server)
        _announce(base_url, workdir, children)
        started = time.monotonic()
        while not stopping:
            for child in children:
                if not child.alive() and child.name != "kiosk":
                    log.error("%s stopped unexpectedly; see %s", child.name, child.log_path)
                    stopping = True
            if args.duration is not None and time.monotonic() - started > args.duration:
                break
            time.sleep(0.5)
    finally:
        for child in reversed(children):
            child.stop()
    log.info("demo stopped; logs are in %s", workdir / "logs")
    return 0


def _has_module(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _announce(base_url: str, workdir: Path, children: list[Child]) -> None:
    names = ", ".join(c.name for c in children)
    lines = [
        "",
        "  servicepoint demo is running: " + names,
        f"  API and docs:        {base_url}/docs",
        f"  Open311:             {base_url}/open311/v2/services.json",
        f"  Resident phone page: {base_url}/r/<token>  (printed when a request is filed)",
        "  Sign-ins: admin/admin-demo, staff/staff-demo, leader1..4/leader-demo,",
        "            lijianguo/volunteer-demo (a volunteer of squad 1)",
        f"  Logs:                {workdir / 'logs'}",
        "  Stop with Ctrl-C.",
        "",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
