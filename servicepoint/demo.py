"""``servicepoint demo``: the whole system on one machine, playing a short scripted story.

It starts, as child processes, a private Mosquitto broker on loopback, the server on a fresh
SQLite database (migrated and seeded with the demo site), the simulated sensor node, and the
kiosk (in a window where there is a screen, offscreen where there is none). Then it plays a story
in its first two minutes and prints what happens and where to look:

1. the tank drains below its low-level line: a maintenance ticket and an alert;
2. an extinguisher is taken out of its bay: an urgent ticket and alert;
3. a resident files a water-repair request at the kiosk, tapping its screen (the kiosk plays
   the taps: ``servicepoint kiosk --demo-resident``); the squad leader dispatches it to a
   proposed volunteer, who accepts it (居民点单、分队下单、党员接单) and later marks it done. Each
   step's notice (the new request to squad 1's group, the dispatch with its one-tap link to the
   volunteer, the "please confirm" to the resident) is printed as the server sends it.

Steps 1 and 2 come from the sensors' scenario (config/scenarios/demo-story.toml) and the
server's demo rules (config/scenarios/demo-rules.toml: durations of seconds, not minutes);
in step 3 the kiosk files the request through its outbox as for any resident; the demo learns
what the resident's screen shows (the number and the QR code's link) from the report the kiosk's
demo resident writes (``--demo-report``), finds the request on the server through the staff API,
and plays the squad leader and the volunteer through the server's HTTP API, as their phones would
(with no kiosk, ``--no-kiosk``, it files the request over HTTP as the kiosk would). On Ctrl-C (or
after ``--duration``) it stops every child it started, and their children, and leaves nothing
behind. Each run starts afresh in ``<data_dir>/demo/``; logs are in ``<data_dir>/demo/logs/``.

Wiring: this module is the supervisor (the command line, the children, the announcement);
``servicepoint.children`` starts and stops each child in its own process group, and
``servicepoint.story`` plays the story over HTTP.

    servicepoint demo                 # until Ctrl-C
    servicepoint demo --duration 180  # stop by itself after three minutes
    servicepoint demo --fast          # the same story at 0.4 x the times (for tests)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from kiosk.settings import load_kiosk_settings
from server.settings import load_server_settings
from servicepoint.children import Child, free_port_from, wait_http
from servicepoint.story import NoticeBoard, Story

__all__ = ["main"]

log = logging.getLogger("servicepoint.demo")

FAST = 0.4  # --fast: every time of the story, and every rule duration, times this
STORY_FILE = "demo-story.toml"
RULES_FILE = "demo-rules.toml"


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


def _alerts_any_hour(source: Path, target: Path) -> Path:
    """The site's alerts.toml with no quiet hours: the demo runs at any hour of the day, and
    its notices should show as it plays, not at 07:00 the next morning. (The only ``start`` and
    ``end`` keys in that file are the quiet hours'; start equal to end means none.)"""
    text = re.sub(r'(?m)^(start|end) = "[0-9:]+"$', r'\1 = "00:00"',
                  source.read_text(encoding="utf-8"))
    target.write_text(f"# {source.name} with no quiet hours (written by servicepoint demo)\n"
                      + text, encoding="utf-8")
    return target


# --- the story the supervisor plays itself ---------------------------------------------------

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
    http_port = args.port or free_port_from(settings.http.port)
    base_url = f"http://127.0.0.1:{http_port}"
    mqtt_port = free_port_from(18830)
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
    if not args.no_story and (config_dir / "alerts.toml").exists():
        env["SERVICEPOINT_INGEST__ALERTS_FILE"] = str(
            _alerts_any_hour(config_dir / "alerts.toml", workdir / "alerts.toml"))
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
    # The channels the story's people read (squad 1's group, 建国's robot, the resident's SMS)
    # point at the board, which prints each notice the server's notice loop sends.
    board = None if args.no_story else NoticeBoard(_say)
    # One server process is plenty for the demo and leaves Ctrl-C one process to stop (with two
    # workers, tests/servicepoint/test_demo.py found the server's process group still there).
    server = Child("server", [*python, "server", "--port", str(http_port), "--workers", "1"],
                   workdir / "logs" / "server.log", {**env, **(board.channels() if board else {})})
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
    kiosk_report = None
    if not args.no_kiosk and _has_module("kiosk.app"):
        resident_at = None if args.no_story else Story.FILE_AT * scale
        children.append(_kiosk(python, workdir, env, resident_at=resident_at, scale=scale))
        kiosk_report = kiosk_report_path(workdir)

    stopping = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    story_thread: Story | None = None
    if board is not None:
        board.start()
    try:
        for child in children:
            child.start()
            if child is server:
                wait_http(base_url + "/healthz", server)
            if stopping.is_set():
                break
        if not stopping.is_set():
            _announce(base_url, workdir, children, mqtt_port if broker else None,
                      story=not args.no_story, reader=reader)
        if not args.no_story and not stopping.is_set():
            kiosk_id = load_kiosk_settings().kiosk.kiosk_id
            story_thread = Story(base_url, scale=scale, kiosk_id=kiosk_id,
                                 mqtt_port=mqtt_port if broker else None, say=_say,
                                 stop=stopping, kiosk_report=kiosk_report, board=board)
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
        if board is not None:
            board.stop()
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
        command += ["--demo-resident", f"{resident_at:g}", "--demo-tap-gap", f"{1.5 * scale:g}",
                    "--demo-report", str(kiosk_report_path(workdir))]
    if not has_screen():
        # No screen: the kiosk still runs, on an offscreen OpenGL surface (Mesa), so its
        # requests to the server and its outbox behave as on the Pi; a PNG shows what it shows.
        kiosk_env.update({"SDL_VIDEODRIVER": "offscreen", "KIVY_WINDOW": "sdl2"})
        command += ["--screenshot", str(kiosk_screenshot(workdir))]
    return Child("kiosk", command, workdir / "logs" / "kiosk.log", kiosk_env)


def has_screen() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def kiosk_report_path(workdir: Path) -> Path:
    """Where the kiosk's demo resident reports what its screen shows once the request is filed."""
    return workdir / "kiosk-report.json"


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
