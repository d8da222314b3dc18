"""``servicepoint server`` with two worker processes: requests filed on either worker are each
told to their squad once, the daily job runs once, only one worker reads the sensors, and when
that worker dies its replacement takes the duties over."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from server.services.retention import RUN_ACTION
from tests.support.broker import MosquittoBroker
from tests.support.server import REPO, ServerProcess
from tests.support.waiting import wait_for

FILINGS = 12


class SquadChats:
    """The squads' group chats: a loopback HTTP server that keeps what Apprise posts to it."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str]]] = []
        chats = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                chats.posts.append((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def chats(monkeypatch: pytest.MonkeyPatch) -> Iterator[SquadChats]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    instance = SquadChats()
    yield instance
    instance.close()


def test_two_workers_tell_each_request_once_and_run_the_jobs_once(
        tmp_path: Path, chats: SquadChats) -> None:
    broker = MosquittoBroker(tmp_path / "broker", extra="log_type notice").start()
    # No quiet hours, so a new request's notice goes out at once whatever the time of day.
    alerts = (REPO / "config" / "alerts.toml").read_text()
    alerts = re.sub(r'start = "22:00"\nend = "07:00"', 'start = "00:00"\nend = "00:00"', alerts)
    (tmp_path / "alerts.toml").write_text(alerts)
    env = {"SERVICEPOINT_HTTP__WORKERS": "2", "SERVICEPOINT_MQTT__URL": broker.url,
           "SERVICEPOINT_INGEST__ALERTS_FILE": str(tmp_path / "alerts.toml"),
           "SERVICEPOINT_SECURITY__FILING_PER_ADDRESS": "1000", "NO_PROXY": "127.0.0.1"}
    for squad in range(1, 5):
        env[f"SERVICEPOINT_NOTIFY_SQUAD{squad}_URL"] = (
            f"json://127.0.0.1:{chats.port}/squad-{squad}")
    server = ServerProcess(tmp_path / "server", env=env).start()
    try:
        tickets = []
        # Fresh connections, so uvicorn's workers share the filings between them.
        for n in range(FILINGS):
            reply = httpx.post(server.url + "/api/v1/requests", json={
                "client_id": f"workers-{n:03d}", "category": "water_electric",
                "unit_code": "C01-B01-U1", "answers": {"problem": "leak"},
                "contact_name": "王阿姨"}, timeout=30)
            assert reply.status_code == 201, reply.text
            tickets.append(reply.json()["number"])

        told = wait_for(lambda: len(chats.posts) >= FILINGS, within=30)
        assert told, f"{len(chats.posts)} of {FILINGS} requests told to a squad"
        # Every request told once: no second courier, no second delivery.
        for number in tickets:
            mentioning = [p for p in chats.posts if number in p[1]["message"] + p[1]["title"]]
            assert len(mentioning) == 1, (number, mentioning)

        log = server.log_path.read_text()
        workers = set(re.findall(r"worker (\d+) (?:holds the duties|serves HTTP only)", log))
        assert len(workers) == 2, log[-3000:]
        assert len(re.findall(r"worker \d+ holds the duties", log)) == 1, log[-3000:]
        database = tmp_path / "server" / "data" / "servicepoint.db"
        with sqlite3.connect(database) as db:
            runs = db.execute("SELECT count(*) FROM audit_entries WHERE action = ?",
                              (RUN_ACTION,)).fetchone()[0]
            per_event = db.execute("SELECT event_id, count(*) FROM alerts WHERE event_id IS NOT "
                                   "NULL GROUP BY event_id HAVING count(*) > 1").fetchall()
        assert runs == 1  # the daily retention job ran once, on the worker holding the duties
        assert per_event == []
        # One sensor ingest: one client of the broker, not one per worker.
        ingest_clients = re.findall(r"New client connected .* as (\S+)",
                                    broker.log_path.read_text())
        assert len(ingest_clients) == 1, ingest_clients

        # The holder dies; the worker uvicorn starts in its place takes the duties, and the
        # next request still reaches its squad.
        holder = int((tmp_path / "server" / "data" / "server-duties.lock").read_text())
        os.kill(holder, signal.SIGKILL)
        assert wait_for(lambda: len(re.findall(r"worker \d+ holds the duties",
                                               server.log_path.read_text())) == 2, within=90)
        reply = httpx.post(server.url + "/api/v1/requests", json={
            "client_id": "workers-after", "category": "water_electric",
            "unit_code": "C01-B01-U1", "answers": {"problem": "leak"},
            "contact_name": "王阿姨"}, timeout=30)
        assert reply.status_code == 201, reply.text
        number = reply.json()["number"]
        assert wait_for(lambda: any(number in p[1]["title"] for p in chats.posts), within=30)
    finally:
        server.stop()
        broker.stop()


def test_the_duties_lease_has_one_holder_until_it_lets_go(tmp_path: Path) -> None:
    from server.workers import DutiesLease

    path = tmp_path / "data" / "server-duties.lock"
    first, second = DutiesLease(path), DutiesLease(path)
    assert first.take()
    assert not second.take()  # a second worker serves HTTP only
    first.release()  # the holder's process ended
    assert second.take()
    assert path.read_text().strip().isdigit()  # the holder's pid, for an installer
