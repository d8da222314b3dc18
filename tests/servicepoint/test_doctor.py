"""``servicepoint doctor`` names each injected fault of a deployment, and only that one.

A healthy deployment is built in a temp folder: a real Mosquitto with a password file, a migrated
SQLite database, a sensors file, a font file. Each fault test breaks one thing and checks that the
right check FAILs with words an installer understands, while the others stay OK.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from servicepoint import doctor
from servicepoint.doctor import CheckResult, Deployment, Probes, load_deployment, run_checks
from tests.support.broker import MosquittoBroker
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]
SERVER_PASSWORD = "right-password-1"
NOW = datetime(2026, 3, 1, 9, 30)


@dataclass
class Usage:
    total: int
    used: int
    free: int


def quiet_probes(**overrides: object) -> Probes:
    """Answers of a healthy machine that is not a Pi and has no timedatectl, whose public
    address answers (the real GET is tested in test_doctor_public_url.py, on loopback)."""
    probes = Probes(now=lambda: NOW, command=lambda argv: None, pi_model=lambda: None,
                    disk_usage=lambda path: Usage(32 * 2**30, 8 * 2**30, 24 * 2**30),
                    broker_timeout=2.0, http_get=lambda url, timeout: (200, ""))
    for name, value in overrides.items():
        setattr(probes, name, value)
    return probes


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from server.db import make_engine, upgrade

    path = tmp_path_factory.mktemp("template") / "servicepoint.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def password_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    # As root Mosquitto drops to the 'mosquitto' user, who cannot read the root-only password
    # file in pytest's temp folder; keep it as the user running the tests.
    extra = f"user {getpass.getuser()}" if os.geteuid() == 0 else ""
    broker = MosquittoBroker(tmp_path_factory.mktemp("broker"),
                             users={"servicepoint-server": SERVER_PASSWORD}, extra=extra)
    broker.start()
    yield broker
    broker.stop()


class Site:
    """A deployment in a folder; ``env`` holds what /etc/servicepoint/env would."""

    def __init__(self, root: Path, broker: MosquittoBroker, template: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.data.mkdir()
        shutil.copy(template, self.data / "servicepoint.db")
        self.font = root / "wqy-microhei.ttc"
        self.font.write_bytes(b"ttcf" + b"\x00" * 60)
        self.sensors = root / "sensors.toml"
        shutil.copy(REPO / "config" / "sensors.toml", self.sensors)
        self.config = root / "servicepoint.toml"
        self.config.write_text(
            'environment = "production"\n'
            f'data_dir = "{self.data}"\n'
            f'sensors_file = "{self.sensors}"\n'
            f'categories_file = "{REPO / "config" / "categories.toml"}"\n'
            "[http]\n"
            'public_url = "https://sp.example.cn"\n'
            "[kiosk]\n"
            f'font_path = "{self.font}"\n')
        self.env = {
            "SERVICEPOINT_CONFIG": str(self.config),
            "SERVICEPOINT_SECRET_KEY": "a-real-secret-for-the-test",
            "SERVICEPOINT_SECURITY__KIOSK_KEY": "a-real-kiosk-key",
            "SERVICEPOINT_KIOSK__STAFF_PIN": "731906",
            "SERVICEPOINT_MQTT_URL":
                f"mqtt://servicepoint-server:{SERVER_PASSWORD}@127.0.0.1:{broker.port}",
        }

    def settings(self) -> Deployment:
        return load_deployment(env=self.env)

    def check(self, probes: Probes | None = None) -> dict[str, CheckResult]:
        results = list(run_checks(self.settings(), probes=probes or quiet_probes()))
        return {r.name: r for r in results}


@pytest.fixture
def site(tmp_path: Path, password_broker: MosquittoBroker, migrated_template: Path) -> Site:
    return Site(tmp_path, password_broker, migrated_template)


def only_failure(results: dict[str, CheckResult]) -> CheckResult:
    failed = [r for r in results.values() if r.status == "FAIL"]
    assert len(failed) == 1, [r.line() for r in failed]
    return failed[0]


def test_a_healthy_deployment_is_all_ok(site: Site) -> None:
    results = site.check()
    assert list(results) == ["config", "broker", "database", "pins", "font", "clock", "disk",
                            "public_url"]
    assert {r.status for r in results.values()} == {"OK"}, [r.line() for r in results.values()]
    assert "logged in" in results["broker"].message


# ---------------------------------------------------------------------- the injected faults


def test_wrong_broker_password(site: Site, password_broker: MosquittoBroker) -> None:
    site.env["SERVICEPOINT_MQTT_URL"] = (
        f"mqtt://servicepoint-server:not-the-password@127.0.0.1:{password_broker.port}")
    failure = only_failure(site.check())
    assert failure.name == "broker"
    assert "wrong password" in failure.message
    assert "mosquitto_passwd" in failure.fix
    assert "not-the-password" not in failure.line()  # never echo a secret


def test_broker_login_missing(site: Site, password_broker: MosquittoBroker) -> None:
    site.env["SERVICEPOINT_MQTT_URL"] = f"mqtt://127.0.0.1:{password_broker.port}"
    failure = only_failure(site.check())
    assert failure.name == "broker"
    assert "wants a username and password" in failure.message


def test_nothing_listening(site: Site) -> None:
    port = free_port()
    site.env["SERVICEPOINT_MQTT_URL"] = f"mqtt://servicepoint-server:x@127.0.0.1:{port}"
    failure = only_failure(site.check())
    assert failure.name == "broker"
    assert f"nothing listens at 127.0.0.1:{port}" in failure.message
    assert "systemctl start servicepoint-broker" in failure.fix


def test_tls_failure(site: Site, password_broker: MosquittoBroker) -> None:
    # mqtts:// to a plain listener: the TLS handshake cannot succeed.
    site.env["SERVICEPOINT_MQTT_URL"] = (
        f"mqtts://servicepoint-server:{SERVER_PASSWORD}@127.0.0.1:{password_broker.port}")
    failure = only_failure(site.check())
    assert failure.name == "broker"
    assert failure.message.startswith("TLS failed")


def test_unmigrated_database(site: Site) -> None:
    from alembic import command

    from server.db import alembic_config

    db = site.data / "servicepoint.db"
    db.unlink()
    command.upgrade(alembic_config(f"sqlite:///{db}"), "0001")  # an older schema
    failure = only_failure(site.check())
    assert failure.name == "database"
    assert "is not migrated" in failure.message and "0001" in failure.message
    assert "servicepoint db upgrade" in failure.fix


def test_database_never_created(site: Site) -> None:
    (site.data / "servicepoint.db").unlink()
    failure = only_failure(site.check())
    assert failure.name == "database"
    assert "no database" in failure.message
    assert not (site.data / "servicepoint.db").exists()  # the doctor only looks


def test_database_from_a_newer_version(site: Site) -> None:
    import sqlite3

    with sqlite3.connect(site.data / "servicepoint.db") as connection:
        # The database says one of its branches is past the newest migration this version knows.
        connection.execute("UPDATE alembic_version SET version_num = '9999' WHERE version_num ="
                           " (SELECT max(version_num) FROM alembic_version)")
    failure = only_failure(site.check())
    assert failure.name == "database"
    assert "newer servicepoint" in failure.message


def test_missing_font(site: Site) -> None:
    site.font.unlink()
    failure = only_failure(site.check())
    assert failure.name == "font"
    assert "missing" in failure.message and "fonts-wqy-microhei" in failure.fix


def test_file_that_is_not_a_font(site: Site) -> None:
    site.font.write_text("<html>404</html>")
    failure = only_failure(site.check())
    assert failure.name == "font" and "not a TrueType/OpenType font" in failure.message


def test_pin_clash(site: Site) -> None:
    text = site.sensors.read_text().replace("present_pin = 16", "present_pin = 17")
    site.sensors.write_text(text)
    failure = only_failure(site.check())
    assert failure.name == "pins"
    assert "GPIO17 is already used by bay[0].present_pin" in failure.message
    assert "bay[1].present_pin" in failure.message
    assert "--check-config" in failure.fix


GPIODETECT = """gpiochip0 [pinctrl-rp1] (54 lines)
gpiochip1 [rp1-gpio] (4 lines)
"""
GPIOINFO = """gpiochip0 - 54 lines:
	line   4:     "GPIO4"   "onewire@0"   input  active-high [used]
	line  16:    "GPIO16"       unused   input  active-high
	line  17:    "GPIO17"  "w1-gpio"  input  active-high [used]
	line  18:    "GPIO18"       unused   input  active-high
"""


def pi_probes(*, sensors_active: bool = False, **overrides: object) -> Probes:
    answers = {"gpiodetect": GPIODETECT, "gpioinfo": GPIOINFO,
               "systemctl": "active\n" if sensors_active else "inactive\n"}

    def command(argv: Sequence[str]) -> str | None:
        return answers.get(argv[0])

    pi: dict[str, object] = {"command": command,
                             "pi_model": lambda: "Raspberry Pi 5 Model B Rev 1.0",
                             "module_present": lambda name: True,
                             "path_exists": lambda path: True}
    return quiet_probes(**{**pi, **overrides})


def test_pin_taken_by_another_driver_on_a_pi(site: Site) -> None:
    failure = only_failure(site.check(pi_probes()))
    assert failure.name == "pins"
    assert "GPIO17 (bay[0].present_pin) is taken by 'w1-gpio'" in failure.message


def test_pins_held_by_the_running_sensor_node_are_fine(site: Site) -> None:
    assert site.check(pi_probes(sensors_active=True))["pins"].status == "OK"


def test_spi_off_for_the_adc(site: Site) -> None:
    probes = pi_probes(path_exists=lambda path: not str(path).startswith("/dev/spidev"))
    failure = only_failure(site.check(probes))
    assert failure.name == "pins" and "SPI is off" in failure.message
    assert "do_spi 0" in failure.fix


def test_lgpio_missing_on_a_pi(site: Site) -> None:
    failure = only_failure(site.check(pi_probes(module_present=lambda name: False)))
    assert failure.name == "pins" and "lgpio" in failure.message


def test_clock_in_1970(site: Site) -> None:
    failure = only_failure(site.check(quiet_probes(now=lambda: datetime(1970, 1, 1, 0, 1))))
    assert failure.name == "clock"
    assert "1970-01-01" in failure.message and "set-ntp true" in failure.fix


@pytest.mark.parametrize(("answer", "words"), [
    ("NTP=yes\nNTPSynchronized=no\nTimezone=Asia/Shanghai\n", "not yet synchronised"),
    ("NTP=no\nNTPSynchronized=no\nTimezone=Asia/Shanghai\n", "time sync is off"),
    ("NTP=yes\nNTPSynchronized=yes\nTimezone=Etc/UTC\n", "time zone is Etc/UTC"),
])
def test_clock_sync_warnings(site: Site, answer: str, words: str) -> None:
    probes = quiet_probes(command=lambda argv: answer if argv[0] == "timedatectl" else None)
    result = site.check(probes)["clock"]
    assert result.status == "WARN" and words in result.message


def test_disk_nearly_full(site: Site) -> None:
    probes = quiet_probes(disk_usage=lambda path: Usage(32 * 2**30, 32 * 2**30, 50 * 2**20))
    failure = only_failure(site.check(probes))
    assert failure.name == "disk" and "only 50 MB free" in failure.message


# ---------------------------------------------------------------------------------- the CLI


@pytest.fixture
def site_env(site: Site, monkeypatch: pytest.MonkeyPatch) -> Site:
    for key, value in site.env.items():
        monkeypatch.setenv(key, value)
    return site


def test_cli_prints_one_line_per_check_and_a_summary(site_env: Site,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    site_env.font.unlink()
    code = doctor.main([], probes=quiet_probes())
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert len(lines) == 9
    assert lines[4].startswith("FAIL font") and "Fix:" in lines[4]
    assert lines[-1] == "doctor: 8 checks, 7 OK, 0 WARN, 1 FAIL: problems found."


def test_cli_json_for_machines(site_env: Site, capsys: pytest.CaptureFixture[str]) -> None:
    code = doctor.main(["--json", "--only", "database", "--only", "font"], probes=quiet_probes())
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["ok"] is True
    assert [c["name"] for c in report["checks"]] == ["database", "font"]
    assert set(report["checks"][0]) == {"name", "status", "message", "fix"}


def test_cli_reports_settings_that_do_not_load(site_env: Site, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SERVICEPOINT_HTTP__PORT", "not-a-port")
    code = doctor.main([], probes=quiet_probes())
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("FAIL config") and "http.port" in out


def test_cli_names_each_public_or_short_secret(site_env: Site, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SERVICEPOINT_SECRET_KEY", "x")
    monkeypatch.delenv("SERVICEPOINT_KIOSK__STAFF_PIN")
    code = doctor.main([], probes=quiet_probes())
    out = capsys.readouterr().out
    assert code == 1 and out.startswith("FAIL config")
    assert "security.secret_key: is shorter than 16 characters" in out
    assert "kiosk.staff_pin: still has the development placeholder" in out


def test_demo_sign_ins_with_their_passwords_fail_the_config_check(site: Site) -> None:
    from server.db import make_engine, session_factory
    from server.services.site_data import apply_site_data, load_site_data

    engine = make_engine(f"sqlite:///{site.data / 'servicepoint.db'}")
    with session_factory(engine)() as session:
        apply_site_data(session, data=load_site_data(REPO / "config" / "demo-site.toml"))
    engine.dispose()
    failed = only_failure(site.check())
    assert failed.name == "config"
    assert "sign-ins: admin, " in failed.message and "demo passwords" in failed.message


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    from servicepoint.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["doctor", "--help"])
    assert exit_info.value.code == 0
    assert "Examples: sudo servicepoint doctor" in capsys.readouterr().out
