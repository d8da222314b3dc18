"""scripts/install-pi.sh: valid bash, careful quoting, and a dry run that shows every step.

The script itself changes a Pi (apt, users, systemd), so here it runs with --dry-run, which
prints each command instead of running it, or with --root into a folder (the address the QR
codes carry, at the end); shellcheck runs where it is installed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from servicepoint.probes import Deployment, Probes, load_deployment
from servicepoint.public_url import check_public_url

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


# ------------------------------------------- the address the QR codes carry (issue 19)
# The installer runs for real here, into a folder (--root, as tests/deploy/test_install_boot.py
# does), with the Pi's address on its Wi-Fi given by SERVICEPOINT_TEST_LAN_IP: nothing asks this
# machine's network. The doctor's public_url check then reads the settings exactly as installed.


def install_into(root: Path, *options: str, lan_ip: str = "192.168.31.7",
                 check: bool = True) -> subprocess.CompletedProcess[str]:
    venv = root / "opt" / "servicepoint" / "venv"
    if not venv.exists():
        venv.parent.mkdir(parents=True)
        venv.symlink_to(Path(sys.executable).parent.parent)
    done = subprocess.run(["bash", str(SCRIPT), "--root", str(root), "--keep-venv", *options],
                          capture_output=True, text=True, timeout=180, cwd=root,
                          env={**os.environ, "SERVICEPOINT_TEST_LAN_IP": lan_ip})
    if check:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def installed_deployment(root: Path) -> Deployment:
    """The settings every program reads on that Pi: its settings file and its env files."""
    env: dict[str, str] = {}
    for name in ["env", "kiosk.env"]:
        for line in (root / "etc/servicepoint" / name).read_text().splitlines():
            key, _, value = line.partition("=")
            env[key] = value
    env["SERVICEPOINT_CONFIG"] = str(root / "etc/servicepoint/servicepoint.toml")
    env["SERVICEPOINT_DATA_DIR"] = str(root / "var/lib/servicepoint")
    return load_deployment(env=env)


def answering(asked: list[str]) -> Probes:
    """The doctor's GET seam: the server answers /healthz (it is not started here)."""
    def get(url: str, timeout: float) -> tuple[int | None, str]:
        asked.append(url)
        return 200, ""
    return Probes(http_get=get)


LAN_ONLY_WORDS = "Phones can open the QR codes only on this service point's Wi-Fi"


def test_a_lone_pi_points_its_qr_codes_at_its_wifi_address_and_the_doctor_warns(
        tmp_path: Path) -> None:
    done = install_into(tmp_path / "pi")
    settings = installed_deployment(tmp_path / "pi")
    assert settings.server.environment == "production"
    assert settings.server.http.public_url == "http://192.168.31.7:8080"
    assert settings.server.http.lan_only is True
    # Phones on the Wi-Fi reach the server itself, not only the kiosk on the Pi.
    assert settings.server.http.host == "0.0.0.0"
    assert settings.kiosk.http.public_url == "http://192.168.31.7:8080"
    asked: list[str] = []
    result = check_public_url(settings, answering(asked))
    assert asked == ["http://192.168.31.7:8080/healthz"]
    assert result.status == "WARN", result
    assert "http.lan_only = true" in result.message
    # The installer says so plainly at the end, and where to read how to reach further.
    ending = done.stdout.split("What this run did:", 1)[1]
    assert LAN_ONLY_WORDS in ending
    assert "docs/DEPLOYMENT.md (district / reverse tunnel" in ending


def test_public_url_given_is_written_and_the_doctor_passes_it(tmp_path: Path) -> None:
    root = tmp_path / "pi"
    install_into(root)  # first without: the Wi-Fi address, as above
    done = install_into(root, "--public-url", "https://sp.example.org/")
    settings = installed_deployment(root)
    assert settings.server.http.public_url == "https://sp.example.org"
    assert settings.server.http.lan_only is False
    assert settings.kiosk.http.public_url == "https://sp.example.org"
    result = check_public_url(settings, answering([]))
    assert result.status == "OK", result
    assert LAN_ONLY_WORDS not in done.stdout
    # The file was the installer's own: updated in place, no FILE.new beside it.
    assert not (root / "etc/servicepoint/servicepoint.toml.new").exists()


@pytest.mark.parametrize(("url", "why"), [
    ("http://192.168.1.5", "not https; a private address"),
    ("https://10.0.0.3", "a private address"),
    ("http://sp.example.org", "not https"),
])
def test_an_address_phones_elsewhere_cannot_open_is_refused_before_anything_changes(
        tmp_path: Path, url: str, why: str) -> None:
    done = install_into(tmp_path / "pi", "--public-url", url, check=False)
    assert done.returncode == 2
    assert f"--public-url {url} is refused ({why})" in done.stderr
    assert "https" in done.stderr.split("refused", 1)[1]
    assert not (tmp_path / "pi" / "etc").exists()


def test_a_rerun_keeps_the_address_someone_set_and_another_pis_address_changes_nothing(
        tmp_path: Path) -> None:
    root = tmp_path / "pi"
    settings_file = root / "etc/servicepoint/servicepoint.toml"
    install_into(root)
    # The nephew put the tunnel's address in by hand.
    text = settings_file.read_text()
    assert 'public_url = "http://192.168.31.7:8080"' in text
    settings_file.write_text(text.replace('public_url = "http://192.168.31.7:8080"',
                                          'public_url = "https://sp.tunnel.example.cn"'))
    done = install_into(root, lan_ip="192.168.31.99")  # the router gave the Pi a new address
    assert "public_url https://sp.tunnel.example.cn" in done.stdout and "is kept" in done.stdout
    assert installed_deployment(root).server.http.public_url == "https://sp.tunnel.example.cn"
    assert not (root / "etc/servicepoint/servicepoint.toml.new").exists()
    # Later the centre gives the Pi its address: --public-url replaces the one set by hand and
    # keeps the file's other edits (the newer shipped file goes beside it, as for any edit).
    settings_file.write_text(settings_file.read_text().replace("session_hours = 12",
                                                               "session_hours = 10"))
    install_into(root, "--public-url", "https://sp.example.org")
    settings = installed_deployment(root)
    assert settings.server.http.public_url == "https://sp.example.org"
    assert settings.server.http.lan_only is False
    assert settings.server.security.session_hours == 10
    assert (root / "etc/servicepoint/servicepoint.toml.new").exists()


def test_public_url_given_replaces_the_one_in_the_servers_env_file(tmp_path: Path) -> None:
    """The environment overrides the settings file: a centre replica's installer put the
    address in /etc/servicepoint/env (docs/DEPLOYMENT.md, District)."""
    root = tmp_path / "pi"
    install_into(root)
    env_file = root / "etc/servicepoint/env"
    env_file.write_text(env_file.read_text() + "SERVICEPOINT_HTTP__PUBLIC_URL=https://old.example.cn\n")
    install_into(root, "--public-url", "https://sp.example.org")
    assert installed_deployment(root).server.http.public_url == "https://sp.example.org"
    lines = env_file.read_text().splitlines()
    assert "SERVICEPOINT_HTTP__PUBLIC_URL=https://sp.example.org" in lines
    assert not any("old.example.cn" in line for line in lines)
    assert any(line.startswith("SERVICEPOINT_SECRET_KEY=") for line in lines)
