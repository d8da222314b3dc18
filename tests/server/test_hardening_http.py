"""Issue 14, against the real server process (uvicorn on a free port): bodies bounded as they
stream, forwarded-for headers trusted only from configured proxies, filing limits, /healthz."""

from __future__ import annotations

import select
import socket
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
