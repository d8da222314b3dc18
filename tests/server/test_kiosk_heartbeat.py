"""The kiosk heartbeat on the server: what a community worker sees when a kiosk in the lobby stops
speaking or holds a resident's request, what Prometheus scrapes, and who may send one.

The kiosk's own side, a real kiosk/heartbeat.py against a real server, is in
tests/kiosk/test_kiosk_heartbeat.py.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from server.settings import ServerSettings
from tests.server.conftest import FakeClock, sign_in
from tests.web.conftest import web_sign_in

BEAT = {"kiosk_id": "K1", "queued": 0, "oldest_queued_s": None, "outbox_damaged": False,
        "version": "0.1.0", "place": "大厅"}


def kiosk(settings: ServerSettings) -> dict[str, str]:
    return {"X-Kiosk-Key": settings.security.kiosk_key}


def gauges(client: TestClient) -> dict[tuple[str, str], float]:
    """(metric, kiosk) -> value of the kiosk gauges on /metrics."""
    found = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name.startswith("servicepoint_kiosk_") and "kiosk" in sample.labels:
                found[(sample.name, sample.labels["kiosk"])] = sample.value
    return found


def test_a_kiosk_silent_for_ten_minutes_is_a_red_line_for_staff_in_both_languages(
        client: TestClient, settings: ServerSettings, clock: FakeClock) -> None:
    assert client.post("/api/v1/kiosk/heartbeat", json=BEAT,
                       headers=kiosk(settings)).status_code == 200
    web_sign_in(client, "staff")
    page = client.get("/staff/site").text
    assert "大厅" in page and "刚刚在线" in page and "待发 0" in page
    assert "没有消息" not in page
    clock.advance(minutes=9)
    assert "9分钟前在线" in client.get("/staff/site").text
    assert "没有消息" not in client.get("/staff/site").text
    clock.advance(minutes=2)
    page = client.get("/staff/site").text
    assert "自助机已11分钟没有消息，请去看看（电源、网络）" in page
    english = client.get("/staff/site?lang=en").text
    assert "No word from this kiosk for 11 minutes" in english and "没有消息" not in english
    # It speaks again: the red line goes.
    assert client.post("/api/v1/kiosk/heartbeat", json=BEAT,
                       headers=kiosk(settings)).status_code == 200
    assert "没有消息" not in client.get("/staff/site").text


def test_a_request_held_in_a_kiosk_for_half_an_hour_is_said_too(
        client: TestClient, settings: ServerSettings) -> None:
    held = {**BEAT, "queued": 2, "oldest_queued_s": 29 * 60}
    client.post("/api/v1/kiosk/heartbeat", json=held, headers=kiosk(settings))
    staff = sign_in(client, "staff")
    [line] = client.get("/api/v1/site/status", headers=staff).json()["kiosks"]
    assert line["queued"] == 2 and line["holding"] is False and line["silent"] is False
    client.post("/api/v1/kiosk/heartbeat", json={**held, "oldest_queued_s": 31 * 60},
                headers=kiosk(settings))
    [line] = client.get("/api/v1/site/status", headers=staff).json()["kiosks"]
    assert line["holding"] is True and line["kiosk_id"] == "K1" and line["place"] == "大厅"
    web_sign_in(client, "staff")
    page = client.get("/staff/site").text
    assert "待发 2" in page and "有居民的请求在自助机里等了31分钟还没送到服务器" in page


def test_each_kiosk_keeps_one_line_and_prometheus_reads_them_when_scraping(
        client: TestClient, settings: ServerSettings, clock: FakeClock) -> None:
    for _ in range(3):
        client.post("/api/v1/kiosk/heartbeat", json={**BEAT, "queued": 1,
                                                      "oldest_queued_s": 40},
                    headers=kiosk(settings))
    client.post("/api/v1/kiosk/heartbeat", json={**BEAT, "kiosk_id": "K2"},
                headers=kiosk(settings))
    staff = sign_in(client, "staff")
    kiosks = client.get("/api/v1/site/status", headers=staff).json()["kiosks"]
    assert sorted(k["kiosk_id"] for k in kiosks) == ["K1", "K2"]
    clock.advance(minutes=3)
    seen = gauges(client)
    assert seen[("servicepoint_kiosk_queued_requests", "K1")] == 1
    assert seen[("servicepoint_kiosk_queued_requests", "K2")] == 0
    assert seen[("servicepoint_kiosk_oldest_queued_seconds", "K1")] == 40
    assert seen[("servicepoint_kiosk_last_seen_seconds", "K1")] == 180
    # K2 keeps beating, K1 falls silent: the one to go and look at comes first.
    clock.advance(minutes=8)
    client.post("/api/v1/kiosk/heartbeat", json={**BEAT, "kiosk_id": "K2"},
                headers=kiosk(settings))
    kiosks = client.get("/api/v1/site/status", headers=staff).json()["kiosks"]
    assert [(k["kiosk_id"], k["silent"]) for k in kiosks] == [("K1", True), ("K2", False)]


def test_only_a_kiosk_key_may_send_one_and_a_bad_body_is_422_json(
        client: TestClient, settings: ServerSettings) -> None:
    for headers in ({}, {"X-Kiosk-Key": "not-the-key"}, sign_in(client, "staff")):
        reply = client.post("/api/v1/kiosk/heartbeat", json=BEAT, headers=headers)
        assert reply.status_code == 401, (headers, reply.text)
        assert reply.json()["error"]["code"] == "not_authenticated"
    for bad in ({**BEAT, "queued": -1}, {**BEAT, "kiosk_id": "lobby kiosk"},
                {**BEAT, "extra": 1}, {"kiosk_id": "K1"}):
        reply = client.post("/api/v1/kiosk/heartbeat", json=bad, headers=kiosk(settings))
        assert reply.status_code == 422, (bad, reply.text)
        assert reply.json()["error"]["code"]
    staff = sign_in(client, "staff")
    assert client.get("/api/v1/site/status", headers=staff).json()["kiosks"] == []
