"""End to end through a real Mosquitto broker: the sensor node's own code on gpiozero mock pins
publishes; the server's ingest turns it into tickets and alerts, captured at the notifier seam.
Then the server is killed mid-stream and restarted: no reading lost, none stored twice."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from sensors import contract
from server.alerts import RecordingNotifier
from server.app import create_app
from server.models import Ticket, TicketEvent
from server.sensing.ingest import Ingest
from server.sensing.models import DeadLetter, ReadingRow
from server.settings import load_server_settings
from tests.sensors.helpers import make_config, wait_until
from tests.server.conftest import CONFIG
from tests.support.broker import MosquittoBroker
from tests.support.server import ServerProcess

# The shipped thresholds, with durations shortened so a test sees them in a second or two.
FAST_RULES = """
[tank]
level_raise_after_s = 1
level_clear_after_s = 1
overflow_raise_after_s = 1
overflow_clear_after_s = 1
[extinguisher]
missing_raise_after_s = 1
missing_clear_after_s = 1
[node]
offline_raise_after_s = 30
offline_clear_after_s = 1
"""
ALERTS = """
[quiet_hours]  # none: the test must not depend on the hour it runs at
start = "00:00"
end = "00:00"

[[sites.site-01.staff]]
id = "duty"
name = "值班员"
channels = [{ name = "wecom", url_env = "E2E_DUTY_URL" }]
"""


@pytest.fixture
def server(tmp_path: Path, broker: MosquittoBroker, db_url: str,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, RecordingNotifier]]:
    (tmp_path / "rules.toml").write_text(FAST_RULES)
    (tmp_path / "alerts.toml").write_text(ALERTS)
    monkeypatch.setenv("E2E_DUTY_URL", "json://127.0.0.1:9/never-called")
    settings = load_server_settings(CONFIG / "servicepoint.toml", env={
        "SERVICEPOINT_DATABASE_URL": db_url, "SERVICEPOINT_MQTT_URL": broker.url,
        "SERVICEPOINT_DATA_DIR": str(tmp_path), "SERVICEPOINT_ENVIRONMENT": "test",
        "SERVICEPOINT_INGEST__RULES_FILE": str(tmp_path / "rules.toml"),
        "SERVICEPOINT_INGEST__ALERTS_FILE": str(tmp_path / "alerts.toml"),
        "SERVICEPOINT_INGEST__TICK_INTERVAL_S": "0.2",
        "SERVICEPOINT_INGEST__DELIVERY_INTERVAL_S": "0.2",
    })
    notifier = RecordingNotifier()
    app = create_app(settings, ingest_factory=lambda **kw: Ingest.from_settings(
        settings, notifier=notifier, **kw))
    with TestClient(app) as client:
        assert app.state.ingest.connected.wait(10), "ingest never reached the broker"
        client.app_state = app.state  # type: ignore[attr-defined]
        yield client, notifier
    app.state.engine.dispose()


def _tickets(client: TestClient, condition: str) -> list[Ticket]:
    with client.app_state.sessions() as db:  # type: ignore[attr-defined]
        return list(db.scalars(select(Ticket).where(Ticket.condition == condition)))


def _events(client: TestClient, ticket_id: int) -> list[str]:
    with client.app_state.sessions() as db:  # type: ignore[attr-defined]
        return list(db.scalars(select(TicketEvent.action)
                               .where(TicketEvent.ticket_id == ticket_id)))


@pytest.mark.broker
def test_tank_low_then_refilled_then_flapping(server, start_node, broker) -> None:  # type: ignore[no-untyped-def]
    client, notifier = server
    node = start_node(make_config(), url=broker.url)
    node.site.set_depth("tank-1", 15.0)  # 10 % of 150 cm
    wait_until(lambda: _tickets(client, "low_level"), timeout=20, what="a low-level ticket")
    def low_alerts() -> list[str]:
        return [a.kind for a, _ in notifier.sent if a.condition == "low_level"]

    wait_until(low_alerts, timeout=10, what="an alert at the notifier seam")
    time.sleep(1.5)  # more readings arrive while it stays low: still one ticket, one alert
    low = _tickets(client, "low_level")
    assert len(low) == 1
    assert low_alerts() == ["raised"]

    node.site.set_depth("tank-1", 120.0)
    wait_until(lambda: _tickets(client, "low_level")[0].status == "resolved", timeout=20,
               what="the ticket to record the clear")
    assert "condition_cleared" in _events(client, low[0].id)

    for i in range(24):  # hovering either side of the 20 % line for a few seconds
        node.site.set_depth("tank-1", 26.0 if i % 2 else 34.0)
        time.sleep(0.25)
    node.site.set_depth("tank-1", 120.0)
    time.sleep(2)
    assert len([t for t in _tickets(client, "low_level") if t.status != "closed"]) <= 2
    open_now = [t for t in _tickets(client, "low_level") if t.status in ("new", "dispatched")]
    assert len(open_now) <= 1  # never two open at once


@pytest.mark.broker
def test_extinguisher_taken_out_raises_an_urgent_alert(server, start_node, broker) -> None:  # type: ignore[no-untyped-def]
    client, notifier = server
    heard: list[contract.AlertNotice] = []
    watcher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="dashboard")
    watcher.on_message = lambda _c, _u, msg: heard.append(
        contract.decode_alert(msg.topic, msg.payload))
    watcher.connect("127.0.0.1", broker.port)
    watcher.subscribe("servicepoint/site-01/alerts/+", qos=1)
    watcher.loop_start()
    node = start_node(make_config(), url=broker.url)
    node.site.set_bay("ext-1", present=False)
    wait_until(lambda: _tickets(client, "missing"), timeout=20, what="a missing ticket")
    def missing_alerts() -> list[object]:
        return [a for a, _ in notifier.sent if a.condition == "missing"]

    wait_until(missing_alerts, timeout=10, what="an alert")
    alert = missing_alerts()[0]
    assert alert.urgent and alert.condition == "missing" and "【紧急】" in alert.title
    assert _tickets(client, "missing")[0].priority == "urgent"
    status = client.get("/api/v1/site/status",
                        headers={"X-Kiosk-Key": "development-kiosk-key"}).json()
    bay = next(b for b in status["extinguisher_bays"] if b["asset_id"] == "ext-1")
    assert bay["present"] is False and "missing" in bay["conditions"]
    # A dashboard or Home Assistant hears the same alert on the MQTT alert topic, in the
    # contract's form.
    wait_until(lambda: [n for n in heard if n.condition == "missing"], timeout=10,
               what="the alert on the MQTT alert topic")
    watcher.disconnect()
    watcher.loop_stop()
    notice = next(n for n in heard if n.condition == "missing")
    assert (notice.kind, notice.urgent, notice.asset_id) == ("raised", True, "ext-1")
    assert notice.ticket_id == _tickets(client, "missing")[0].id
    assert notice.title == alert.title


@pytest.mark.broker
def test_bad_payloads_are_counted_dead_lettered_and_ingest_goes_on(server, broker) -> None:  # type: ignore[no-untyped-def]
    client, _ = server
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="vandal")
    publisher.connect("127.0.0.1", broker.port)
    publisher.loop_start()
    base = "servicepoint/site-01/node-x"
    good = contract.TankState(site_id="site-01", node_id="node-x", seq=1,
                              ts=datetime.now().astimezone(), asset_id="tank-1",
                              level_percent=50.0, volume_l=10000.0, capacity_l=20000.0,
                              overflow=False, low_level=False, turbidity_ntu=0.4)
    wrong_type = {**json.loads(contract.encode(good)), "level_percent": "high"}
    stranger = dataclasses.replace(good, seq=2, asset_id="tank-404")
    bad = [
        (f"{base}/state/tank-1", b"\xff\xfe not json"),                     # malformed
        (f"{base}/state/tank-1", b"{" + b'"x":1,' * 2000 + b"}"),           # oversized
        (f"{base}/state/tank-1", json.dumps(wrong_type).encode()),          # wrong type
        (f"{base}/state/tank-404", contract.encode(stranger)),              # unknown asset
    ]
    for topic, payload in bad:
        publisher.publish(topic, payload, qos=1).wait_for_publish(5)
    publisher.publish(f"{base}/state/tank-1", contract.encode(good), qos=1).wait_for_publish(5)

    def counted() -> bool:
        with client.app_state.sessions() as db:  # type: ignore[attr-defined]
            return (db.scalar(select(func.count()).select_from(DeadLetter)) == 4 and
                    db.scalar(select(func.count()).select_from(ReadingRow)) == 1)

    wait_until(counted, timeout=15, what="4 dead letters and the good reading stored")
    metrics = client.get("/metrics").text
    assert "servicepoint_mqtt_messages_rejected_total" in metrics
    rejected = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                   if line.startswith("servicepoint_mqtt_messages_rejected_total{"))
    assert rejected == 4
    letters = client.get("/api/v1/dead-letters", headers=_staff(client)).json()["dead_letters"]
    assert {d["reason"].split(":")[0].split(" ")[0] for d in letters} >= {"unknown"}
    publisher.disconnect()
    publisher.loop_stop()


def _staff(client: TestClient) -> dict[str, str]:
    token = client.post("/api/v1/auth/login", json={"username": "staff",
                                                     "password": "staff-demo"}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


@pytest.mark.broker
def test_server_killed_mid_stream_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    broker = MosquittoBroker(tmp_path / "broker", persistence=True).start()
    server = ServerProcess(tmp_path / "server", env={"SERVICEPOINT_MQTT_URL": broker.url})
    server.start()
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="node-k",
                            protocol=mqtt.MQTTv311)
    publisher.connect("127.0.0.1", broker.port)
    publisher.loop_start()
    start = datetime.now().astimezone()
    total = 600

    def reading(seq: int) -> tuple[str, bytes]:
        message = contract.TankState(site_id="site-01", node_id="node-k", seq=seq,
                                     ts=start + timedelta(milliseconds=seq), asset_id="tank-1",
                                     level_percent=60.0 - seq / 100, volume_l=12000.0,
                                     capacity_l=20000.0, overflow=False, low_level=False,
                                     turbidity_ntu=0.4)
        return contract.topic_for(message, prefix="servicepoint"), contract.encode(message)

    try:
        for seq in range(1, total + 1):
            topic, payload = reading(seq)
            publisher.publish(topic, payload, qos=1).wait_for_publish(5)
            if seq == 200:
                server.kill()  # kill -9 in the middle of the stream
            if seq == 400:
                server.start()
        engine = create_engine(f"sqlite:///{tmp_path / 'server' / 'data' / 'servicepoint.db'}")

        def stored() -> int:
            with Session(engine) as db:
                return int(db.scalar(select(func.count()).select_from(ReadingRow)) or 0)

        wait_until(lambda: stored() == total, timeout=60, what=f"{total} readings stored")
        with Session(engine) as db:
            seqs = db.execute(text("SELECT seq FROM readings WHERE node_id = 'node-k' "
                                   "ORDER BY seq")).scalars().all()
        assert seqs == list(range(1, total + 1))  # every one, once, no gap
        assert httpx.get(server.url + "/healthz").status_code == 200
        engine.dispose()
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        server.stop()
        broker.stop()
