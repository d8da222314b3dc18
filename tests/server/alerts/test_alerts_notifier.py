"""The notifier seam: the recording fake, and Apprise against a real HTTP endpoint on loopback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from server.alerts import (
    AlertKind,
    AlertMessage,
    AppriseNotifier,
    Delivery,
    DeliveryFailed,
    Notifier,
    Recipient,
    RecordingNotifier,
)

ALERT = AlertMessage(
    key="site-01:ticket-42:raised:0", kind=AlertKind.RAISED, urgent=True, level=0,
    site_id="site-01", ticket_id="42",
    title="【紧急】劳动路社区服务站：蓄水池溢流 | URGENT Tank overflowing",
    body="蓄水池溢流（1号蓄水池）\nTank overflowing (tank-1)\n工单 Ticket：#42",
    created_at=datetime(2026, 11, 25, 1, 12, tzinfo=UTC), asset_id="tank-1", condition="overflow",
)


@dataclass
class Endpoint:
    """A tiny HTTP server on loopback that records what it was sent."""

    status: int = 200
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    port: int = 0


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[Endpoint]:
    # A developer's proxy settings must not route loopback traffic elsewhere.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    state = Endpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length", "0"))
            state.requests.append(
                (self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
            )
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def recipient(url: str) -> Recipient:
    return Recipient(staff_id="wang", name="王站长", channel="hook", url=url)


def test_both_notifiers_fit_the_seam() -> None:
    assert isinstance(RecordingNotifier(), Notifier)
    assert isinstance(AppriseNotifier(), Notifier)


def test_recording_notifier_records_and_fails_on_demand() -> None:
    notifier = RecordingNotifier(fail={"li/mail"})
    wang = Recipient("wang", "王", "wecom", "wecombot://k")
    li = Recipient("li", "李", "mail", "mailto://x")
    assert notifier.send(ALERT, wang) == Delivery(ok=True, recipient_key="wang/wecom")
    failed = notifier.send(ALERT, li)
    assert not failed.ok and failed.retryable
    assert notifier.sent == [(ALERT, wang)]
    assert len(notifier.attempts) == 2
    with pytest.raises(DeliveryFailed) as caught:
        failed.raise_for_failure()
    assert caught.value.retryable
    assert isinstance(caught.value, ConnectionError)


def test_apprise_posts_the_alert_as_json(endpoint: Endpoint) -> None:
    url = f"json://127.0.0.1:{endpoint.port}/hooks/alerts"
    delivery = AppriseNotifier(timeout_s=5).send(ALERT, recipient(url))
    assert delivery == Delivery(ok=True, recipient_key="wang/hook")
    ((method, path, headers, body),) = endpoint.requests
    assert (method, path) == ("POST", "/hooks/alerts")
    assert headers["Content-Type"].startswith("application/json")
    payload = json.loads(body)
    assert payload["title"] == ALERT.title
    assert payload["message"] == ALERT.body
    assert payload["type"] == "failure"  # urgent


def test_apprise_posts_a_form(endpoint: Endpoint) -> None:
    cleared = AlertMessage(**{**ALERT.__dict__, "kind": AlertKind.CLEARED, "urgent": False})
    delivery = AppriseNotifier(timeout_s=5).send(cleared, recipient(
        f"form://127.0.0.1:{endpoint.port}/form"))
    assert delivery.ok
    ((_, path, _, body),) = endpoint.requests
    form = parse_qs(body.decode("utf-8"))
    assert path == "/form"
    assert form["title"] == [ALERT.title]
    assert form["type"] == ["success"]


def test_an_endpoint_that_fails_gives_a_retryable_failure(endpoint: Endpoint) -> None:
    endpoint.status = 500
    delivery = AppriseNotifier(timeout_s=5).send(ALERT, recipient(
        f"json://127.0.0.1:{endpoint.port}/"))
    assert not delivery.ok
    assert delivery.retryable
    assert delivery.detail.startswith("FAILURE")
    assert len(endpoint.requests) == 1


def test_nobody_listening_gives_a_failure_not_an_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    delivery = AppriseNotifier(timeout_s=5).send(ALERT, recipient(f"json://127.0.0.1:{port}/"))
    assert not delivery.ok
    assert delivery.retryable


def test_a_url_apprise_does_not_know_is_not_retried() -> None:
    delivery = AppriseNotifier().send(ALERT, recipient("pigeon://coop/1"))
    assert not delivery.ok
    assert not delivery.retryable
    assert not AppriseNotifier.accepts("pigeon://coop/1")
    assert AppriseNotifier.accepts("wecombot://key")
    assert AppriseNotifier.accepts("dingtalk://token/")
    assert AppriseNotifier.accepts("mailtos://u:p@smtp.example.com?to=a@example.com")
