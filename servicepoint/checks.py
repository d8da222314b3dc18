"""The doctor's checks: one per thing an installer can get wrong on a Pi (servicepoint/doctor.py).

Each takes the :class:`~servicepoint.probes.Deployment` and the :class:`~servicepoint.probes.Probes`
and returns one :class:`~servicepoint.probes.CheckResult`. The server's migrations, paho and the
sensors' config loader are imported inside the checks that need them, so loading this module
never loads Kivy, SQLAlchemy or paho. (Over 400 lines: the checks are one family, read side by
side; each is short and they share the probes and the read-only database opening.)
"""

from __future__ import annotations

import os
import socket
import sqlite3
import ssl
import time
from pathlib import Path
from typing import Any

from foundation.errors import ConfigError
from servicepoint.probes import ENV_FILE, CheckResult, Deployment, Probes

__all__ = ["check_broker", "check_clock", "check_config", "check_database", "check_disk",
           "check_font", "check_pins"]

BROKER_PASSWD = "/etc/servicepoint/mosquitto/passwd"
# Below this much free space the SQLite database, the outboxes and the journal start failing.
DISK_FAIL_BYTES = 200 * 1024 * 1024
DISK_WARN_BYTES = 1024 * 1024 * 1024
# Font files start with one of these: TrueType, OpenType/CFF, a collection (.ttc), old Apple.
_FONT_MAGIC = (b"\x00\x01\x00\x00", b"OTTO", b"ttcf", b"true")
# The first year this software was deployed: a Pi without network time boots in 1970 or at the
# last saved time, and either is before this.
MIN_YEAR = 2025


# ----------------------------------------------------------------------------------- config


def check_config(settings: Deployment, probes: Probes) -> CheckResult:
    where = settings.server.source or "built-in defaults"
    text = f"settings from {where} (site {settings.server.site.id}, {settings.server.environment})"
    if settings.server.environment != "production":
        return CheckResult(
            "config", "WARN", f"{text}: development settings, with placeholder secrets allowed.",
            f"on a deployed Pi set SERVICEPOINT_ENVIRONMENT=production and real secrets in "
            f"{ENV_FILE} (scripts/install-pi.sh does both).")
    demo = _demo_signins(settings)
    if demo is not None:
        return CheckResult("config", "FAIL", f"{text}: {demo}.",
                           "the server does not start so: give these sign-ins new passwords in "
                           "your site file and run sudo servicepoint seed FILE.")
    return CheckResult("config", "OK", text + ".")


def _demo_signins(settings: Deployment) -> str | None:
    """What the server would refuse to start for: demo sign-ins with their published passwords.
    None when there are none, or when the database cannot be read (the database check says
    why)."""
    from sqlalchemy.exc import SQLAlchemyError

    from server.cli import refuse_demo_signins

    path = _sqlite_path(settings.server.database_url)
    if path is not None and not path.exists():
        return None
    engine = _read_only_engine(settings.server.database_url)
    try:
        refuse_demo_signins(settings.server, engine)
    except ConfigError as exc:
        return str(exc)
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    return None


# ----------------------------------------------------------------------------------- broker


def check_broker(settings: Deployment, probes: Probes) -> CheckResult:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    broker = settings.server.mqtt.broker
    where = f"{broker.host}:{broker.port}"
    who = f"user '{broker.username}'" if broker.username else "no username"
    timeout = probes.broker_timeout
    client = mqtt.Client(CallbackAPIVersion.VERSION2,
                         client_id=f"servicepoint-doctor-{os.getpid()}")
    client.connect_timeout = timeout
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        ca = str(settings.server.mqtt.ca_file) if settings.server.mqtt.ca_file else None
        client.tls_set(ca_certs=ca)
    answer: dict[str, Any] = {}

    def on_connect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        answer["reason"] = reason

    def on_disconnect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        answer.setdefault("dropped", reason)

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    start_fix = ("start the broker: sudo systemctl start servicepoint-broker, and read why it "
                 "stopped: journalctl -u servicepoint-broker -e; or correct the address in "
                 f"SERVICEPOINT_MQTT_URL ({ENV_FILE}).")
    try:
        client.connect(broker.host, broker.port, keepalive=max(5, int(timeout) * 2))
    except ConnectionRefusedError:
        return CheckResult("broker", "FAIL", f"nothing listens at {where}.", start_fix)
    except socket.gaierror:
        return CheckResult("broker", "FAIL", f"the broker's host name {broker.host!r} is unknown.",
                           f"correct the host in SERVICEPOINT_MQTT_URL ({ENV_FILE}).")
    except ssl.SSLError as exc:
        return _tls_failed(where, exc, settings)
    except TimeoutError:
        return CheckResult("broker", "FAIL", f"no answer from {where} within {timeout:g} s.",
                           "check the address and that no firewall is in the way; " + start_fix)
    except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as exc:
        if broker.tls:  # the TCP connection was up, so it was the handshake that broke
            return _tls_failed(where, exc, settings)
        return CheckResult("broker", "FAIL", f"{where} closed the connection: {exc}.", start_fix)
    except OSError as exc:
        return CheckResult("broker", "FAIL", f"cannot reach {where}: {exc}.", start_fix)
    deadline = time.monotonic() + timeout
    try:
        while "reason" not in answer and "dropped" not in answer and time.monotonic() < deadline:
            client.loop(timeout=0.05)
    except ssl.SSLError as exc:
        return _tls_failed(where, exc, settings)
    finally:
        if client.is_connected():
            client.disconnect()
        sock = client.socket()
        if sock is not None:  # no CONNACK came: close the half-open socket now, not at exit
            sock.close()
    reason = answer.get("reason")
    if reason is None:
        hint = " (a TLS port spoken to without mqtts://?)" if not broker.tls else ""
        return CheckResult(
            "broker", "FAIL",
            f"something listens at {where} but gave no MQTT answer within {timeout:g} s{hint}.",
            "point SERVICEPOINT_MQTT_URL at the broker's MQTT port (1883, or mqtts:// on 8883).")
    if not reason.is_failure:
        return CheckResult("broker", "OK", f"logged in to {where} as {who}.")
    if reason.value in (134, 135, 4, 5):  # bad user name or password / not authorised
        if not broker.username:
            return CheckResult(
                "broker", "FAIL",
                f"the broker at {where} wants a username and password; none are configured.",
                f"set SERVICEPOINT_MQTT_URL=mqtt://USER:PASSWORD@{where} in {ENV_FILE}.")
        return CheckResult(
            "broker", "FAIL",
            f"the broker at {where} refused {who}: wrong password (or no such user).",
            f"make the password in SERVICEPOINT_MQTT_URL ({ENV_FILE}) and the broker's agree: "
            f"sudo mosquitto_passwd {BROKER_PASSWD} {broker.username}, then "
            "sudo systemctl reload servicepoint-broker.")
    return CheckResult("broker", "FAIL", f"the broker at {where} refused the login: {reason}.",
                       "read the broker's log: journalctl -u servicepoint-broker -e.")


def _tls_failed(where: str, exc: OSError, settings: Deployment) -> CheckResult:
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "verify_message", None) or exc.reason or str(exc)
    else:
        reason = f"the connection was closed during the handshake ({exc.strerror or exc})"
    if settings.server.mqtt.broker.tls:
        fix = ("check that mqtt.ca_file is the CA that signed the broker's certificate and that "
               "the certificate's name matches the host in SERVICEPOINT_MQTT_URL; if the broker "
               "listens without TLS there, use mqtt:// instead.")
    else:
        fix = "check the broker's TLS listener settings (config/mosquitto/mosquitto.conf)."
    return CheckResult("broker", "FAIL", f"TLS failed with {where}: {reason}.", fix)


# --------------------------------------------------------------------------------- database


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1]
    return Path(path) if path and path != ":memory:" else None


def _read_only_engine(url: str) -> Any:
    """An engine on the server's database; a SQLite file is opened read-only, so a check never
    changes (or creates) the file it looks at."""
    from sqlalchemy import create_engine

    from server.db import make_engine

    path = _sqlite_path(url)
    if path is None:
        return make_engine(url, connect_args={"connect_timeout": 5})
    uri = f"file:{path}?mode=ro"
    return create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, timeout=5))


def check_database(settings: Deployment, probes: Probes) -> CheckResult:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.exc import SQLAlchemyError

    from server.db import alembic_config

    url = settings.server.database_url
    path = _sqlite_path(url)
    upgrade_fix = ("sudo servicepoint db upgrade (the server also does this when it starts: "
                   "sudo systemctl restart servicepoint-server).")
    if path is not None and not path.exists():
        return CheckResult("database", "FAIL", f"there is no database at {path} yet.",
                           upgrade_fix)
    engine = _read_only_engine(url)
    shown = str(path) if path is not None else engine.url.render_as_string(hide_password=True)
    script = ScriptDirectory.from_config(alembic_config(url))
    heads = set(script.get_heads())
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as exc:
        return CheckResult("database", "FAIL",
                           f"cannot open the database {shown}: {exc.__class__.__name__}: "
                           f"{str(exc.orig if hasattr(exc, 'orig') else exc)[:160]}.",
                           "check SERVICEPOINT_DATABASE_URL and that the database is reachable.")
    finally:
        engine.dispose()
    if current == heads:
        return CheckResult("database", "OK", f"{shown} is migrated ({', '.join(sorted(heads))}).")
    if not current:
        return CheckResult("database", "FAIL", f"{shown} has no schema (never migrated).",
                           upgrade_fix)
    unknown = sorted(rev for rev in current if not _known_revision(script, rev))
    if unknown:
        return CheckResult(
            "database", "FAIL",
            f"{shown} was made by a newer servicepoint (revision {', '.join(unknown)} is unknown "
            "to this one).",
            "install the newer servicepoint again, or restore a backup made by this version: "
            "servicepoint db restore FILE.")
    return CheckResult(
        "database", "FAIL",
        f"{shown} is not migrated: it is at {', '.join(sorted(current))}, this servicepoint "
        f"needs {', '.join(sorted(heads))}.", upgrade_fix)


def _known_revision(script: Any, revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return script.get_revision(revision) is not None
    except (CommandError, KeyError, ValueError):
        return False


# ------------------------------------------------------------------------------------- pins


def _header_chip(probes: Probes) -> str | None:
    """The gpiochip that drives the 40-pin header (bcm2835/2711 on a Pi 1-4, rp1 on a Pi 5)."""
    out = probes.command(["gpiodetect"])
    if not out:
        return None
    for line in out.splitlines():
        name, _, rest = line.partition(" ")
        if "pinctrl-bcm2" in rest or "pinctrl-rp1" in rest:
            return name
    return None


def _used_lines(chip: str, probes: Probes) -> dict[int, str] | None:
    """GPIO number -> who holds it, from libgpiod's ``gpioinfo`` (v1 output)."""
    out = probes.command(["gpioinfo", chip])
    if out is None:
        return None
    used: dict[int, str] = {}
    for line in out.splitlines():
        text = line.strip()
        if not text.startswith("line") or ":" not in text:
            continue
        number, _, rest = text[4:].partition(":")
        try:
            offset = int(number)
        except ValueError:
            continue
        fields = rest.split()
        # line  17:  "GPIO17"  "consumer"  input  active-high [used]
        if len(fields) >= 2 and fields[1] != "unused" and "[used]" in rest:
            used[offset] = fields[1].strip('"')
    return used


def check_pins(settings: Deployment, probes: Probes) -> CheckResult:
    from sensors.config import load_sensors_config

    path = settings.node.sensors_file
    if not probes.path_exists(path):
        return CheckResult("pins", "WARN", f"no sensors file at {path}: the sensor node cannot "
                                           "start.",
                           "copy config/sensors.toml there and enter this site's pins, or "
                           "set sensors_file in servicepoint.toml.")
    try:
        config = load_sensors_config(path)
    except ConfigError as exc:
        return CheckResult("pins", "FAIL", f"{exc}.",
                           f"edit {path} (each part needs its own GPIO); "
                           "`servicepoint sensors --check-config` checks it again.")
    pins = dict((pin, key) for key, pin in config.pins())
    summary = f"{len(pins)} GPIO pins in {path} ({', '.join(str(p) for p in sorted(pins))})"
    model = probes.pi_model()
    if model is None:
        return CheckResult("pins", "OK", f"{summary}, no clashes; not a Raspberry Pi, so whether "
                                         "they are free was not checked.")
    if not probes.module_present("lgpio"):
        return CheckResult("pins", "FAIL", f"{summary}, but the lgpio library is missing, which "
                                           f"gpiozero needs on {model}.",
                           "sudo apt install python3-lgpio, or /opt/servicepoint/venv/bin/pip "
                           "install lgpio; scripts/install-pi.sh does this.")
    if config.adc is not None:
        device = Path(f"/dev/spidev0.{config.adc.select}")
        if not probes.path_exists(device):
            return CheckResult("pins", "FAIL", f"{summary}; the MCP3008 needs SPI, but {device} "
                                               "does not exist (SPI is off).",
                               "sudo raspi-config nonint do_spi 0, then sudo reboot.")
    if _service_active("servicepoint-sensors", probes):
        return CheckResult("pins", "OK", f"{summary}, no clashes; the sensor node is running "
                                         "and holds them.")
    chip = _header_chip(probes)
    used = _used_lines(chip, probes) if chip else None
    if used is None:
        return CheckResult("pins", "OK", f"{summary}, no clashes; gpioinfo is not available, "
                                         "so whether they are free was not checked.")
    taken = [(pin, pins[pin], used[pin]) for pin in sorted(pins) if pin in used]
    if taken:
        parts = "; ".join(f"GPIO{pin} ({key}) is taken by '{holder}'"
                          for pin, key, holder in taken)
        return CheckResult("pins", "FAIL", f"{parts}.",
                           "free it (for example switch off 1-Wire, I2C or the serial port in "
                           f"sudo raspi-config if they hold it) or move the part to a free GPIO "
                           f"in {path}.")
    return CheckResult("pins", "OK", f"{summary}, no clashes, all free.")


def _service_active(unit: str, probes: Probes) -> bool:
    out = probes.command(["systemctl", "is-active", unit])
    return out is not None and out.strip() == "active"


# ------------------------------------------------------------------------------------- font


def check_font(settings: Deployment, probes: Probes) -> CheckResult:
    path = settings.kiosk.kiosk.font_path
    fix = ("sudo apt install fonts-wqy-microhei (the default font), or set kiosk.font_path "
           "in servicepoint.toml to a CJK font file.")
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except FileNotFoundError:
        return CheckResult("font", "FAIL", f"the kiosk's font {path} is missing: Chinese text "
                                           "would show as empty boxes.", fix)
    except OSError as exc:
        return CheckResult("font", "FAIL", f"the kiosk's font {path} cannot be read: "
                                           f"{exc.strerror}.", fix)
    if magic not in _FONT_MAGIC:
        return CheckResult("font", "FAIL", f"{path} is not a TrueType/OpenType font.", fix)
    return CheckResult("font", "OK", f"kiosk font {path}.")


# ------------------------------------------------------------------------------------ clock


def check_clock(settings: Deployment, probes: Probes) -> CheckResult:
    now = probes.now()
    stamp = now.strftime("%Y-%m-%d %H:%M")
    if now.year < MIN_YEAR:
        return CheckResult(
            "clock", "FAIL",
            f"the clock says {stamp}: tickets, cleaning dates and logs would get wrong dates.",
            "connect the Pi to the network so it sets its clock (sudo timedatectl set-ntp true), "
            "or set it by hand: sudo date -s 'YYYY-MM-DD HH:MM'.")
    out = probes.command(["timedatectl", "show"])
    if out is None:
        return CheckResult("clock", "OK", f"{stamp}; time sync state unknown (timedatectl "
                                          "is not available here).")
    state = dict(line.partition("=")[::2] for line in out.splitlines() if "=" in line)
    if state.get("NTP") == "no":
        return CheckResult("clock", "WARN", f"{stamp}, but automatic time sync is off.",
                           "sudo timedatectl set-ntp true.")
    if state.get("NTPSynchronized") == "no":
        return CheckResult("clock", "WARN", f"{stamp}, not yet synchronised with a time server.",
                           "check the network; `timedatectl timesync-status` shows which "
                           "server it tries.")
    zone = state.get("Timezone")
    site_zone = settings.server.site.timezone
    if zone and zone != site_zone:
        return CheckResult("clock", "WARN", f"{stamp}, synchronised; the Pi's time zone is "
                                            f"{zone}, the site's is {site_zone}.",
                           f"sudo timedatectl set-timezone {site_zone}.")
    return CheckResult("clock", "OK", f"{stamp}, synchronised with a time server.")


# ------------------------------------------------------------------------------------- disk


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk(settings: Deployment, probes: Probes) -> CheckResult:
    folder = settings.server.data_dir
    usage = probes.disk_usage(_existing(folder))
    free_mb = usage.free / (1024 * 1024)
    text = f"{free_mb:,.0f} MB free for {folder}"
    fix = ("delete old backups in the data folder's backups/, trim the journal "
           "(sudo journalctl --vacuum-size=100M), or use a bigger SD card.")
    if usage.free < DISK_FAIL_BYTES:
        return CheckResult("disk", "FAIL", f"only {text}: the database will stop saving.", fix)
    if usage.free < DISK_WARN_BYTES or usage.free < 0.05 * usage.total:
        return CheckResult("disk", "WARN", f"only {text}.", fix)
    if folder.exists() and not os.access(folder, os.W_OK):
        return CheckResult("disk", "WARN", f"{text}, but this user cannot write there.",
                           "run the doctor as the service user (sudo servicepoint doctor) or: "
                           f"sudo chown -R servicepoint: {folder}.")
    return CheckResult("disk", "OK", text + ".")
