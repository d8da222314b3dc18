"""The shipped Caddy files (config/caddy/) in front of a real ``servicepoint server``, over HTTPS.

Debian's caddy (scripts/bootstrap.sh installs it for the tests) runs the shipped Caddyfile as it
is, with only its environment changed: the public host is 127.0.0.1 (so Caddy signs it with its
own local CA: ``tls internal``, no internet), high ports, no admin endpoint, and a temporary HOME
and XDG folders so it writes nothing outside them. Of the two replicas it is given, one is a real
server and the other is down, as during a restart. The client trusts only that local CA.

What a resident and the installer notice: a request filed over HTTPS and its status page opened
through the proxy; each caller limited by its own address (not the proxy's, and not one it wrote
itself); the server's JSON 413 passed through; /metrics not served to the world.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import process
from tests.support.ports import free_port
from tests.support.server import ServerProcess

REPO = Path(__file__).resolve().parents[2]
CADDYFILE = REPO / "config" / "caddy" / "Caddyfile"
CADDYFILE_LAN = REPO / "config" / "caddy" / "Caddyfile.lan"


def caddy_binary() -> str:
    found = shutil.which("caddy")
    assert found, "caddy is missing: scripts/bootstrap.sh test installs Debian's caddy package"
    return found


def caddy_env(home: Path, **settings: str) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TZ")}
    return {**keep, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"), "SERVICEPOINT_CADDY_ADMIN": "off",
            **settings}


class Caddy:
    """``caddy run`` of one shipped file, as caddy.service runs it."""

    def __init__(self, config: Path, home: Path, **settings: str) -> None:
        self.config, self.home = config, home
        self.env = caddy_env(home, **settings)
        self.log_path = home / "caddy.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def root_ca(self) -> Path:
        return self.home / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    def trust(self) -> ssl.SSLContext:
        """Trust Caddy's own local CA, and nothing else."""
        return ssl.create_default_context(cafile=str(self.root_ca))

    def start(self, probe: str, *, tls: bool, timeout: float = 30.0) -> Caddy:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [caddy_binary(), "run", "--adapter", "caddyfile", "--config", str(self.config)],
                env=self.env, cwd=self.home, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"caddy exited: {self.log_path.read_text()[-3000:]}")
            try:
                if (not tls or self.root_ca.exists()) and httpx.get(
                        probe, timeout=2,
                        verify=self.trust() if tls else True).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"caddy not serving {probe}: "
                                   f"{self.log_path.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        process.stop(self.process)


def _filing() -> dict[str, object]:
    return {"client_id": uuid.uuid4().hex, "category": "water_electric",
            "unit_code": "C01-B01-U1", "answers": {"problem": "leak"}}


# ------------------------------------------------------------------- the files themselves


@pytest.mark.parametrize("config", [CADDYFILE, CADDYFILE_LAN], ids=["centre", "lan"])
def test_the_shipped_file_is_valid_and_formatted(config: Path, tmp_path: Path) -> None:
    env = caddy_env(tmp_path)
    checked = subprocess.run([caddy_binary(), "validate", "--adapter", "caddyfile", "--config",
                              str(config)], env=env, capture_output=True, text=True, timeout=60,
                             check=False)
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert "Valid configuration" in checked.stdout + checked.stderr
    warnings = [line for line in checked.stderr.splitlines() if '"level":"warn"' in line
                and "automatic HTTPS is completely disabled" not in line]  # the LAN file's choice
    assert warnings == []
    formatted = subprocess.run([caddy_binary(), "fmt", str(config)], env=env,
                               capture_output=True, text=True, timeout=60, check=True)
    assert formatted.stdout == config.read_text(), "run: caddy fmt --overwrite " + str(config)


# ----------------------------------------------------------------- in front of a real server


@pytest.fixture(scope="module")
def https_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, https_port: int) -> Iterator[ServerProcess]:
    """Two anonymous filings per address per hour, believing forwarded addresses from the proxy
    on loopback only; phones are given the proxy's https address."""
    running = ServerProcess(tmp_path_factory.mktemp("behind-caddy"), env={
        "SERVICEPOINT_HTTP__PUBLIC_URL": f"https://127.0.0.1:{https_port}",
        "SERVICEPOINT_SECURITY__TRUSTED_PROXIES": "127.0.0.1",
        "SERVICEPOINT_SECURITY__FILING_PER_ADDRESS": "2",
        "SERVICEPOINT_SECURITY__FILING_WINDOW_S": "3600"}).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory, server: ServerProcess,
           https_port: int) -> Iterator[Caddy]:
    down = f"127.0.0.1:{free_port()}"  # the second replica, being restarted
    caddy = Caddy(CADDYFILE, tmp_path_factory.mktemp("caddy-home"),
                  SERVICEPOINT_PUBLIC_HOST="127.0.0.1",
                  SERVICEPOINT_CADDY_HTTPS_PORT=str(https_port),
                  SERVICEPOINT_CADDY_HTTP_PORT=str(free_port()),
                  SERVICEPOINT_REPLICAS=f"{down} 127.0.0.1:{server.port}")
    caddy.start(f"https://127.0.0.1:{https_port}/healthz", tls=True)
    yield caddy
    caddy.stop()


def phone(centre: Caddy, address: str) -> httpx.Client:
    """A caller at ``address`` (any of loopback's 127/8) that trusts only Caddy's local CA."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address,
                                                      verify=centre.trust()), timeout=15)


def test_a_request_filed_over_https_and_its_status_page_opened(centre: Caddy,
                                                               https_port: int) -> None:
    base = f"https://127.0.0.1:{https_port}"
    with phone(centre, "127.0.0.5") as client:
        filed = client.post(base + "/api/v1/requests", json=_filing())
        assert filed.status_code == 201, filed.text
        body = filed.json()
        assert body["status_url"].startswith(base + "/r/")
        page = client.get(body["status_url"])
    assert page.status_code == 200
    assert body["number"] in page.text
    assert page.headers["strict-transport-security"] == "max-age=31536000"
    assert page.http_version in ("HTTP/1.1", "HTTP/2")


def test_each_caller_is_limited_by_its_own_address_through_the_proxy(centre: Caddy,
                                                                     https_port: int) -> None:
    url = f"https://127.0.0.1:{https_port}/api/v1/requests"
    with phone(centre, "127.0.0.2") as first:
        answers = [first.post(url, json=_filing()).status_code for _ in range(3)]
        # Naming another address itself does not help: Caddy writes the caller's own.
        spoofed = first.post(url, json=_filing(), headers={"X-Forwarded-For": "10.9.9.9"})
    with phone(centre, "127.0.0.3") as neighbour:
        other = neighbour.post(url, json=_filing())
    assert answers == [201, 201, 429]
    assert spoofed.status_code == 429 and spoofed.json()["error"]["code"] == "too_many_filings"
    assert other.status_code == 201  # a neighbour is not blocked by the first caller's filings


def test_the_servers_own_json_413_passes_through(centre: Caddy, https_port: int) -> None:
    with phone(centre, "127.0.0.4") as client:
        reply = client.post(f"https://127.0.0.1:{https_port}/api/v1/requests",
                            content=b"{" + b" " * (200 * 1024) + b"}",
                            headers={"Content-Type": "application/json"})
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == "too_large"


def test_metrics_are_not_served_to_the_world(centre: Caddy, server: ServerProcess,
                                             https_port: int) -> None:
    with phone(centre, "127.0.0.4") as client:
        outside = client.get(f"https://127.0.0.1:{https_port}/metrics")
    assert outside.status_code == 404 and outside.json()["error"]["code"] == "not_found"
    assert httpx.get(server.url + "/metrics", timeout=10).status_code == 200  # on the inside


def test_a_replica_stopping_is_not_noticed_by_residents(tmp_path: Path, server: ServerProcess
                                                        ) -> None:
    """Two real replicas on one database behind the shipped file; one stops (a restart, an
    upgrade): every filing still lands, on the other."""
    other = ServerProcess(tmp_path / "replica-b", seed=False, env={
        "SERVICEPOINT_DATA_DIR": server.env["SERVICEPOINT_DATA_DIR"],
        "SERVICEPOINT_HTTP__PUBLIC_URL": server.env["SERVICEPOINT_HTTP__PUBLIC_URL"],
        "SERVICEPOINT_SECURITY__TRUSTED_PROXIES": "127.0.0.1"}).start()
    port = free_port()
    caddy = Caddy(CADDYFILE, tmp_path / "home", SERVICEPOINT_PUBLIC_HOST="127.0.0.1",
                  SERVICEPOINT_CADDY_HTTPS_PORT=str(port),
                  SERVICEPOINT_CADDY_HTTP_PORT=str(free_port()),
                  SERVICEPOINT_REPLICAS=f"127.0.0.1:{server.port} 127.0.0.1:{other.port}")
    try:
        caddy.start(f"https://127.0.0.1:{port}/healthz", tls=True)
        with phone(caddy, "127.0.0.7") as client:
            before = client.post(f"https://127.0.0.1:{port}/api/v1/requests", json=_filing())
        other.stop()
        answers = []
        for n in range(4):  # each from its own address: the limit is not what is tested here
            with phone(caddy, f"127.0.1.{n + 1}") as client:
                answers.append(client.post(f"https://127.0.0.1:{port}/api/v1/requests",
                                           json=_filing()).status_code)
    finally:
        caddy.stop()
        other.stop()
    assert before.status_code == 201
    assert answers == [201] * 4


def test_the_lan_variant_serves_plain_http_on_its_port(tmp_path: Path, server: ServerProcess
                                                       ) -> None:
    port = free_port()
    caddy = Caddy(CADDYFILE_LAN, tmp_path / "home", SERVICEPOINT_CADDY_HTTP_PORT=str(port),
                  SERVICEPOINT_REPLICAS=f"127.0.0.1:{server.port}")
    caddy.start(f"http://127.0.0.1:{port}/healthz", tls=False)
    try:
        with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.6"),
                          timeout=15) as client:
            filed = client.post(f"http://127.0.0.1:{port}/api/v1/requests", json=_filing())
            hidden = client.get(f"http://127.0.0.1:{port}/metrics")
    finally:
        caddy.stop()
    assert filed.status_code == 201, filed.text
    assert hidden.status_code == 404
