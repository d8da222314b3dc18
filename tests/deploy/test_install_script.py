"""scripts/install-pi.sh: valid bash, careful quoting, and a dry run that shows every step.

The script itself changes a Pi (apt, users, systemd), so here it runs with --dry-run, which
prints each command instead of running it; shellcheck runs where it is installed.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "install-pi.sh"


def test_bash_syntax_is_valid() -> None:
    done = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_script_stops_on_errors_and_unset_variables() -> None:
    lines = SCRIPT.read_text().splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines[:20]
    assert os.access(SCRIPT, os.X_OK)


def test_shellcheck_is_clean() -> None:
    # scripts/bootstrap.sh installs shellcheck for the tests.
    done = subprocess.run(["shellcheck", "-x", str(SCRIPT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_help_says_how_to_run_it() -> None:
    done = subprocess.run(["bash", str(SCRIPT), "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "sudo scripts/install-pi.sh" in done.stdout
    assert "--dry-run" in done.stdout


def test_unknown_option_is_refused() -> None:
    done = subprocess.run(["bash", str(SCRIPT), "--frobnicate"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "unknown option" in done.stderr


def test_dry_run_shows_every_step_and_changes_nothing(tmp_path: Path) -> None:
    done = subprocess.run(["bash", str(SCRIPT), "--dry-run", "--no-kiosk"], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for step in range(10):
        assert f"==> {step}/9 " in out
    for expected in ["useradd --system", "-m venv --system-site-packages /opt/servicepoint/venv",
                     "mosquitto_passwd -b /etc/servicepoint/mosquitto/passwd servicepoint-server",
                     "mosquitto_passwd -b /etc/servicepoint/mosquitto/passwd pump-room",
                     "would add SERVICEPOINT_SECRET_KEY to /etc/servicepoint/env",
                     "would add SERVICEPOINT_SECURITY__KIOSK_KEY to /etc/servicepoint/env",
                     "systemctl enable servicepoint-broker.service servicepoint-server.service "
                     "servicepoint-sensors.service",
                     "/usr/local/bin/servicepoint db upgrade",
                     "What this run did:"]:
        if expected.startswith("useradd") and "user servicepoint already exists" in out:
            continue
        assert expected in out, expected
    # Generated secrets are never printed.
    assert "SERVICEPOINT_SECRET_KEY=" not in out
    assert "mqtt://servicepoint-server:" not in out
    assert not re.search(r"[0-9a-f]{32}", out), "a generated secret was printed"
