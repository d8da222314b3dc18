"""Real local stand-ins for the services notices go to: one HTTP server answering as the WeCom and
DingTalk group robot APIs do, recording each request, and an SMTP server (aiosmtpd) keeping each
mail. Apprise's WeCom and DingTalk plugins post to fixed cloud addresses; :func:`point_robots_at`
points those class attributes at the local server, so the real plugins build and send their
real requests.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from apprise.plugins.dingtalk import NotifyDingTalk
from apprise.plugins.wecombot import NotifyWeComBot

__all__ = ["Mailbox", "RobotApi", "RobotCall", "mailbox", "point_robots_at", "robot_api"]


@dataclass(frozen=True)
class RobotCall:
    path: str
    query: dict[str, list[str]]
    body: dict[str, Any]

    @property
    def text(self) -> str:
        """What the group sees: WeCom's and DingTalk's text message content."""
        return str(self.body.get("text", {}).get("content", ""))


@dataclass
class RobotApi:
    port: int = 0
    calls: list[RobotCall] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, path: str, **query: str) -> list[RobotCall]:
        """The calls to ``path`` whose query has these values (key=…, access_token=…)."""
        with self.lock:
            return [c for c in self.calls if c.path == path
                    and all(c.query.get(k) == [v] for k, v in query.items())]

    def wecom(self, key: str) -> list[RobotCall]:
        return self.to("/cgi-bin/webhook/send", key=key)

    def dingtalk(self, token: str) -> list[RobotCall]:
        return self.to("/robot/send", access_token=token)


@contextmanager
def running_robot_api() -> Iterator[RobotApi]:
    state = RobotApi()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            parts = urlsplit(self.path)
            with state.lock:
                state.calls.append(RobotCall(parts.path, parse_qs(parts.query), json.loads(raw)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            # What both robots answer when a message is taken.
            self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def point_robots_at(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setattr(NotifyWeComBot, "notify_url",
                        f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key={{key}}")
    monkeypatch.setattr(NotifyDingTalk, "notify_url",
                        f"http://127.0.0.1:{port}/robot/send?access_token={{token}}")


@pytest.fixture
def robot_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[RobotApi]:
    """The WeCom and DingTalk robot APIs, on loopback, with Apprise pointed at them."""
    with running_robot_api() as api:
        point_robots_at(monkeypatch, api.port)
        yield api


@dataclass
class Mailbox:
    port: int = 0
    mails: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it is sent."""
    from aiosmtpd.controller import Controller

    box = Mailbox()

    class Keep:
        async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
            box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            box.mails.append(message_from_bytes(envelope.content,  # type: ignore[arg-type]
                                                policy=policy.default))
            return "250 Message accepted for delivery"

    with socket.socket() as probe:  # aiosmtpd checks its own port at start: give it one
        probe.bind(("127.0.0.1", 0))
        box.port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
