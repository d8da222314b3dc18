"""The kiosk's heartbeat (kiosk/heartbeat.py) against the real server (in a thread, on a clock the
test moves): the community worker sees the kiosk in the lobby on the site status, with what it
holds; when it stops beating for over ten minutes a red line says to go and look; Prometheus
scrapes the same; and a failed beat is quiet and leaves the outbox alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kiosk.api import ServerClient
from kiosk.heartbeat import Heartbeat
from kiosk.outbox import Outbox
from tests.kiosk.assist_support import FakeClock, live_server, prepared_database
from tests.kiosk.conftest import kiosk_settings
from tests.server.conftest import sign_in
from tests.support.ports import free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.timeout(180)

REQUEST = {"category": "water_electric", "unit_code": "C01-B01-U1", "answers": {},
           "description": "厨房水龙头漏水", "channel": "kiosk"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepared_database(tmp_path_factory.mktemp("heartbeat-db"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(tmp_path: Path, template: Path, clock: FakeClock) -> Iterator[str]:
    with live_server(tmp_path / "server", template, clock) as (url, _notifier):
        yield url


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "kiosk" / "outbox.sqlite3", kiosk_id="K1")
    yield box
    box.close()


def key(tmp_path: Path) -> str:
    return kiosk_settings(tmp_path / "settings").security.kiosk_key


def kiosks_seen_by_staff(url: str) -> list[dict[str, object]]:
    with httpx.Client(base_url=url, timeout=20) as staff:
        reply = staff.get("/api/v1/site/status", headers=sign_in(staff, "staff"))
        assert reply.status_code == 200, reply.text
        return list(reply.json()["kiosks"])


def scraped(url: str, kiosk: str) -> dict[str, float]:
    text = httpx.get(url + "/metrics", timeout=20).text
    return {sample.name: sample.value for family in text_string_to_metric_families(text)
            for sample in family.samples if sample.labels.get("kiosk") == kiosk}


def test_the_lobby_kiosk_shows_up_and_its_silence_turns_red_after_ten_minutes(
        server: str, outbox: Outbox, clock: FakeClock, tmp_path: Path) -> None:
    outbox.enqueue({**REQUEST, "client_id": "kiosk-c-0001"})  # the network dropped as it filed
    # The kiosk's own wall clock, 31 minutes after the request was kept.
    later = datetime.now(UTC) + timedelta(minutes=31)
    client = ServerClient(server, kiosk_key=key(tmp_path), timeout=20)
    heartbeat = Heartbeat(client, outbox, kiosk_id="K1", place="大厅", version="0.1.0",
                          clock=lambda: later)
    try:
        assert heartbeat.beat() and heartbeat.failures == 0
    finally:
        client.close()
    [lobby] = kiosks_seen_by_staff(server)
    assert lobby["kiosk_id"] == "K1" and lobby["place"] == "大厅"
    assert lobby["queued"] == 1 and lobby["holding"] is True and lobby["silent"] is False
    figures = scraped(server, "K1")
    assert figures["servicepoint_kiosk_queued_requests"] == 1
    assert figures["servicepoint_kiosk_oldest_queued_seconds"] >= 31 * 60
    assert figures["servicepoint_kiosk_last_seen_seconds"] == 0
    # The kiosk goes quiet (a power cut): the server's clock moves on 11 minutes.
    clock.advance(minutes=11)
    [lobby] = kiosks_seen_by_staff(server)
    assert lobby["silent"] is True and lobby["minutes_since_seen"] == 11
    assert scraped(server, "K1")["servicepoint_kiosk_last_seen_seconds"] == 11 * 60
    assert outbox.pending_count() == 1  # the heartbeat only reads the outbox


def test_a_wrong_key_is_refused_401_and_the_kiosk_stays_quiet_about_it(
        server: str, outbox: Outbox) -> None:
    reply = httpx.post(server + "/api/v1/kiosk/heartbeat", timeout=20,
                       headers={"X-Kiosk-Key": "not-this-kiosks-key"},
                       json={"kiosk_id": "K1", "queued": 0})
    assert reply.status_code == 401 and reply.json()["error"]["code"] == "not_authenticated"
    client = ServerClient(server, kiosk_key="not-this-kiosks-key", timeout=20)
    try:
        heartbeat = Heartbeat(client, outbox, kiosk_id="K1")
        assert not heartbeat.beat() and not heartbeat.beat()
        assert heartbeat.failures == 2 and heartbeat.sent == 0
    finally:
        client.close()
    assert kiosks_seen_by_staff(server) == []


def test_with_the_server_away_beats_fail_quietly_and_the_outbox_keeps_its_request(
        outbox: Outbox, tmp_path: Path) -> None:
    parcel = outbox.enqueue({**REQUEST, "client_id": "kiosk-c-0002"})
    client = ServerClient(f"http://127.0.0.1:{free_port()}", kiosk_key=key(tmp_path),
                          timeout=2)
    heartbeat = Heartbeat(client, outbox, kiosk_id="K1", interval_s=0.05)
    try:
        heartbeat.start()
        assert wait_for(lambda: heartbeat.failures >= 3)
    finally:
        heartbeat.stop()
        client.close()
    assert heartbeat.sent == 0
    [kept] = outbox.pending()
    assert kept.client_id == parcel.client_id and kept.attempts == 0


def test_the_kiosk_app_beats_on_its_own_from_the_start(
        make_kiosk, server: str) -> None:  # type: ignore[no-untyped-def]
    kiosk = make_kiosk(real_server_url=server, SERVICEPOINT_KIOSK__PLACE="大厅")
    with httpx.Client(base_url=server, timeout=20) as staff:
        signed_in = sign_in(staff, "staff")
        found = wait_for(lambda: staff.get("/api/v1/site/status",
                                           headers=signed_in).json()["kiosks"], within=30)
    assert found, "the kiosk sent no heartbeat within 30 s of starting"
    [lobby] = found
    assert lobby["kiosk_id"] == kiosk.app.settings.kiosk.kiosk_id and lobby["place"] == "大厅"
    assert lobby["queued"] == 0 and lobby["version"]
