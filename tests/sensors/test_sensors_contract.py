"""The MQTT contract: topics, round trips, rejections, and totality under arbitrary input."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foundation.errors import ServicepointError
from sensors import contract
from sensors.contract import ContractError

CST = timezone(timedelta(hours=8))
TS = datetime(2026, 11, 25, 17, 30, 5, 250000, tzinfo=CST)
IDS = {"site_id": "site-01", "node_id": "pump-room"}

EXAMPLES: list[contract.Message] = [
    contract.TankState(**IDS, seq=1, ts=TS, asset_id="tank-1", level_percent=62.5,
                       volume_l=5625.0, capacity_l=9000.0, overflow=False, low_level=False,
                       turbidity_ntu=0.42),
    contract.TankState(**IDS, seq=2, ts=TS, asset_id="tank-2", level_percent=None,
                       volume_l=None, capacity_l=9000.0, overflow=None, low_level=None,
                       turbidity_ntu=None),
    contract.ExtinguisherBayState(**IDS, seq=3, ts=TS, asset_id="ext-1", present=False,
                                  pressure_ok=True, door_open=None),
    contract.TankEvent(**IDS, seq=4, ts=TS, asset_id="tank-1", event="low_level_tripped",
                       level_percent=14.8),
    contract.ExtinguisherBayEvent(**IDS, seq=5, ts=TS, asset_id="ext-1",
                                  event="extinguisher_removed"),
    contract.NodeHealth(**IDS, seq=6, ts=TS, uptime_s=3600.5, cpu_temp_c=None, outbox_depth=12,
                        outbox_thinned=0),
    contract.Availability("site-01", "pump-room", True),
    contract.Availability("site-01", "pump-room", False),
]


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: type(m).__name__)
def test_round_trip(message):
    topic = contract.topic_for(message, prefix="servicepoint")
    assert contract.decode(topic, contract.encode(message)) == message


@pytest.mark.parametrize("message", [m for m in EXAMPLES if isinstance(m, contract.Reading)],
                         ids=lambda m: type(m).__name__)
def test_body_of_is_the_payload_the_wire_carries(message):
    # The server stores body_of(...) as the reading's payload: it must be what was sent.
    assert contract.body_of(message) == json.loads(contract.encode(message))


def test_topics_and_parser():
    assert contract.state_topic("servicepoint", "site-01", "pump-room", "tank-1") == (
        "servicepoint/site-01/pump-room/state/tank-1")
    assert contract.event_topic("sp", "site-01", "n1", "ext-1") == "sp/site-01/n1/event/ext-1"
    assert contract.health_topic("sp", "site-01", "n1") == "sp/site-01/n1/health"
    assert contract.availability_topic("sp", "site-01", "n1") == "sp/site-01/n1/availability"
    assert contract.subscription("sp") == "sp/+/+/#"
    assert contract.node_subscription("sp", "site-01", "n1") == "sp/site-01/n1/#"
    assert contract.parse_topic("sp/site-01/n1/event/ext-1") == contract.TopicInfo(
        "sp", "site-01", "n1", "event", "ext-1")
    assert contract.parse_topic("sp/site-01/n1/availability").channel == "availability"
    for bad in ["sp/site-01/n1/state", "sp/site-01/n1/health/x", "sp/Site/n1/health",
                "sp/site-01/n1/foo", "sp/site-01/+/health", "", "a/b", "sp/s/n/state/#"]:
        with pytest.raises(ContractError):
            contract.parse_topic(bad)
    with pytest.raises(ContractError, match="prefix"):
        contract.parse_topic("other/site-01/n1/health", prefix="sp")
    with pytest.raises(ContractError):
        contract.state_topic("sp", "site-01", "n1", "Tank 1")


def test_a_replay_carries_any_reading_of_its_own_node_unchanged():
    topic = contract.replay_topic("servicepoint", "site-01", "pump-room")
    assert topic == "servicepoint/site-01/pump-room/replay"
    assert contract.parse_topic(topic).channel == "replay"
    for message in EXAMPLES:
        if isinstance(message, contract.Availability):
            with pytest.raises(ContractError):  # availability is never replayed
                contract.decode(topic, contract.encode(message))
            continue
        assert contract.decode(topic, contract.encode(message)) == message
    other = contract.replay_topic("servicepoint", "site-01", "boiler-room")
    with pytest.raises(ContractError, match="do not match"):
        contract.decode(other, contract.encode(EXAMPLES[0]))
    with pytest.raises(ContractError):
        contract.parse_topic(topic + "/tank-1")


def test_wire_format_is_what_docs_mqtt_md_shows():
    body = json.loads(contract.encode(EXAMPLES[0]))
    assert body == {"v": 1, "kind": "tank_state", "site_id": "site-01", "node_id": "pump-room",
                    "epoch": 0, "seq": 1, "ts": "2026-11-25T17:30:05.250000+08:00",
                    "asset_id": "tank-1",
                    "level_percent": 62.5, "volume_l": 5625.0, "capacity_l": 9000.0,
                    "overflow": False, "low_level": False, "turbidity_ntu": 0.42}
    assert contract.encode(EXAMPLES[6]) == b"online"
    assert contract.retained(EXAMPLES[0]) and not contract.retained(EXAMPLES[3])


def _payload(**changes):
    body = json.loads(contract.encode(EXAMPLES[0]))
    body.update(changes)
    return json.dumps(body).encode()


TOPIC = "servicepoint/site-01/pump-room/state/tank-1"


@pytest.mark.parametrize(("payload", "reason"), [
    (b"\xff\xfe", "UTF-8"),
    (b"{not json", "JSON"),
    (b"[1, 2]", "object"),
    (_payload(v=2), "version"),
    (_payload(v=True), "version"),
    (_payload(kind="tank_event"), "does not belong"),
    (_payload(kind="pump_state"), "kind"),
    (_payload(ts="2026-11-25T17:30:05"), "offset"),
    (_payload(ts="yesterday"), "ISO"),
    (_payload(level_percent=100.5), "level_percent"),
    (_payload(level_percent="62"), "level_percent"),
    (_payload(overflow=1), "overflow"),
    (_payload(seq=-1), "seq"),
    (_payload(seq=1.5), "seq"),
    (_payload(asset_id="tank-2"), "asset_id"),
    (_payload(site_id="site-02"), "match"),
    (b'{"v": 1, "kind": "tank_state", "level_percent": NaN}', "JSON"),
    (b"[" * 3000 + b"]" * 3000, "large"),
    (b"[" * 2000 + b"]" * 2000, "JSON"),
])
def test_rejections_say_why(payload, reason):
    with pytest.raises(ContractError, match=reason):
        contract.decode(TOPIC, payload)


def test_missing_field_and_unknown_fields():
    body = json.loads(contract.encode(EXAMPLES[0]))
    del body["capacity_l"]
    with pytest.raises(ContractError, match="missing field capacity_l"):
        contract.decode(TOPIC, json.dumps(body).encode())
    # A field a later minor change adds is ignored, not an error.
    assert contract.decode(TOPIC, _payload(colour="blue")) == EXAMPLES[0]


def test_error_is_a_servicepoint_error_and_a_value_error():
    with pytest.raises(ServicepointError):
        contract.decode(TOPIC, b"")
    with pytest.raises(ValueError):
        contract.decode(TOPIC, b"")


def test_encode_refuses_an_invalid_message():
    bad = contract.TankEvent(**IDS, seq=1, ts=TS.replace(tzinfo=None), asset_id="tank-1",
                             event="low_level_tripped", level_percent=10.0)
    with pytest.raises(ContractError, match="timezone"):
        contract.encode(bad)


def test_contract_imports_no_paho_or_gpiozero():
    import subprocess
    import sys

    code = ("import sys, sensors.contract; "
            "bad = [m for m in ('paho', 'gpiozero') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


topics = st.one_of(
    st.text(max_size=80),
    st.sampled_from([TOPIC, "servicepoint/site-01/pump-room/event/ext-1",
                     "servicepoint/site-01/pump-room/health",
                     "servicepoint/site-01/pump-room/availability"]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=10)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(topic=topics, payload=st.binary(max_size=300))
def test_decode_is_total_on_arbitrary_bytes(topic, payload):
    with contextlib.suppress(ContractError):
        contract.decode(topic, payload)


@settings(max_examples=400, deadline=None)
@given(example=st.sampled_from(EXAMPLES[:6]), field=st.text(max_size=15) | st.sampled_from(
    ["v", "kind", "seq", "ts", "asset_id", "site_id", "level_percent", "present", "event",
     "uptime_s", "outbox_depth", "cpu_temp_c", "door_open"]), value=json_values,
    drop=st.booleans())
def test_decode_is_total_on_mutated_payloads(example, field, value, drop):
    body = json.loads(contract.encode(example))
    if drop:
        body.pop(field, None)
    else:
        body[field] = value
    topic = contract.topic_for(example, prefix="servicepoint")
    try:
        message = contract.decode(topic, json.dumps(body).encode())
    except ContractError:
        return
    # Whatever passes is a proper message that encodes again.
    assert contract.decode(topic, contract.encode(message)) == message


# --- the server's alert topic ----------------------------------------------------------------

ALERT = contract.AlertNotice(site_id="site-01", alert_id=41, ticket_id=7, kind="raised", level=0,
                             urgent=True, asset_id="tank-1", condition="overflow",
                             title="【紧急】劳动路社区服务站：蓄水池溢流 | URGENT Tank overflowing",
                             created_at=TS)
ALERT_TOPIC = "servicepoint/site-01/alerts/41"


def test_alert_round_trip_and_wire_format_is_what_docs_api_md_shows():
    assert contract.alert_topic("servicepoint", "site-01", 41) == ALERT_TOPIC
    payload = contract.encode_alert(ALERT)
    assert contract.decode_alert(ALERT_TOPIC, payload) == ALERT
    assert json.loads(payload) == {
        "v": 1, "id": 41, "ticket_id": 7, "kind": "raised", "level": 0, "urgent": True,
        "asset_id": "tank-1", "condition": "overflow", "title": ALERT.title,
        "created_at": "2026-11-25T17:30:05.250000+08:00"}
    cleared = dataclasses.replace(ALERT, kind="cleared", asset_id=None, condition=None)
    assert contract.decode_alert(ALERT_TOPIC, contract.encode_alert(cleared)) == cleared


def test_the_one_parser_reads_alert_topics_and_no_node_may_be_called_alerts():
    assert contract.parse_topic(ALERT_TOPIC) == contract.TopicInfo(
        "servicepoint", "site-01", None, "alert", alert_id=41)
    for bad in ["servicepoint/site-01/alerts/0", "servicepoint/site-01/alerts/x",
                "servicepoint/site-01/alerts/041", "servicepoint/Site/alerts/1"]:
        with pytest.raises(ContractError):
            contract.parse_topic(bad)
    with pytest.raises(ContractError, match="server's level"):
        contract.state_topic("servicepoint", "site-01", "alerts", "tank-1")
    with pytest.raises(ContractError, match="server's level"):
        contract.parse_topic("servicepoint/site-01/alerts/state/tank-1")
    # A node's reading is not an alert, and an alert is not a reading.
    with pytest.raises(ContractError, match="alert"):
        contract.decode(ALERT_TOPIC, contract.encode_alert(ALERT))
    with pytest.raises(ContractError, match="alert topic"):
        contract.decode_alert(TOPIC, contract.encode_alert(ALERT))


def _alert_payload(**changes):
    body = json.loads(contract.encode_alert(ALERT))
    body.update(changes)
    return json.dumps(body).encode()


@pytest.mark.parametrize(("payload", "reason"), [
    (b"{not json", "JSON"),
    (_alert_payload(v=2), "version"),
    (_alert_payload(id=42), "match"),
    (_alert_payload(kind="overflow"), "kind"),
    (_alert_payload(level=-1), "level"),
    (_alert_payload(urgent="yes"), "urgent"),
    (_alert_payload(asset_id="Tank 1"), "asset_id"),
    (_alert_payload(title=""), "title"),
    (_alert_payload(created_at="2026-11-25T17:30:05"), "offset"),
])
def test_alert_rejections_say_why_and_are_value_errors(payload, reason):
    with pytest.raises(ContractError, match=reason):
        contract.decode_alert(ALERT_TOPIC, payload)
    with pytest.raises(ValueError):
        contract.decode_alert(ALERT_TOPIC, payload)


def test_encode_alert_refuses_an_alert_the_contract_cannot_carry():
    with pytest.raises(ContractError, match="asset_id"):
        contract.encode_alert(dataclasses.replace(ALERT, asset_id="Tank 1"))
    with pytest.raises(ContractError, match="alert_id"):
        contract.alert_topic("servicepoint", "site-01", 0)


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(["v", "id", "ticket_id", "kind", "level", "urgent", "asset_id",
                              "condition", "title", "created_at"]) | st.text(max_size=10),
       value=json_values, drop=st.booleans())
def test_decode_alert_is_total_on_mutated_payloads(field, value, drop):
    body = json.loads(contract.encode_alert(ALERT))
    if drop:
        body.pop(field, None)
    else:
        body[field] = value
    try:
        notice = contract.decode_alert(ALERT_TOPIC, json.dumps(body).encode())
    except ContractError:
        return
    assert contract.decode_alert(ALERT_TOPIC, contract.encode_alert(notice)) == notice


# --- what an event says about its asset's state ------------------------------------------------

def test_each_event_names_the_state_field_it_sets_and_back():
    tank_fields = {f.name for f in dataclasses.fields(contract.TankState)}
    bay_fields = {f.name for f in dataclasses.fields(contract.ExtinguisherBayState)}
    for name, (field, value) in contract.TANK_EVENT_FIELDS.items():
        assert field in tank_fields
        assert contract.tank_event(field, value) == name
    for name, (field, value) in contract.BAY_EVENT_FIELDS.items():
        assert field in bay_fields
        assert contract.bay_event(field, value) == name
    assert contract.bay_event("present", False) == "extinguisher_removed"
    assert contract.tank_event("overflow", True) == "overflow_tripped"
    with pytest.raises(ContractError):
        contract.tank_event("turbidity_ntu", True)


def test_epoch_is_optional_on_the_wire_so_older_nodes_still_decode():
    """A node older than epochs sends no ``epoch``: its readings count in epoch 0; a newer
    node's epoch comes through, and a bad one is refused."""
    body = json.loads(contract.encode(EXAMPLES[0]))
    del body["epoch"]
    assert contract.decode(TOPIC, json.dumps(body).encode()).epoch == 0
    assert contract.decode(TOPIC, _payload(epoch=1_796_000_000)).epoch == 1_796_000_000
    with pytest.raises(contract.ContractError, match="epoch"):
        contract.decode(TOPIC, _payload(epoch=-1))
