"""``servicepoint demo``: the whole system on one machine, playing a short scripted story.

It starts, as child processes, a private Mosquitto broker on loopback, the server on a fresh
SQLite database (migrated and seeded with the demo site), the simulated sensor node, and the
kiosk (in a window where there is a screen, offscreen where there is none). Then it plays a story
in its first two minutes and prints what happens and where to look:

1. the tank drains below its low-level line: a maintenance ticket and an alert;
2. an extinguisher is taken out of its bay: an urgent ticket and alert;
3. a resident files a water-repair request at the kiosk, tapping its screen (the kiosk plays
   the taps: ``servicepoint kiosk --demo-resident``); the squad leader dispatches it to a
   proposed volunteer, who accepts it (居民点单、分队下单、党员接单).

Steps 1 and 2 come from the sensors' scenario (config/scenarios/demo-story.toml) and the
server's demo rules (config/scenarios/demo-rules.toml: durations of seconds, not minutes);
in step 3 the kiosk files the request through its outbox as for any resident, and the demo
plays the squad leader and the volunteer through the server's HTTP API, as their phones would
(with no kiosk, ``--no-kiosk``, it files the request over HTTP as the kiosk would). On Ctrl-C (or
after ``--duration``) it stops every child it started, and their children, and leaves nothing
behind. Each run starts afresh in ``<data_dir>/demo/``; logs are in ``<data_dir>/demo/logs/``.

    servicepoint demo                 # until Ctrl-C
    servicepoint demo --duration 180  # stop by itself after three minutes
    servicepoint demo --fast          # the same story at 0.4 x the times (for tests)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from kiosk.settings import load_kiosk_settings
from server.settings import load_server_settings

__all__ = ["main"]

log = logging.getLogger("servicepoint.demo")

FAST = 0.4  # --fast: every time of the story, and every rule duration, times this
STORY_FILE = "demo-story.toml"
RULES_FILE = "demo-rules.toml"


@dataclass
class Child:
    """One process the demo starts, in its own process group so that it and anything it
    starts can be stopped together."""

    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log_path.open("ab")
        self.process = subprocess.Popen(self.argv, stdout=handle, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env={**os.environ, **self.env},
                                        start_new_session=True)
        handle.close()
        log.info("started %s (pid %s), log: %s", self.name, self.process.pid, self.log_path)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        pid = self.process.pid
        if self.alive():
            _signal_group(pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0fs; killing it", self.name, timeout)
        # Whatever is left in its group (the process itself, or anything it started) goes now.
        _signal_group(pid, signal.SIGKILL)
        self.process.wait()
        log.info("stopped %s", self.name)


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(pid, signum)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _free_port_from(start: int) -> int:
    port = start
    while not _port_free(port):
        port += 1
    return port


def _wait_http(url: str, child: Child, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(f"{child.name} exited; see {child.log_path}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
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
    lines = [f"listener {port} 127.0.0.1", "allow_anonymous true", "persistence true",
             f"persistence_location {store}/", "log_dest stdout", "log_type error",
             "log_type warning", "log_type notice"]
    if os.geteuid() == 0:
        # As root Mosquitto drops to the `mosquitto` user, which cannot write the store here.
        lines.append("user root")
    config.write_text("\n".join(lines) + "\n")
    return Child("broker", [binary, "-c", str(config)], workdir / "logs" / "broker.log")


# --- the story's files -----------------------------------------------------------------------

def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


def _scaled_scenario(source: Path, target: Path, factor: float) -> Path:
    """The sensors' scenario with every step's time multiplied by ``factor``."""
    raw = tomllib.loads(source.read_text(encoding="utf-8"))
    lines = [f"# {source.name} at {factor} x its times (written by servicepoint demo --fast)"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in raw.items() if not isinstance(v, list)]
    for step in raw.get("step", []):
        lines.append("\n[[step]]")
        for key, value in step.items():
            value = round(value * factor, 1) if key == "at" else value
            lines.append(f"{key} = {_toml_value(value)}")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def _scaled_rules(source: Path, target: Path, factor: float) -> Path:
    """The demo rules with every duration (``*_after_s``) multiplied by ``factor``."""
    raw = tomllib.loads(source.read_text(encoding="utf-8"))
    lines = [f"# {source.name} at {factor} x its durations (written by servicepoint demo --fast)"]
    for section, keys in raw.items():
        lines.append(f"\n[{section}]")
        for key, value in keys.items():
            if key.endswith("_after_s"):
                value = max(1.0, round(value * factor, 1))
            lines.append(f"{key} = {_toml_value(value)}")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


# --- the story the supervisor plays itself ---------------------------------------------------

class Story(threading.Thread):
    """Watches the server and plays the resident's and the volunteers' part of the story.

    Every second it prints tickets and alerts that are new (as staff would see them), and at
    its times it files a request the way the kiosk does, dispatches it as the squad leader and
    accepts it as the volunteer. A failed call is logged and tried again on the next round; the
    story never stops the demo.
    """

    # Seconds after start (times ``scale``) for the request's three steps.
    FILE_AT, DISPATCH_AT, ACCEPT_AT = 30.0, 40.0, 50.0
    # How long the story waits for the kiosk's resident before it files over HTTP instead.
    KIOSK_PATIENCE_S = 90.0

    def __init__(self, base_url: str, *, scale: float, kiosk_id: str, mqtt_port: int | None,
                 say: Callable[[str], None], stop: threading.Event,
                 kiosk_outbox: Path | None = None) -> None:
        super().__init__(name="demo-story", daemon=True)
        self.base_url = base_url
        self.scale = scale
        self.kiosk_id = kiosk_id
        self.kiosk_outbox = kiosk_outbox
        self.mqtt_port = mqtt_port
        self.say = say
        self.halt = stop
        self.http = httpx.Client(base_url=base_url, timeout=10)
        self.tokens: dict[str, str] = {}
        self.seen_tickets: set[int] = set()
        self.last_alert = 0
        self.request: dict[str, Any] | None = None
        self.request_ticket: int | None = None
        self.dispatched = self.accepted = self.told_complete = False
        self.conditions: set[str] = set()
        self.urgent_alert = False
        self.pages = False

    # The story's milestones; the demo's test reads the same facts from the database.
    @property
    def complete(self) -> bool:
        return ({"low_level", "missing"} <= self.conditions and self.urgent_alert
                and self.accepted)

    def run(self) -> None:
        started = time.monotonic()
        self.pages = self._has_staff_pages()
        while not self.halt.wait(1.0):
            elapsed = time.monotonic() - started
            try:
                self._watch()
                if self.request is None and elapsed >= self.FILE_AT * self.scale:
                    self._file_request(elapsed)
                elif self.request is not None and not self.dispatched and \
                        elapsed >= self.DISPATCH_AT * self.scale:
                    self._dispatch()
                elif self.dispatched and not self.accepted and \
                        elapsed >= self.ACCEPT_AT * self.scale:
                    self._accept()
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                log.warning("demo story: %s; trying again", exc)
            if self.complete and not self.told_complete:
                self.told_complete = True
                self._tell_complete()
        self.http.close()

    # --- HTTP -----------------------------------------------------------------------------

    def _token(self, username: str, password: str) -> dict[str, str]:
        if username not in self.tokens:
            reply = self.http.post("/api/v1/auth/login",
                                   json={"username": username, "password": password})
            reply.raise_for_status()
            self.tokens[username] = reply.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def _get(self, path: str, who: tuple[str, str], **params: Any) -> Any:
        reply = self.http.get(path, headers=self._token(*who), params=params)
        reply.raise_for_status()
        return reply.json()

    def _post(self, path: str, who: tuple[str, str] | None, body: Any = None) -> Any:
        headers = self._token(*who) if who else {}
        reply = self.http.post(path, headers=headers, json=body)
        reply.raise_for_status()
        return reply.json()

    def _has_staff_pages(self) -> bool:
        try:
            return self.http.get("/login").status_code == 200
        except httpx.HTTPError:
            return False

    def _ticket_link(self, ticket_id: int) -> str:
        if self.pages:
            return f"{self.base_url}/staff/tickets/{ticket_id}"
        return f"{self.base_url}/api/v1/tickets/{ticket_id}  (signed in as staff)"

    # --- the parts ------------------------------------------------------------------------

    def _watch(self) -> None:
        staff = ("staff", "staff-demo")
        tickets = self._get("/api/v1/tickets", staff, kind="maintenance", limit=100)["tickets"]
        for ticket in sorted(tickets, key=lambda t: t["id"]):
            if ticket["id"] in self.seen_tickets or not ticket.get("condition"):
                continue
            self.seen_tickets.add(ticket["id"])
            self.conditions.add(ticket["condition"])
            if ticket["condition"] in ("low_level", "missing"):
                self.say(f"  ▸ Ticket {ticket['number']} raised by the sensors: {ticket['title']}"
                         f" ({ticket['priority']})\n      {self._ticket_link(ticket['id'])}")
        alerts = self._get("/api/v1/alerts", staff, after_id=self.last_alert)["alerts"]
        for alert in alerts:
            self.last_alert = max(self.last_alert, int(alert["id"]))
            if alert.get("condition") not in ("low_level", "missing"):
                continue
            if alert.get("urgent") and alert.get("kind") == "raised":
                self.urgent_alert = True
            self.say(f"  ▸ Alert to staff ({alert.get('kind')}): {alert.get('title')}")

    def _file_request(self, elapsed: float) -> None:
        if self.kiosk_outbox is not None:
            filed = self._filed_at_kiosk()
            if filed is not None:
                number, token = filed
                self.request = {"number": number, "phone_token": token}
                self.say(f"  ▸ A resident filed request {number} at the kiosk, tapping its "
                         f"screen (水电维修 water repair: a leak, 劳动新村1栋1单元).\n"
                         f"      Phone link (the QR code): {self.base_url}/r/{token}")
                return
            if elapsed < self.FILE_AT * self.scale + self.KIOSK_PATIENCE_S:
                return  # the resident is still tapping, or the kiosk is still sending
            log.warning("no request from the kiosk after %.0f s; filing it over HTTP instead",
                        elapsed)
            self.kiosk_outbox = None
        # The body the kiosk's flow builds (kiosk/flow.py request_body) with the number and
        # phone token its outbox adds (kiosk/outbox.py); 9001 is far from the kiosk's own count.
        body = {"client_id": f"demo-{secrets.token_hex(8)}", "category": "water_electric",
                "unit_code": "C01-B01-U1", "answers": {"problem": "leak"}, "description": "",
                "channel": "kiosk", "contact_phone": "13907310001",
                "number": f"{self.kiosk_id}-9001", "phone_token": secrets.token_urlsafe(32)}
        self.request = self._post("/api/v1/requests", None, body)
        url = self.request.get("status_url") or \
            f"{self.base_url}/r/{self.request['phone_token']}"
        self.say(f"  ▸ A resident filed request {self.request['number']} at the kiosk "
                 f"(水电维修 water repair: a leak, 劳动新村1栋1单元).\n"
                 f"      Phone link (the QR code): {url}")

    def _filed_at_kiosk(self) -> tuple[str, str] | None:
        """(number, phone token) of the first request the kiosk has delivered to the server,
        read from the kiosk's outbox. The demo's data folder is new each run, so that is the
        request its resident tapped in (or one a person tapped in first: the story follows it)."""
        assert self.kiosk_outbox is not None
        if not self.kiosk_outbox.exists():
            return None
        try:
            with contextlib.closing(sqlite3.connect(
                    f"file:{self.kiosk_outbox}?mode=ro", uri=True, timeout=2)) as db:
                row = db.execute("SELECT number, phone_token FROM outbox WHERE state = "
                                 "'delivered' ORDER BY created_at LIMIT 1").fetchone()
        except sqlite3.Error as exc:  # the kiosk is still creating it
            log.debug("kiosk outbox not readable yet: %s", exc)
            return None
        return (str(row[0]), str(row[1])) if row else None

    def _find_request_ticket(self, leader: tuple[str, str]) -> int:
        tickets = self._get("/api/v1/tickets", leader, kind="request", limit=100)["tickets"]
        for ticket in tickets:
            if self.request is not None and ticket["number"] == self.request["number"]:
                return int(ticket["id"])
        raise KeyError(f"request {self.request and self.request['number']} not in the queue")

    def _dispatch(self) -> None:
        leader = ("leader1", "leader-demo")
        self.request_ticket = self.request_ticket or self._find_request_ticket(leader)
        proposals = self._get(f"/api/v1/tickets/{self.request_ticket}/proposals",
                              leader)["proposals"]
        # The squad leader picks 建国 (lijianguo) when he is proposed, else the first.
        chosen = next((p for p in proposals if p["given_name"] == "建国"),
                      proposals[0] if proposals else None)
        if chosen is None:
            raise ValueError("no volunteer proposed for the request")
        self._post(f"/api/v1/tickets/{self.request_ticket}/dispatch", leader,
                   {"volunteer_id": chosen["volunteer_id"]})
        self.dispatched = True
        self.say(f"  ▸ Squad leader leader1 dispatched it to volunteer {chosen['given_name']} "
                 f"(分队下单).")

    def _accept(self) -> None:
        self._post(f"/api/v1/tickets/{self.request_ticket}/accept",
                   ("lijianguo", "volunteer-demo"))
        self.accepted = True
        where = f"{self.base_url}/v" if self.pages else f"{self.base_url}/api/v1/me/tasks"
        assert self.request is not None
        self.say(f"  ▸ Volunteer lijianguo (建国) accepted it (党员接单): {where}\n"
                 f"      The resident's phone page now says who is coming: "
                 f"{self.base_url}/r/{self.request['phone_token']}")

    def _tell_complete(self) -> None:
        lines = ["", "  The story is complete: two sensor tickets with their alerts, and a "
                     "request filed, dispatched and accepted."]
        if self.pages:
            lines.append(f"  Dashboard: {self.base_url}/staff (staff/staff-demo); "
                         f"site status: {self.base_url}/staff/site")
        lines.append(f"  API: {self.base_url}/api/v1/tickets, {self.base_url}/api/v1/alerts "
                     "(sign in: POST /api/v1/auth/login)")
        if self.mqtt_port:
            lines.append(f"  Alerts on MQTT: mosquitto_sub -p {self.mqtt_port} "
                         "-t 'servicepoint/+/alerts/#' -v")
        lines.append("  The extinguisher comes back and the tank refills shortly; "
                     "stop with Ctrl-C.\n")
        self.say("\n".join(lines))


def _say(text: str) -> None:
    # The demo's user-facing lines go to the terminal as they are; everything else is logged.
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- the supervisor --------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="servicepoint demo", description=(__doc__ or "").split("\n\n")[0],
        epilog="Example: servicepoint demo --duration 180")
    parser.add_argument("--duration", type=float, default=None,
                        help="stop by itself this many seconds after everything is up")
    parser.add_argument("--port", type=int, default=None, help="HTTP port (default 8080)")
    parser.add_argument("--fast", action="store_true",
                        help=f"play the story at {FAST} x its times (tests, a quick look)")
    parser.add_argument("--no-story", action="store_true",
                        help="bring everything up but play no story")
    parser.add_argument("--no-kiosk", action="store_true", help="do not start the kiosk")
    parser.add_argument("--no-sensors", action="store_true", help="do not start the sensors")
    return parser


def _fresh_workdir(data_dir: Path) -> Path:
    """``<data_dir>/demo``, emptied: each run tells its story from the start. Only the demo
    writes there, so nothing of a real deployment is touched."""
    workdir = data_dir / "demo"
    if workdir.exists():
        shutil.rmtree(workdir)
    (workdir / "logs").mkdir(parents=True)
    return workdir


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    settings = load_server_settings()
    workdir = _fresh_workdir(settings.data_dir)
    config_dir = Path(settings.source).parent if settings.source else \
        Path(__file__).resolve().parent.parent / "config"
    scenarios = config_dir / "scenarios"
    scale = FAST if args.fast else 1.0
    http_port = args.port or _free_port_from(settings.http.port)
    base_url = f"http://127.0.0.1:{http_port}"
    mqtt_port = _free_port_from(18830)
    rules = scenarios / RULES_FILE
    if args.fast and rules.exists():
        rules = _scaled_rules(rules, workdir / RULES_FILE, FAST)
    env = {
        "SERVICEPOINT_DATA_DIR": str(workdir),
        "SERVICEPOINT_DATABASE_URL": f"sqlite:///{workdir / 'servicepoint.db'}",
        "SERVICEPOINT_MQTT_URL": f"mqtt://127.0.0.1:{mqtt_port}",
        "SERVICEPOINT_HTTP__PORT": str(http_port),
        "SERVICEPOINT_HTTP__PUBLIC_URL": base_url,
        "SERVICEPOINT_KIOSK__SERVER_URL": base_url,
        # Each tick fires the rules' pending raises: often enough that a ticket follows its
        # (short) duration within a second or two.
        "SERVICEPOINT_INGEST__TICK_INTERVAL_S": "1" if args.fast else "2",
    }
    if not args.no_story and rules.exists():
        env["SERVICEPOINT_INGEST__RULES_FILE"] = str(rules)
    if settings.source:
        env["SERVICEPOINT_CONFIG"] = settings.source
    python = [sys.executable, "-m", "servicepoint"]

    seeded = subprocess.run([*python, "seed", "--demo"], env={**os.environ, **env},
                            capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if seeded.returncode != 0:
        log.error("could not prepare the demo database:\n%s", seeded.stderr[-2000:])
        return 1
    log.info("%s", seeded.stdout.strip())
    reader = _library_desk(python, {**os.environ, **env}, config_dir, workdir)

    children: list[Child] = []
    broker = _broker(workdir, mqtt_port)
    if broker is not None:
        children.append(broker)
    server = Child("server", [*python, "server", "--port", str(http_port)],
                   workdir / "logs" / "server.log", env)
    children.append(server)
    with_sensors = broker is not None and not args.no_sensors and _has_module("sensors.cli")
    if with_sensors:
        sensor_argv = [*python, "sensors", "--simulate", "--no-stdin"]
        story = scenarios / STORY_FILE
        if not args.no_story and story.exists():
            if args.fast:
                story = _scaled_scenario(story, workdir / STORY_FILE, FAST)
            sensor_argv += ["--scenario", str(story)]
        children.append(Child("sensors", sensor_argv, workdir / "logs" / "sensors.log", env))
    kiosk_outbox = None
    if not args.no_kiosk and _has_module("kiosk.app"):
        resident_at = None if args.no_story else Story.FILE_AT * scale
        children.append(_kiosk(python, workdir, env, resident_at=resident_at, scale=scale))
        kiosk_outbox = workdir / "kiosk" / "outbox.sqlite3"

    stopping = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    story_thread: Story | None = None
    try:
        for child in children:
            child.start()
            if child is server:
                _wait_http(base_url + "/healthz", server)
            if stopping.is_set():
                break
        if not stopping.is_set():
            _announce(base_url, workdir, children, mqtt_port if broker else None,
                      story=not args.no_story, reader=reader)
        if not args.no_story and not stopping.is_set():
            kiosk_id = load_kiosk_settings().kiosk.kiosk_id
            story_thread = Story(base_url, scale=scale, kiosk_id=kiosk_id,
                                 mqtt_port=mqtt_port if broker else None, say=_say,
                                 stop=stopping, kiosk_outbox=kiosk_outbox)
            story_thread.start()
        started = time.monotonic()
        while not stopping.wait(0.5):
            for child in children:
                if not child.alive() and child.name != "kiosk":
                    log.error("%s stopped unexpectedly; see %s", child.name, child.log_path)
                    stopping.set()
            if args.duration is not None and time.monotonic() - started > args.duration:
                break
    finally:
        stopping.set()
        if story_thread is not None:
            story_thread.join(15)
        for child in reversed(children):
            child.stop()
    _say(f"  demo stopped; logs are in {workdir / 'logs'}")
    return 0


@dataclass(frozen=True)
class DemoReader:
    """The library reader the demo enrols, to try borrowing at the kiosk."""

    card_id: str
    phone: str
    pin: str
    card_png: Path


DEMO_READER = {"name": "王阿姨", "phone": "13800001234", "pin": "1234", "unit": "C01-B01-U1"}


def _library_desk(python: list[str], env: dict[str, str], config_dir: Path,
                  workdir: Path) -> DemoReader | None:
    """Put the demo books on the shelf and enrol one reader with a printed card, as staff would
    with ``servicepoint library import`` and ``servicepoint library enrol``."""
    catalog = config_dir / "library-demo.csv"
    if not catalog.exists():
        return None
    card_png = workdir / "library-card.png"
    steps = [["library", "import", str(catalog)],
             ["library", "enrol", "--name", DEMO_READER["name"], "--phone",
              DEMO_READER["phone"], "--unit", DEMO_READER["unit"], "--pin", DEMO_READER["pin"],
              "--card", str(card_png)]]
    outputs = []
    for step in steps:
        done = subprocess.run([*python, *step], env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            log.warning("the demo library is not set up (%s): %s", " ".join(step[:2]),
                        (done.stdout + done.stderr)[-1000:])
            return None
        outputs.append(done.stdout.strip())
        log.info("%s", done.stdout.strip().splitlines()[0])
    card_id = outputs[1].split()[0]
    written = sorted(workdir.glob("library-card*.png"))
    return DemoReader(card_id=card_id, phone=DEMO_READER["phone"], pin=DEMO_READER["pin"],
                      card_png=written[0] if written else card_png)


def _kiosk(python: list[str], workdir: Path, env: dict[str, str], *,
           resident_at: float | None, scale: float) -> Child:
    kiosk_env = {**env, "KIVY_HOME": str(workdir / "kivy"), "KIVY_NO_ARGS": "1"}
    command = [*python, "kiosk", "--windowed"]
    if resident_at is not None:
        command += ["--demo-resident", f"{resident_at:g}", "--demo-tap-gap", f"{1.5 * scale:g}"]
    if not has_screen():
        # No screen: the kiosk still runs, on an offscreen OpenGL surface (Mesa), so its
        # requests to the server and its outbox behave as on the Pi; a PNG shows what it shows.
        kiosk_env.update({"SDL_VIDEODRIVER": "offscreen", "KIVY_WINDOW": "sdl2"})
        command += ["--screenshot", str(kiosk_screenshot(workdir))]
    return Child("kiosk", command, workdir / "logs" / "kiosk.log", kiosk_env)


def has_screen() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def kiosk_screenshot(workdir: Path) -> Path:
    """Where the offscreen kiosk keeps a picture of its screen."""
    return workdir / "kiosk-screen.png"


def _has_module(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _announce(base_url: str, workdir: Path, children: list[Child], mqtt_port: int | None,
              *, story: bool, reader: DemoReader | None = None) -> None:
    names = ", ".join(c.name for c in children)
    lines = [
        "",
        "  servicepoint demo is running: " + names,
        f"  API and docs:        {base_url}/docs",
        f"  Open311:             {base_url}/open311/v2/services.json",
        f"  Staff dashboard:     {base_url}/staff   (sign in as staff/staff-demo)",
        f"  Resident phone page: {base_url}/r/<token>  (printed when a request is filed)",
        "  Sign-ins: admin/admin-demo, staff/staff-demo, leader1..4/leader-demo,",
        "            lijianguo/volunteer-demo (a volunteer of squad 1)",
    ]
    if mqtt_port:
        lines.append(f"  MQTT broker:         mqtt://127.0.0.1:{mqtt_port}")
    if reader is not None:
        lines += [f"  Library (图书借阅):   reader card {reader.card_id} ({reader.card_png});",
                  f"                       or at the kiosk: phone {reader.phone}, PIN "
                  f"{reader.pin}; books LB-0001 … LB-0019"]
    if any(c.name == "kiosk" for c in children) and not has_screen():
        lines.append(f"  Kiosk (no screen):   {kiosk_screenshot(workdir)}  (what it shows, "
                     "saved every 3 s)")
    lines += [f"  Logs:                {workdir / 'logs'}", "  Stop with Ctrl-C.", ""]
    if story:
        lines += ["  The story: the tank drains, an extinguisher is taken out, a resident "
                  "files a request.", "  What happens is printed below as it happens.", ""]
    _say("\n".join(lines))
