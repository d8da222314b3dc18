"""``servicepoint doctor`` fails a production setting whose ``public_url`` phones cannot open from
anywhere (issue 19), says what to set, and checks that the address answers.

The address is only ever fetched on loopback here: a real small HTTP server in a thread stands
in for the server's ``/healthz`` (the doctor's GET seam itself), or nothing listens at all.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from servicepoint import doctor
from servicepoint.doctor import CheckResult, Deployment, Probes, load_deployment
from servicepoint.public_url import check_public_url
from tests.servicepoint.test_doctor import (  # noqa: F401 (fixtures used by name)
    Site,
    migrated_template,
    password_broker,
    quiet_probes,
    site,
)
from tests.support.ports import free_port

ANSWERS = Probes(http_get=lambda url, timeout: (200, ""))


def deployment(tmp_path: Path, public_url: str, *, lan_only: bool = False,
               environment: str = "production") -> Deployment:
    config = tmp_path / "servicepoint.toml"
    config.write_text(f'environment = "{environment}"\n'
                      f'data_dir = "{tmp_path}"\n'
                      "[http]\n"
                      f'public_url = "{public_url}"\n'
                      f"lan_only = {'true' if lan_only else 'false'}\n")
    return load_deployment(env={
        "SERVICEPOINT_CONFIG": str(config),
        "SERVICEPOINT_SECRET_KEY": "a-real-secret-for-the-test",
        "SERVICEPOINT_SECURITY__KIOSK_KEY": "a-real-kiosk-key",
        "SERVICEPOINT_KIOSK__STAFF_PIN": "731906"})


def test_production_with_a_loopback_public_url_fails_naming_public_url(
        site: Site,  # noqa: F811 (the fixture of test_doctor.py, imported above)
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 19's "done means": the whole doctor, a production setting, http://127.0.0.1:8080."""
    for key, value in site.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SERVICEPOINT_HTTP__PUBLIC_URL", "http://127.0.0.1:8080")
    code = doctor.main([], probes=quiet_probes(http_get=Probes().http_get))
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    failed = [line for line in lines if line.startswith("FAIL")]
    assert len(failed) == 1 and failed[0].startswith("FAIL public_url"), lines
    assert "http.public_url http://127.0.0.1:8080 is a loopback address" in failed[0]
    assert "is not https" in failed[0]
    fix = failed[0].split("Fix:", 1)[1]
    assert "set http.public_url" in fix and "https://" in fix and "http.lan_only" in fix


@pytest.mark.parametrize(("url", "words"), [
    ("https://10.2.3.4", "is a private address"),
    ("https://172.16.9.1:8443", "is a private address"),
    ("https://192.168.1.20", "is a private address"),
    ("https://169.254.10.1", "is a link-local address"),
    ("https://servicepoint.local", "is a local network name (servicepoint.local)"),
    ("https://localhost:8443", "is a loopback name (localhost)"),
    ("https://[::1]:8443", "is a loopback address"),
])
def test_private_addresses_fail_and_say_who_cannot_open_them(tmp_path: Path, url: str,
                                                             words: str) -> None:
    result = check_public_url(deployment(tmp_path, url), ANSWERS)
    assert result.status == "FAIL"
    assert f"http.public_url {url} {words}" in result.message
    assert "only phones on the service point's Wi-Fi" in result.message
    assert "not https" not in result.message


def test_a_public_host_without_https_fails(tmp_path: Path) -> None:
    result = check_public_url(deployment(tmp_path, "http://sp.example.cn"), ANSWERS)
    assert result.status == "FAIL"
    assert result.message == "http.public_url http://sp.example.cn is not https."


def test_a_public_https_address_that_answers_is_ok(tmp_path: Path) -> None:
    asked: list[tuple[str, float]] = []

    def get(url: str, timeout: float) -> tuple[int | None, str]:
        asked.append((url, timeout))
        return 200, ""

    result = check_public_url(deployment(tmp_path, "https://sp.example.cn/"), Probes(http_get=get))
    assert result == CheckResult("public_url", "OK", "phones reach https://sp.example.cn; it "
                                                      "answers.")
    assert asked[0][0] == "https://sp.example.cn/healthz" and asked[0][1] <= 5


def test_lan_only_on_purpose_is_a_warning_that_says_what_it_costs(tmp_path: Path) -> None:
    result = check_public_url(deployment(tmp_path, "http://192.168.1.20:8080", lan_only=True),
                              ANSWERS)
    assert result.status == "WARN"
    assert "http.lan_only = true" in result.message
    assert "mobile data" in result.fix


def test_development_settings_warn_only(tmp_path: Path) -> None:
    result = check_public_url(deployment(tmp_path, "http://127.0.0.1:8080",
                                         environment="development"), ANSWERS)
    assert result.status == "WARN" and "loopback" in result.message


# ------------------------------------------------------- the GET itself, against loopback


class Health(BaseHTTPRequestHandler):
    status = 200
    paths: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        Health.paths.append(self.path)
        self.send_response(Health.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def health_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Health.status, Health.paths = 200, []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_lan_only_pi_that_answers_is_only_a_warning(tmp_path: Path, health_server: str) -> None:
    result = check_public_url(deployment(tmp_path, health_server, lan_only=True), Probes())
    assert Health.paths == ["/healthz"]
    assert result.status == "WARN" and "does not answer" not in result.message


def test_an_address_that_answers_with_an_error_fails(tmp_path: Path, health_server: str) -> None:
    Health.status = 503
    result = check_public_url(deployment(tmp_path, health_server, lan_only=True), Probes())
    assert result.status == "FAIL"
    assert f"{health_server}/healthz does not answer (HTTP 503)" in result.message


def test_an_address_where_nothing_listens_fails_even_when_lan_only(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = check_public_url(deployment(tmp_path, url, lan_only=True), Probes())
    assert result.status == "FAIL"
    assert f"{url}/healthz does not answer (" in result.message
    assert "systemctl start servicepoint-server" in result.fix
