"""Boot what scripts/install-pi.sh installed into a folder, unit by unit, the way systemd would.

``python -m tests.deploy.boot ROOT UNIT...`` runs inside its own network namespace (the test
starts it under ``unshare -n``), so the installed settings keep their real ports (the broker on
1883, the server on 8080) without meeting anything else on this machine. For each unit it reads
``ROOT/etc/systemd/system/UNIT``, resolves the environment from the unit's ``Environment=`` and
``EnvironmentFile=`` lines as systemd does (:func:`unit_environment`), maps the installed paths
(``/etc/servicepoint``, ``/opt/servicepoint``, ``/var/lib/servicepoint``...) into ROOT, runs
``ExecStartPre=`` and starts ``ExecStart=``, then checks that the program came up:

    servicepoint-broker.service   accepts the server's installed login on 127.0.0.1:1883
    servicepoint-server.service   answers GET /healthz on its configured port
    servicepoint-sensors.service  publishes its birth message (retained ``online``) on the broker
    servicepoint-kiosk.service    renders its home screen (offscreen: there is no display here)
    servicepoint-backup.service   writes tonight's copy of the database

It prints one JSON object per unit (``unit``, ``ok``, ``detail``, ``log``) and stops everything
it started. What a machine without the Pi's hardware cannot have is replaced, and only that:
the display (``SDL_VIDEODRIVER=offscreen``), GPIO (``GPIOZERO_PIN_FACTORY=mock`` with the
node's ``--simulate`` model of the site) and the users (everything runs as root, and the broker
is told to stay root instead of becoming ``mosquitto``, who cannot read a test's private folder).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shlex
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

# The paths the installer writes on a Pi; each is found under ROOT instead.
INSTALLED = ("/etc/servicepoint", "/opt/servicepoint", "/var/lib/servicepoint",
             "/var/log/servicepoint", "/usr/local/bin/servicepoint", "/var/lib/mosquitto")
_INSTALLED = re.compile(r"(?<![\w/.-])(" + "|".join(re.escape(p) for p in INSTALLED) + ")")
# No display, no GPIO here: these replace the Pi's, and are the only additions to a unit's own.
NO_DISPLAY = {"SDL_VIDEODRIVER": "offscreen", "KIVY_WINDOW": "sdl2"}
NO_GPIO = {"GPIOZERO_PIN_FACTORY": "mock"}


@dataclass
class Unit:
    """The [Service] lines of a unit file that say how to start it: key -> values in order."""

    name: str
    service: dict[str, list[str]] = field(default_factory=dict)

    def values(self, key: str) -> list[str]:
        return self.service.get(key, [])

    def one(self, key: str, default: str = "") -> str:
        values = self.values(key)
        return values[-1] if values else default


def read_unit(path: Path) -> Unit:
    """Parse a unit file's [Service] section (comments, blank lines and continuations)."""
    unit = Unit(path.name)
    section = ""
    pending = ""
    for raw in path.read_text().splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        if section == "Service" and "=" in line:
            key, _, value = line.partition("=")
            unit.service.setdefault(key.strip(), []).append(value.strip())
    return unit


def _env_file(text: str) -> list[tuple[str, str]]:
    """KEY=VALUE lines of an environment file as systemd reads them (quotes, # comments)."""
    pairs = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
            if raw.strip().partition("=")[2].strip()[0] == '"':
                value = re.sub(r'\\(["\\$`])', r"\1", value)
        pairs.append((key.strip(), value))
    return pairs


def unit_environment(unit: Unit, read: Callable[[str], str | None]) -> dict[str, str]:
    """The environment systemd gives the unit's processes.

    ``Environment=`` lines in order (each may hold several quoted assignments; a later one wins;
    an empty line clears), then each ``EnvironmentFile=`` in order, whose values win over
    ``Environment=`` (systemd.exec(5)). ``-/path`` is optional; a missing file without ``-``
    stops the unit, as it would under systemd. ``read(path)`` returns a file's text or None.
    """
    env: dict[str, str] = {}
    for line in unit.values("Environment"):
        if not line:
            env.clear()
            continue
        for word in shlex.split(line):
            key, sep, value = word.partition("=")
            if sep:
                env[key] = value
    for line in unit.values("EnvironmentFile"):
        optional = line.startswith("-")
        path = line.removeprefix("-")
        text = read(path)
        if text is None:
            if optional:
                continue
            raise FileNotFoundError(f"{unit.name}: EnvironmentFile={path} does not exist")
        env.update(_env_file(text))
    return env


def command_line(line: str) -> list[str]:
    """An ExecStart= value as argv: prefixes (-@:+!) dropped, %% and $$ unescaped."""
    line = line.lstrip("-@:+!")
    return [word.replace("%%", "%").replace("$$", "$") for word in shlex.split(line)]


class Boot:
    """Starts units installed under ``root`` and stops them again."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.children: list[subprocess.Popen[bytes]] = []

    def map(self, text: str) -> str:
        return _INSTALLED.sub(lambda m: f"{self.root}{m.group(1)}", text)

    def _read(self, path: str) -> str | None:
        mapped = Path(self.map(path))
        return mapped.read_text() if mapped.is_file() else None

    def unit(self, name: str) -> Unit:
        return read_unit(self.root / "etc" / "systemd" / "system" / name)

    def environment(self, unit: Unit, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {key: self.map(value) for key, value in unit_environment(unit, self._read).items()}
        # What systemd itself provides: a PATH, and the state folders' existence.
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                "HOME": str(self.root / "root")}
        for folder in " ".join(unit.values("StateDirectory")).split():
            (self.root / "var" / "lib" / folder).mkdir(parents=True, exist_ok=True)
        return {**base, **env, **(extra or {})}

    def start(self, name: str, *, extra_env: dict[str, str] | None = None,
              extra_args: Iterable[str] = ()) -> tuple[subprocess.Popen[bytes], Path]:
        unit = self.unit(name)
        env = self.environment(unit, extra_env)
        cwd = Path(self.map(unit.one("WorkingDirectory", "/")))
        log = self.root / f"{name}.log"
        with log.open("ab") as out:
            for pre in unit.values("ExecStartPre"):
                subprocess.run([self.map(w) for w in command_line(pre)], env=env, cwd=cwd,
                               stdout=out, stderr=out, check=True, timeout=30)
            argv = [self.map(w) for w in command_line(unit.one("ExecStart"))] + list(extra_args)
            child = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=out,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self.children.append(child)
        return child, log

    def stop_all(self) -> None:
        for child in reversed(self.children):
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for child in reversed(self.children):
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


def loopback_up() -> None:
    """A new network namespace starts with its loopback down; bring it up (SIOCSIFFLAGS)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(sock, 0x8913, request))[1]
        fcntl.ioctl(sock, 0x8914, struct.pack("16sh", b"lo", flags | 0x1))


def wait_until(check: Callable[[], bool], child: subprocess.Popen[bytes],
               timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        if child.poll() is not None:
            return check()
        time.sleep(0.2)
    return False


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _env_value(boot: Boot, unit: str, key: str) -> str:
    return boot.environment(boot.unit(unit)).get(key, "")


def retained(url: str, topic: str, timeout: float) -> tuple[str, bytes | None]:
    """Log in with ``url`` and read the retained message on ``topic``: (the broker's answer to
    the login, the message or None when none came within ``timeout``)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from foundation.settings import parse_mqtt_url

    broker = parse_mqtt_url(url)
    answer: list[str] = []
    got: list[bytes] = []
    done = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="boot-check")
    if broker.username:
        client.username_pw_set(broker.username, broker.password)

    def on_connect(c: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        answer.append(str(reason))
        if getattr(reason, "is_failure", False):
            done.set()
        else:
            c.subscribe(topic, qos=1)

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        got.append(message.payload)
        done.set()

    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        done.wait(timeout)
    finally:
        client.disconnect()
        client.loop_stop()
    return (answer[0] if answer else "no answer"), (got[-1] if got else None)


def check_broker(boot: Boot) -> tuple[bool, str, Path]:
    conf = boot.root / "etc" / "servicepoint" / "mosquitto" / "mosquitto.conf"
    # The config names the installed passwd, acl and store by their paths on the Pi.
    conf.write_text(boot.map(conf.read_text()) + "\nuser root\n")
    (boot.root / "var" / "lib" / "mosquitto").mkdir(parents=True, exist_ok=True)
    child, log = boot.start("servicepoint-broker.service")
    if not wait_until(lambda: port_open(1883), child, 10):
        return False, "the broker did not listen on 127.0.0.1:1883", log
    url = _env_value(boot, "servicepoint-server.service", "SERVICEPOINT_MQTT_URL")
    answer, _ = retained(url, "servicepoint/site-01/none", 0.5)
    if answer != "Success":
        return False, f"the server's installed login was answered: {answer}", log
    return True, "listening on 127.0.0.1:1883, takes the server's login", log


def check_server(boot: Boot) -> tuple[bool, str, Path]:
    child, log = boot.start("servicepoint-server.service")

    def healthy() -> bool:
        try:
            with urllib.request.urlopen("http://127.0.0.1:8080/healthz", timeout=2) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False
    if not wait_until(healthy, child, 40):
        return False, f"no answer on /healthz (exit code {child.poll()})", log
    database = boot.root / "var" / "lib" / "servicepoint" / "servicepoint.db"
    if not database.is_file():
        return False, f"the database is not in the state folder: no {database}", log
    return True, "GET /healthz answered 200", log


def check_sensors(boot: Boot) -> tuple[bool, str, Path]:
    unit = "servicepoint-sensors.service"
    child, log = boot.start(unit, extra_env=NO_GPIO, extra_args=["--simulate", "--no-stdin"])
    sensors = (boot.root / "etc" / "servicepoint" / "sensors.toml").read_text()
    node_id = re.search(r'^id = "([^"]+)"', sensors, re.M)
    topic = f"servicepoint/site-01/{node_id.group(1) if node_id else 'node-1'}/availability"
    url = _env_value(boot, "servicepoint-server.service", "SERVICEPOINT_MQTT_URL")

    def born() -> bool:
        return retained(url, topic, 1.0)[1] == b"online"
    if not wait_until(born, child, 30):
        return False, f"no birth message on {topic} (exit code {child.poll()})", log
    return True, f"birth message 'online' on {topic}", log


def check_kiosk(boot: Boot) -> tuple[bool, str, Path]:
    picture = boot.root / "kiosk-screen.png"
    child, log = boot.start("servicepoint-kiosk.service", extra_env=NO_DISPLAY,
                            extra_args=["--screenshot", str(picture), "--screenshot-every", "1"])
    if not wait_until(picture.is_file, child, 40):
        return False, f"no home screen was drawn (exit code {child.poll()})", log
    time.sleep(1.5)  # one more picture, with the catalog asked of the server
    from PIL import Image

    with Image.open(picture) as image:
        colours = len(image.convert("RGB").getcolors(1 << 20) or [])
        size = image.size
    if colours < 50:
        return False, f"the screen is nearly blank ({colours} colours)", log
    # On the Pi the kiosk user may write only in the unit's StateDirectory.
    state = boot.root / "var" / "lib" / "servicepoint-kiosk"
    if not (state / "kiosk" / "outbox.sqlite3").is_file():
        return False, f"the kiosk's outbox is not in its state folder {state}", log
    return True, f"home screen drawn, {size[0]}x{size[1]}, {colours} colours", log


def check_backup(boot: Boot) -> tuple[bool, str, Path]:
    child, log = boot.start("servicepoint-backup.service")
    child.wait(timeout=60)
    copies = sorted((boot.root / "var" / "lib" / "servicepoint" / "backups").glob("*.db"))
    if child.returncode != 0 or not copies:
        return False, f"exit code {child.returncode}, copies {copies}", log
    return True, f"wrote {copies[-1].name}", log


CHECKS: dict[str, Callable[[Boot], tuple[bool, str, Path]]] = {
    "servicepoint-broker.service": check_broker,
    "servicepoint-server.service": check_server,
    "servicepoint-sensors.service": check_sensors,
    "servicepoint-kiosk.service": check_kiosk,
    "servicepoint-backup.service": check_backup,
}


def main(argv: list[str]) -> int:
    root, names = Path(argv[0]).resolve(), argv[1:]
    loopback_up()
    boot = Boot(root)
    try:
        for name in names:
            try:
                ok, detail, log = CHECKS[name](boot)
            except Exception as exc:  # one unit's failure is reported, the others still run
                ok, detail, log = False, f"{type(exc).__name__}: {exc}", root / f"{name}.log"
            tail = log.read_text(errors="replace")[-3000:] if log.is_file() else ""
            print(json.dumps({"unit": name, "ok": ok, "detail": detail, "log": tail}),
                  flush=True)
    finally:
        boot.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
