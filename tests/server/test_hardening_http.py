"""Issue 14, against the real server process (uvicorn on a free port): bodies bounded as they
stream, forwarded-for headers trusted only from configured proxies, filing limits, /healthz."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServerProcess

MB = 2**20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    running = ServerProcess(tmp_path_factory.mktemp("hardening")).start()
    yield running
    running.stop()


def _rss_kb(server: ServerProcess) -> int:
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines()
                    if line.startswith("VmRSS:")))


def _chunked_upload(port: int, path: str, content_type: str, total: int) -> tuple[int, bytes]:
    """Stream up to ``total`` bytes as a chunked body, stopping as soon as the server answers
    (or stops reading); return how much was sent and the answer's first bytes."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sent = 0
    with sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}"
                     "\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        chunk = b"7" * 65536
        try:
            while sent < total:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
                if select.select([sock], [], [], 0)[0]:
                    break
            else:
                sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server closed the line on us: its answer is already waiting
            pass
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                part = sock.recv(4096)
                if not part:
                    break
                answer += part
        except OSError:
            pass
        return sent, answer


@pytest.mark.parametrize(("path", "content_type"), [
    ("/api/v1/requests", "application/json"),
    ("/login", "application/x-www-form-urlencoded"),
    ("/open311/v2/requests.json", "application/x-www-form-urlencoded"),
])
def test_a_chunked_body_is_refused_as_it_streams(server: ServerProcess, path: str,
                                                 content_type: str) -> None:
    before = _rss_kb(server)
    sent, answer = _chunked_upload(server.port, path, content_type, total=96 * MB)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 16 * MB  # refused early, not after the whole upload
    assert _rss_kb(server) - before < 24 * 1024  # memory stayed flat (KB)
    assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200


def test_a_declared_oversized_body_is_refused_unread(server: ServerProcess) -> None:
    reply = httpx.post(server.url + "/api/v1/requests", content=b"{" + b" " * 70_000 + b"}",
                       headers={"content-type": "application/json"}, timeout=10)
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == "too_large"


def test_a_small_chunked_body_still_files(server: ServerProcess) -> None:
    body = (b'{"client_id": "chunked-0001-abcd", "category": "water_electric", '
            b'"unit_code": "C01-B01-U1", "answers": {"problem": "leak"}}')
    reply = httpx.post(server.url + "/api/v1/requests", content=iter([body[:20], body[20:]]),
                       headers={"content-type": "application/json"}, timeout=10)
    assert reply.status_code == 201, reply.text


def _filing(n: int) -> dict[str, object]:
    return {"client_id": f"limit-{n:04d}-{time.monotonic_ns()}", "category": "water_electric",
            "unit_code": "C01-B01-U1", "answers": {"problem": "leak"}}


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server allowing 3 anonymous filings per address per hour (the default is far higher)."""
    running = ServerProcess(tmp_path_factory.mktemp("limited"), env={
        "SERVICEPOINT_SECURITY__FILING_PER_ADDRESS": "3",
        "SERVICEPOINT_SECURITY__FILING_WINDOW_S": "3600"}).start()
    yield running
    running.stop()


def test_filing_is_limited_per_address_whatever_it_forwards(limited: ServerProcess) -> None:
    answers = [httpx.post(limited.url + "/api/v1/requests", json=_filing(n), timeout=10,
                          headers={"X-Forwarded-For": f"10.0.0.{n}"})
               for n in range(5)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429, 429]
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "too_many_filings"
    assert 3000 <= int(refused.headers["Retry-After"]) <= 3600
    form = httpx.post(limited.url + "/open311/v2/requests.json", timeout=10,
                      data={"service_code": "water_electric", "address_id": "C01-B01-U1",
                            "description": "漏水"})
    assert form.status_code == 429 and "Retry-After" in form.headers
    metrics = httpx.get(limited.url + "/metrics", timeout=10).text
    assert 'servicepoint_filings_refused_total{by="address",route="api"} 2' in metrics
    assert 'servicepoint_filings_refused_total{by="address",route="open311"} 1' in metrics


def test_a_kiosk_has_its_own_limit_and_staff_none(limited: ServerProcess) -> None:
    kiosk = {"X-Kiosk-Key": "development-kiosk-key"}
    assert all(httpx.post(limited.url + "/api/v1/requests", json=_filing(n), headers=kiosk,
                          timeout=10).status_code == 201 for n in range(4))
    staff = limited.login("staff", "staff-demo")
    assert httpx.post(limited.url + "/api/v1/requests", json=_filing(9), headers=staff,
                      timeout=10).status_code == 201


def test_forwarded_addresses_count_only_from_a_configured_proxy(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    proxied = ServerProcess(tmp_path_factory.mktemp("proxied"), env={
        "SERVICEPOINT_SECURITY__FILING_PER_ADDRESS": "3",
        "SERVICEPOINT_SECURITY__TRUSTED_PROXIES": "127.0.0.1"}).start()
    try:
        answers = [httpx.post(proxied.url + "/api/v1/requests", json=_filing(n), timeout=10,
                              headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code
                   for n in range(5)]
    finally:
        proxied.stop()
    assert answers == [201] * 5  # five residents behind the proxy, one filing each


def test_the_kiosk_keeps_a_request_that_met_the_limit() -> None:
    """A 429 is "not now", not "no": the kiosk's outbox must keep the request for later."""
    from kiosk.api import ServerClient
    from kiosk.errors import ServerUnavailable

    refuse = httpx.MockTransport(lambda request: httpx.Response(
        429, headers={"Retry-After": "60"},
        json={"error": {"code": "too_many_filings", "message": "try again in 60 s"}}))
    client = ServerClient("http://server", kiosk_key="development-kiosk-key", transport=refuse)
    with pytest.raises(ServerUnavailable):
        client.file_request(_filing(1))
