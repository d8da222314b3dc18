"""Home Assistant discovery as an HA user sees it: short entity ids, names in the site's
language, problem sensors that read ON for trouble, unknown for a null reading, diagnostic node
entities; and the node's outbox depth reads 0 while it is connected."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest

from sensors import contract
from sensors.config import load_sensors_config
from sensors.discovery import discovery_messages
from tests.sensors.helpers import NODE, PREFIX, SITE, make_config, wait_until

REPO = Path(__file__).resolve().parents[2]
DIAGNOSTIC = {"connectivity", "uptime", "cpu-temperature", "outbox-depth"}


def _configs(messages: list[tuple[str, bytes]]) -> dict[str, dict[str, Any]]:
    """Config payloads by unique id (empty payloads remove retired entities)."""
    return {body["unique_id"]: body for body in
            (json.loads(payload) for _topic, payload in messages if payload)}


def _render(template: str, **state: Any) -> str:
    """The value template as HA renders it (Jinja2, with the payload as ``value_json``)."""
    return jinja2.Environment().from_string(template).render(value_json=state)


# --- the config messages ----------------------------------------------------------------------

def test_entities_have_short_ids_and_chinese_names() -> None:
    configs = _configs(discovery_messages(make_config(), site_id=SITE, prefix=PREFIX,
                                          discovery_prefix="homeassistant"))
    level = configs["servicepoint-site-01-tank-1-level"]
    assert level["object_id"] == "sp_site01_tank1_level" and level["name"] == "液位"
    assert configs["servicepoint-site-01-ext-1-missing"]["name"] == "灭火器缺失"
    assert configs["servicepoint-site-01-node-t-outbox-depth"]["object_id"] == \
        "sp_site01_nodet_outbox_depth"
    ids = [c["object_id"] for c in configs.values()]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[a-z0-9_]+", i) for i in ids)
    english = _configs(discovery_messages(make_config(), site_id=SITE, prefix=PREFIX,
                                          discovery_prefix="homeassistant", language="en"))
    assert english["servicepoint-site-01-ext-1-pressure-low"]["name"] == "Pressure low"


def test_troubles_are_problem_sensors_and_null_is_unknown() -> None:
    configs = _configs(discovery_messages(make_config(), site_id=SITE, prefix=PREFIX,
                                          discovery_prefix="homeassistant"))
    missing = configs["servicepoint-site-01-ext-1-missing"]
    pressure = configs["servicepoint-site-01-ext-1-pressure-low"]
    overflow = configs["servicepoint-site-01-tank-1-overflow"]
    for problem in (missing, pressure, overflow):
        assert problem["device_class"] == "problem"
    assert _render(missing["value_template"], present=False) == "ON"
    assert _render(missing["value_template"], present=True) == "OFF"
    assert _render(pressure["value_template"], pressure_ok=False) == "ON"
    assert _render(pressure["value_template"], pressure_ok=None) == "None"  # HA: unknown
    assert _render(overflow["value_template"], overflow=None) == "None"
    door = configs["servicepoint-site-01-ext-1-door"]
    assert _render(door["value_template"], door_open=True) == "ON"
    assert _render(door["value_template"], door_open=None) == "None"
    level = configs["servicepoint-site-01-tank-1-level"]
    assert _render(level["value_template"], level_percent=None) == "None"


def test_every_config_is_under_the_nodes_own_topic_level() -> None:
    """Issue 14 #18: the node's id is a level of every discovery topic, so the broker's ACL can
    keep each login to its own entities; nothing is announced (or emptied) anywhere else."""
    messages = discovery_messages(make_config(), site_id=SITE, prefix=PREFIX,
                                  discovery_prefix="homeassistant")
    assert messages and all(payload for _, payload in messages)
    for topic, _ in messages:
        head, _component, level, _object, tail = topic.split("/")
        assert (head, level, tail) == ("homeassistant", f"servicepoint-{SITE}-{NODE}", "config")


# --- the real command on a real broker ----------------------------------------------------------

@pytest.fixture
def simulated_node(tmp_path: Path, broker: Any) -> Iterator[subprocess.Popen[bytes]]:
    """`servicepoint sensors --simulate` with the shipped config/sensors.toml."""
    config = tmp_path / "servicepoint.toml"
    config.write_text(f'environment = "test"\ndata_dir = "{tmp_path / "data"}"\n'
                      f'sensors_file = "{REPO / "config" / "sensors.toml"}"\n'
                      f'[site]\nid = "{SITE}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEPOINT_")}
    env.update(SERVICEPOINT_CONFIG=str(config), SERVICEPOINT_MQTT_URL=broker.url)
    env.pop("GPIOZERO_PIN_FACTORY", None)
    log = (tmp_path / "node.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "servicepoint", "sensors", "--simulate",
                                "--no-stdin"], cwd=REPO, env=env, stdout=log, stderr=log)
    yield process
    process.send_signal(signal.SIGTERM)
    process.wait(15)


@pytest.mark.broker
def test_what_home_assistant_gets_from_the_simulated_node(broker: Any, listen: Any,
                                                         simulated_node: Any) -> None:
    listener = listen(broker.url, "homeassistant/#")
    shipped = load_sensors_config(REPO / "config" / "sensors.toml")
    expected = len(_configs(discovery_messages(shipped, site_id=SITE, prefix=PREFIX,
                                               discovery_prefix="homeassistant")))
    wait_until(lambda: len([m for m in listener.snapshot() if m.payload]) >= expected, 30,
               "discovery from servicepoint sensors --simulate")
    configs = {m.topic: json.loads(m.payload) for m in listener.snapshot() if m.payload}
    binary = {t: c for t, c in configs.items() if t.split("/")[1] == "binary_sensor"}
    assert len(configs) == expected and len(binary) >= 5
    for topic, body in binary.items():
        assert body.get("device_class"), f"{topic} has no device class"
        assert body["device_class"] != "presence", topic
    for topic, body in configs.items():
        assert re.fullmatch(r"sp_site01_[a-z0-9_]+", body.get("object_id", "")), topic
        entity = body["unique_id"].removeprefix(f"servicepoint-{SITE}-pump-room-")
        if body["unique_id"].startswith(f"servicepoint-{SITE}-pump-room-"):
            assert entity in DIAGNOSTIC and body["entity_category"] == "diagnostic", topic
        else:
            assert "entity_category" not in body, topic
        assert body["device"]["sw_version"]
    assert {json.loads(m.payload)["name"] for m in listener.snapshot() if m.payload} >= {
        "液位", "灭火器缺失", "压力不足", "连接"}


@pytest.mark.broker
def test_discovery_again_after_home_assistant_restarts(broker: Any, start_node: Any,
                                                       listen: Any) -> None:
    listener = listen(broker.url, "homeassistant/#")
    start_node(url=broker.url)
    expected = len(discovery_messages(make_config(), site_id=SITE, prefix=PREFIX,
                                      discovery_prefix="homeassistant"))
    wait_until(lambda: len(listener.snapshot()) >= expected, what="discovery")
    level_topic = f"homeassistant/sensor/servicepoint-{SITE}-{NODE}/tank-1-level/config"
    level = next(json.loads(m.payload) for m in listener.snapshot() if m.topic == level_topic)
    assert level["state_topic"] == f"{PREFIX}/{SITE}/{NODE}/state/tank-1"
    assert level["availability_topic"] == f"{PREFIX}/{SITE}/{NODE}/availability"
    assert (level["unit_of_measurement"], level["qos"]) == ("%", 1)
    assert level["device"]["via_device"] == f"servicepoint-{SITE}-{NODE}"
    sent = time.monotonic()
    listener.publish("homeassistant/status", b"online")
    wait_until(lambda: len(listener.snapshot()) >= 2 * expected, what="discovery again")
    assert time.monotonic() - sent >= 0.25  # discovery_delay_s is 0.3


@pytest.mark.broker
def test_outbox_depth_reads_zero_while_connected(broker: Any, start_node: Any,
                                                 listen: Any) -> None:
    # States and health fall due in the same poll, as on the Pi: the health reading used to
    # count the states stored just before it.
    listener = listen(broker.url, f"{PREFIX}/{SITE}/+/health")
    running = start_node(make_config(state_interval_s=0.2, health_interval_s=0.2),
                         url=broker.url)
    wait_until(running.publisher.connected.is_set, what="the node to connect")
    healths = wait_until(lambda: [m for m in listener.readings()
                                  if isinstance(m, contract.NodeHealth)][-6:]
                         if len(listener.readings()) >= 8 else None, what="health readings")
    assert [h.outbox_depth for h in healths] == [0] * len(healths)
