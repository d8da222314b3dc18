"""The node end to end on mock pins, against a real Mosquitto broker, asserting exact messages."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sensors import contract
from tests.sensors.helpers import NODE, PREFIX, SITE, make_config, seqs_of, wait_until
from tests.support.broker import MosquittoBroker

pytestmark = pytest.mark.broker

# Run as root, mosquitto drops to the "mosquitto" user and then cannot read its password file or
# write its persistence file in pytest's private (0700) temp folders; keep it as root there.
AS_ROOT = "user root" if os.geteuid() == 0 else ""


def last(messages, cls, asset_id=None, where=lambda m: True):
    found = [m for m in messages if isinstance(m, cls)
             and (asset_id is None or m.asset_id == asset_id) and where(m)]
    return found[-1] if found else None


def test_birth_retained_state_and_health_on_start(broker, start_node, listen):
    listener = listen(broker.url, f"{PREFIX}/#")
    start_node(url=broker.url)
    tank = listener.wait_for(lambda ms: last(ms, contract.TankState), what="tank state")
    bay = listener.wait_for(lambda ms: last(ms, contract.ExtinguisherBayState, "ext-1"))
    health = listener.wait_for(lambda ms: last(ms, contract.NodeHealth))
    assert contract.Availability(SITE, NODE, True) in listener.readings()
    assert tank.asset_id == "tank-1" and tank.site_id == SITE and tank.node_id == NODE
    # 120 cm of water in a 150 cm tank.
    assert tank.level_percent == pytest.approx(80, abs=1)
    assert tank.volume_l == pytest.approx(2400.0, abs=30)
    assert tank.capacity_l == 3000.0
    assert tank.overflow is False and tank.low_level is False
    assert tank.turbidity_ntu == pytest.approx(0.5, abs=0.3)
    assert tank.ts.utcoffset() is not None
    assert (bay.present, bay.pressure_ok, bay.door_open) == (True, True, False)
    assert health.cpu_temp_c == 47.5 and health.outbox_thinned == 0
    retained = {m.topic for m in listener.snapshot() if m.retain}
    assert retained == set()  # a live subscriber gets them as ordinary messages
    # A late subscriber (the server after a restart) gets the retained state at once.
    late = listen(broker.url, f"{PREFIX}/#", client_id="late")
    late.wait_for(lambda ms: last(ms, contract.TankState) and last(ms, contract.NodeHealth)
                  and last(ms, contract.Availability), what="retained state")
    kept = {m.topic for m in late.snapshot() if m.retain}
    assert f"{PREFIX}/{SITE}/{NODE}/state/tank-1" in kept
    assert f"{PREFIX}/{SITE}/{NODE}/availability" in kept
    assert not any("/event/" in t for t in kept)


def test_level_change_is_reported_without_waiting_for_the_interval(broker, start_node, listen):
    listener = listen(broker.url, f"{PREFIX}/#")
    running = start_node(url=broker.url)
    listener.wait_for(lambda ms: last(ms, contract.TankState), what="first state")
    running.site.set_depth("tank-1", 30.0)
    state = listener.wait_for(lambda ms: last(
        ms, contract.TankState, where=lambda m: m.level_percent is not None
        and m.level_percent < 25), what="a state near 20 %")
    assert state.level_percent == pytest.approx(20, abs=1)
    assert state.volume_l == pytest.approx(600, abs=30)


def test_float_switches_send_event_then_state(broker, start_node, listen):
    listener = listen(broker.url, f"{PREFIX}/#")
    running = start_node(url=broker.url)
    listener.wait_for(lambda ms: last(ms, contract.TankState), what="first state")
    running.site.set_float("tank-1", "overflow", True)
    event = listener.wait_for(lambda ms: last(ms, contract.TankEvent), what="overflow event")
    assert event.event == "overflow_tripped" and event.asset_id == "tank-1"
    state = listener.wait_for(lambda ms: last(ms, contract.TankState, where=lambda m: m.overflow))
    assert state.seq == event.seq + 1
    running.site.set_float("tank-1", "low_level", True)
    listener.wait_for(lambda ms: last(ms, contract.TankEvent,
                                      where=lambda m: m.event == "low_level_tripped"))
    running.site.set_float("tank-1", "overflow", False)
    listener.wait_for(lambda ms: last(ms, contract.TankEvent,
                                      where=lambda m: m.event == "overflow_cleared"))
    events = [m.event for m in listener.readings() if isinstance(m, contract.TankEvent)]
    assert events == ["overflow_tripped", "low_level_tripped", "overflow_cleared"]
    raw = [m for m in listener.snapshot() if "/event/" in m.topic][0]
    assert raw.topic == f"{PREFIX}/{SITE}/{NODE}/event/tank-1"
    body = json.loads(raw.payload)
    assert body["v"] == 1 and body["kind"] == "tank_event" and body["event"] == "overflow_tripped"


def test_extinguisher_removed_and_door_opened(broker, start_node, listen):
    listener = listen(broker.url, f"{PREFIX}/#")
    running = start_node(url=broker.url)
    listener.wait_for(lambda ms: last(ms, contract.ExtinguisherBayState, "ext-1"))
    running.site.set_bay("ext-1", present=False)
    removed = listener.wait_for(lambda ms: last(ms, contract.ExtinguisherBayEvent, "ext-1"))
    assert removed.event == "extinguisher_removed"
    state = listener.wait_for(lambda ms: last(ms, contract.ExtinguisherBayState, "ext-1",
                                              where=lambda m: not m.present))
    assert (state.present, state.pressure_ok, state.door_open) == (False, True, False)
    running.site.set_bay("ext-1", door_open=True)
    running.site.set_bay("ext-1", pressure_ok=False)
    listener.wait_for(lambda ms: len([m for m in ms
                                      if isinstance(m, contract.ExtinguisherBayEvent)]) >= 3)
    running.site.set_bay("ext-1", present=True, door_open=False)
    listener.wait_for(lambda ms: len([m for m in ms
                                      if isinstance(m, contract.ExtinguisherBayEvent)]) >= 5)
    names = [m.event for m in listener.readings() if isinstance(m, contract.ExtinguisherBayEvent)]
    assert names[:1] == ["extinguisher_removed"]
    assert sorted(names[1:3]) == ["door_opened", "pressure_low"]
    assert sorted(names[3:]) == ["door_closed", "extinguisher_returned"]
    assert not [m for m in listener.readings()
                if isinstance(m, contract.ExtinguisherBayEvent) and m.asset_id != "ext-1"]


def test_a_glitch_shorter_than_the_debounce_is_ignored(broker, start_node, listen):
    config = make_config()
    listener = listen(broker.url, f"{PREFIX}/#")
    running = start_node(config, url=broker.url)
    listener.wait_for(lambda ms: last(ms, contract.ExtinguisherBayState, "ext-2"))
    running.site.set_bay("ext-2", present=False)
    running.site.set_bay("ext-2", present=True)  # well under the 50 ms debounce
    running.site.set_bay("ext-1", door_open=True)  # a real change, to know polling went on
    listener.wait_for(lambda ms: last(ms, contract.ExtinguisherBayEvent, "ext-1"))
    assert last(listener.readings(), contract.ExtinguisherBayEvent, "ext-2") is None


def test_broker_outage_loses_nothing_and_keeps_order(tmp_path: Path, start_node, listen):
    # Persistence on, as deployed: the server's own session survives the broker restart.
    broker = MosquittoBroker(tmp_path / "broker", persistence=True, extra=AS_ROOT).start()
    try:
        listener = listen(broker.url, f"{PREFIX}/{SITE}/+/state/+", f"{PREFIX}/{SITE}/+/event/+",
                          f"{PREFIX}/{SITE}/+/health", client_id="ingest", persistent=True)
        config = make_config(state_interval_s=0.03, health_interval_s=0.05)
        running = start_node(config, url=broker.url)
        wait_until(lambda: len(seqs_of(listener.readings())) >= 20, what="a first stream")
        broker.stop()
        depth_at_stop = running.outbox.depth
        wait_until(lambda: running.outbox.depth >= depth_at_stop + 40,
                   what="readings to queue while the broker is down")
        running.site.set_bay("ext-1", present=False)  # an event during the outage
        wait_until(lambda: running.outbox.depth >= depth_at_stop + 60, what="more queued")
        broker.start()
        wait_until(lambda: running.outbox.depth < 20, 20, "the backlog to drain")
        running.halt_polling()
        last_seq = running.outbox.last_seq
        assert running.publisher is not None and running.publisher.wait_drained(20)
        got = listener.wait_for(lambda ms: seqs_of(ms) if max(seqs_of(ms)) >= last_seq else None,
                                20, "the last reading")
        first_seen = list(dict.fromkeys(got))
        assert first_seen == list(range(1, last_seq + 1))  # every one, in order, no gap
        assert any(isinstance(m, contract.ExtinguisherBayEvent) for m in listener.readings())
    finally:
        broker.stop()


def test_outage_bound_thins_periodic_readings_but_keeps_events(tmp_path, start_node, listen):
    broker = MosquittoBroker(tmp_path / "broker", persistence=True, extra=AS_ROOT).start()
    try:
        listener = listen(broker.url, f"{PREFIX}/#", client_id="ingest", persistent=True)
        config = make_config(state_interval_s=0.02, health_interval_s=0.02)
        running = start_node(config, url=broker.url, outbox_rows=40)
        listener.wait_for(lambda ms: last(ms, contract.TankState), what="first state")
        broker.stop()
        wait_until(lambda: running.outbox.thinned > 50, what="thinning")
        for present in (False, True, False):
            running.site.set_bay("ext-2", present=present)
            wait_until(lambda p=present: running.node.bays[1].parts["present"].state is p)
        wait_until(lambda: running.outbox.thinned > 100, what="more thinning")
        broker.start()
        running.halt_polling()
        assert running.publisher is not None and running.publisher.wait_drained(20)
        events = listener.wait_for(lambda ms: [m.event for m in ms if isinstance(
            m, contract.ExtinguisherBayEvent)] if len([m for m in ms if isinstance(
                m, contract.ExtinguisherBayEvent)]) >= 3 else None, what="all three events")
        assert events == ["extinguisher_removed", "extinguisher_returned", "extinguisher_removed"]
        health = last(listener.readings(), contract.NodeHealth)
        assert health.outbox_thinned > 0
        seqs = list(dict.fromkeys(seqs_of(listener.readings())))
        assert seqs == sorted(seqs)  # thinned, so gaps, but never out of order
    finally:
        broker.stop()


def test_password_login_from_the_url(tmp_path, start_node, listen):
    broker = MosquittoBroker(tmp_path / "broker", users={"node": "s3cret-node",
                                                         "server": "s3cret-server"},
                            extra=AS_ROOT).start()
    try:
        listener = listen(broker.url_for("server"), f"{PREFIX}/#")
        start_node(url=broker.url_for("node"))
        listener.wait_for(lambda ms: last(ms, contract.TankState), what="state through auth")
    finally:
        broker.stop()


def test_graceful_stop_says_offline(broker, start_node, listen):
    listener = listen(broker.url, f"{PREFIX}/{SITE}/{NODE}/availability")
    running = start_node(url=broker.url)
    listener.wait_for(lambda ms: contract.Availability(SITE, NODE, True) in ms)
    running.close()
    listener.wait_for(lambda ms: ms[-1] == contract.Availability(SITE, NODE, False))


def test_tls_and_login_come_from_the_broker_url(tmp_path):
    from foundation.settings import MqttSettings
    from sensors.outbox import Outbox
    from sensors.publisher import Publisher

    with Outbox(tmp_path / "o.sqlite3") as outbox:
        publisher = Publisher(outbox, mqtt_settings=MqttSettings(
            url="mqtts://node:p%40ss@broker.example:8883"), site_id=SITE, node_id=NODE)
        client = publisher.client
        # Checked on paho's own state: nothing is sent until start().
        assert client._ssl_context is not None
        assert (client._username, client._password) == (b"node", b"p@ss")
        assert client._will_topic == f"{PREFIX}/{SITE}/{NODE}/availability".encode()
        assert (client._will_payload, client._will_qos, client._will_retain) == (
            b"offline", 1, True)
