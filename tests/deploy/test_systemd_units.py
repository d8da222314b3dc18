"""The service units in config/systemd/ and config/kiosk/: what an installer relies on, and
systemd's own verdict.

``systemd-analyze verify`` checks the units the way systemd would load them (unknown keys, bad
values, missing executables). The program's path, /opt/servicepoint/venv/bin/servicepoint, exists
only on an installed Pi, so the test points the units at a stand-in executable first.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "config" / "systemd"
KIOSK_UNIT = REPO / "config" / "kiosk" / "servicepoint-kiosk.service"
PROGRAM = "/opt/servicepoint/venv/bin/servicepoint"
SERVICES = ["servicepoint-broker.service", "servicepoint-server.service",
            "servicepoint-sensors.service"]


def read_unit(name: str) -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> every value (systemd allows a key more than once)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    path = KIOSK_UNIT if name == KIOSK_UNIT.name else UNITS / name
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.mark.parametrize("name", SERVICES)
def test_service_starts_at_boot_restarts_on_failure_and_logs_to_the_journal(name: str) -> None:
    unit = read_unit(name)
    assert "multi-user.target" in " ".join(unit["Install"]["WantedBy"])
    assert unit["Service"]["Restart"] == ["on-failure"]
    assert unit["Service"]["StandardOutput"] == ["journal"]
    assert unit["Service"]["StandardError"] == ["journal"]
    assert unit["Service"]["SyslogIdentifier"] == [name.removesuffix(".service")]


@pytest.mark.parametrize("name", ["servicepoint-server.service", "servicepoint-sensors.service"])
def test_server_and_sensors_start_after_the_broker_as_the_service_user(name: str) -> None:
    unit = read_unit(name)
    assert "servicepoint-broker.service" in " ".join(unit["Unit"]["After"])
    assert "servicepoint-broker.service" in " ".join(unit["Unit"]["Wants"])
    assert unit["Service"]["User"] == ["servicepoint"]
    # Secrets come from a file outside the repo, never from the unit itself.
    assert unit["Service"]["EnvironmentFile"][0].startswith("/etc/servicepoint/")
    assert not any("SECRET" in value or "PASSWORD" in value.upper()
                   for value in unit["Service"].get("Environment", []))
    assert unit["Service"]["ExecStart"][0].startswith(PROGRAM)


@pytest.mark.parametrize(("name", "env_file"), [
    ("servicepoint-server.service", "/etc/servicepoint/env"),
    ("servicepoint-sensors.service", "/etc/servicepoint/sensors.env"),
    ("servicepoint-kiosk.service", "/etc/servicepoint/kiosk.env"),
])
def test_each_program_reads_only_its_own_env_file(name: str, env_file: str) -> None:
    # The sensor node and the kiosk never see the server's secret key or broker login.
    assert read_unit(name)["Service"]["EnvironmentFile"] == [env_file]


def test_kiosk_runs_the_installed_program_with_its_own_state() -> None:
    service = read_unit(KIOSK_UNIT.name)["Service"]
    assert service["ExecStart"] == [PROGRAM + " kiosk --fullscreen"]
    assert service["User"] == ["kiosk"]
    assert service["StateDirectory"] == ["servicepoint-kiosk servicepoint-kiosk/kivy"]
    assert "KIVY_HOME=/var/lib/servicepoint-kiosk/kivy" in service["Environment"]


def test_broker_runs_the_shipped_config_as_the_mosquitto_user() -> None:
    unit = read_unit("servicepoint-broker.service")
    assert unit["Service"]["User"] == ["mosquitto"]
    assert unit["Service"]["ExecStart"] == [
        "/usr/sbin/mosquitto -c /etc/servicepoint/mosquitto/mosquitto.conf"]
    assert "mosquitto.service" in unit["Unit"]["Conflicts"]


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    program = tmp_path / "bin" / "servicepoint"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    names = sorted(p.name for p in UNITS.glob("servicepoint*"))
    assert {"servicepoint.target", "servicepoint-backup.timer", *SERVICES} <= set(names)
    for name in names:
        text = (UNITS / name).read_text().replace(PROGRAM, str(program))
        (tmp_path / name).write_text(text)
    names.append(KIOSK_UNIT.name)
    (tmp_path / KIOSK_UNIT.name).write_text(KIOSK_UNIT.read_text().replace(PROGRAM, str(program)))
    done = subprocess.run(["systemd-analyze", "verify", *(str(tmp_path / n) for n in names)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    ours = [line for line in done.stderr.splitlines() if str(tmp_path) in line]
    assert ours == [], "\n".join(ours)
