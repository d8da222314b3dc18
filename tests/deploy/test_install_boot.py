"""A Pi install that boots: scripts/install-pi.sh into a folder, then each installed unit started.

The installer runs with ``--root DIR --keep-venv``: it writes the Pi's files under DIR, lists what
would change this machine (apt, users, systemctl) in DIR/install-commands.log, and uses the
program already in DIR/opt/servicepoint/venv, here a link to this checkout's venv. Then
tests/deploy/boot.py starts each installed unit's ExecStart with exactly the environment its
Environment= and EnvironmentFile= lines give it, in a network namespace of its own (real ports,
no clash with anything else here), and checks that each program comes up. The kiosk test at the
end breaks the kiosk's env file the way the old installer did and expects the kiosk to stop.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.deploy.boot import CHECKS

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "install-pi.sh"
UNITS = "etc/systemd/system"

# It starts the real broker and renders the kiosk offscreen.
pytestmark = [pytest.mark.xdist_group("install-boot"), pytest.mark.broker, pytest.mark.kiosk]


def install(root: Path) -> str:
    """Run the installer into ``root`` and play the installer's person: fill in the alert
    channels' URLs, which only the site knows (docs/DEPLOYMENT.md, 'Alert channels')."""
    venv = root / "opt" / "servicepoint" / "venv"
    venv.parent.mkdir(parents=True)
    venv.symlink_to(Path(sys.executable).parent.parent)
    done = subprocess.run(["bash", str(SCRIPT), "--root", str(root), "--keep-venv"],
                          capture_output=True, text=True, timeout=120, cwd=root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    alerts = tomllib.loads((root / "etc/servicepoint/alerts.toml").read_text())
    urls = [channel["url_env"] for site in alerts["sites"].values() for staff in site["staff"]
            for channel in staff["channels"]]
    assert all(name in done.stdout for name in urls), "the installer must name the alert URLs"
    with (root / "etc/servicepoint/env").open("a") as env:
        for name in urls:  # an address nobody answers: the server only checks that it is a URL
            env.write(f"{name}=json://127.0.0.1:9/\n")
    return done.stdout


def boot(root: Path, units: list[str]) -> dict[str, dict[str, object]]:
    """Start the units in a private network namespace; {unit: {ok, detail, log}}."""
    unshare = ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-r", "-n"]
    done = subprocess.run([*unshare, sys.executable, "-m", "tests.deploy.boot", str(root), *units],
                          capture_output=True, text=True, timeout=150, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    results = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            report = json.loads(line)
            results[report.pop("unit")] = report
    return results


def test_every_installed_unit_starts_and_its_program_comes_up(tmp_path: Path) -> None:
    root = tmp_path / "pi"
    install(root)
    installed = sorted(p.name for p in (root / UNITS).glob("*.service"))
    # A unit added to the installer needs its check in tests/deploy/boot.py.
    assert installed == sorted(CHECKS), installed
    # Each service runs as a user the installer makes, or Debian's mosquitto package makes.
    created = [shlex.split(line)[-1] for line in
               (root / "install-commands.log").read_text().splitlines()
               if line.startswith("useradd ")]
    for name in installed:
        for line in (root / UNITS / name).read_text().splitlines():
            if line.startswith("User="):
                user = line.removeprefix("User=")
                assert user in created or user == "mosquitto", f"{name}: no user {user}"
    # The broker first and the backup last, as they would start on a Pi.
    order = ["servicepoint-broker.service", "servicepoint-server.service",
             "servicepoint-sensors.service", "servicepoint-kiosk.service",
             "servicepoint-backup.service"]
    results = boot(root, order)
    assert list(results) == order
    failed = {unit: f"{r['detail']}\n{r['log']}" for unit, r in results.items() if not r["ok"]}
    assert not failed, "\n\n".join(f"{unit}: {text}" for unit, text in failed.items())


def test_the_kiosk_does_not_start_when_its_env_file_lacks_its_key(tmp_path: Path) -> None:
    root = tmp_path / "pi"
    install(root)
    env_file = root / "etc/servicepoint/kiosk.env"
    lines = env_file.read_text().splitlines()
    env_file.write_text("\n".join(line for line in lines
                                  if not line.startswith("SERVICEPOINT_SECURITY__KIOSK_KEY=")))
    report = boot(root, ["servicepoint-kiosk.service"])["servicepoint-kiosk.service"]
    assert report["ok"] is False
    assert "security.kiosk_key" in str(report["log"])
