"""Home Assistant MQTT discovery: one retained config message per entity, one device per asset.

A community that already runs Home Assistant sees the tanks and extinguisher bays with no work.
Pure functions; the publisher sends what :func:`discovery_messages` returns on every connect and
again ``discovery_delay_s`` after ``<discovery_prefix>/status`` says ``online``.

What an HA user sees, and can rely on:

- **Entity ids.** Each entity has a short ``object_id``, ``sp_<site>_<owner>_<entity>`` with the
  dashes of the ids dropped (``sensor.sp_site01_tank1_level``), and a name in the site's
  language (Chinese unless ``language="en"``).
- **Unique ids** are ``servicepoint-<site>-<owner>-<entity>``: stable across restarts and across
  moving an asset to another node. Config topics are
  ``<discovery_prefix>/<component>/servicepoint-<site>-<node>/<owner>-<entity>/config``: the
  node's id (its broker login) is in the topic so the broker's ACL lets each node write only
  its own entities' configs (an empty retained config deletes an entity).
- **Device classes.** Every binary sensor has one. A state that means trouble is a ``problem``
  sensor that is ON when there is trouble: "extinguisher missing", "pressure low", overflow, low
  level (HA shows a ``presence`` sensor as Home/Away, so "extinguisher present" is not used).
- **Unknown is unknown.** A null reading (not fitted, no valid reading) renders ``None``, which
  HA shows as unknown, never OFF or 0.
- **Diagnostics.** The node's connectivity, uptime, CPU temperature and outbox depth are
  diagnostic entities; devices carry ``sw_version``.
- **The old layout.** Older versions announced under ``servicepoint-<site>/`` with no node in
  the topic (some entities under other meanings: ``…-present``, ``…-pressure-ok``). A node's
  login may no longer write there, so it cannot remove them itself; docs/MQTT.md says how an
  installer clears them once.
"""

from __future__ import annotations

import json
from importlib import metadata
from typing import Any, Literal

from sensors import contract
from sensors.config import SensorsConfig

__all__ = ["ENTITY_NAMES", "discovery_messages", "object_id", "status_topic"]

Language = Literal["zh", "en"]

# entity key -> (Chinese name, English name)
ENTITY_NAMES: dict[str, tuple[str, str]] = {
    "level": ("液位", "Level"),
    "volume": ("存水量", "Volume"),
    "turbidity": ("浊度", "Turbidity"),
    "overflow": ("溢流", "Overflow"),
    "low-level": ("低水位", "Low level"),
    "missing": ("灭火器缺失", "Extinguisher missing"),
    "pressure-low": ("压力不足", "Pressure low"),
    "door": ("箱门", "Cabinet door"),
    "connectivity": ("连接", "Connectivity"),
    "uptime": ("运行时长", "Uptime"),
    "cpu-temperature": ("CPU 温度", "CPU temperature"),
    "outbox-depth": ("待发送读数", "Outbox depth"),
}
_MODELS: dict[str, tuple[str, str]] = {
    "node": ("传感节点", "Sensor node"),
    "tank": ("二次供水蓄水池", "Water storage tank"),
    "bay": ("灭火器箱", "Fire extinguisher bay"),
}


def status_topic(discovery_prefix: str) -> str:
    """Where Home Assistant announces itself (birth 'online', will 'offline')."""
    return f"{discovery_prefix}/status"


def object_id(site_id: str, owner: str, entity: str) -> str:
    """``sp_site01_tank1_level``: what HA makes the entity id from when it first sees it."""
    return "_".join(["sp", site_id.replace("-", ""), owner.replace("-", ""),
                     entity.replace("-", "_")])


def _version() -> str:
    try:
        return metadata.version("servicepoint")
    except metadata.PackageNotFoundError:
        return "unknown"


def _problem_when(field: str, *, trouble: bool) -> str:
    """A template that is ON when ``field`` equals ``trouble``, and None (unknown) when null."""
    on, off = ("ON", "OFF") if trouble else ("OFF", "ON")
    return (f"{{% if value_json.{field} is none %}}None"
            f"{{% elif value_json.{field} %}}{on}{{% else %}}{off}{{% endif %}}")


def discovery_messages(config: SensorsConfig, *, site_id: str, prefix: str,
                       discovery_prefix: str, language: Language = "zh"
                       ) -> list[tuple[str, bytes]]:
    """(topic, payload) for every entity of the node, its tanks and its bays, each under the
    node's own topic level."""
    node_id = config.node.id
    availability = contract.availability_topic(prefix, site_id, node_id)
    version = _version()
    pick = 1 if language == "en" else 0

    def device(owner: str, name: str, model: str) -> dict[str, Any]:
        body = {"identifiers": [f"servicepoint-{site_id}-{owner}"], "name": name or owner,
                "manufacturer": "servicepoint", "model": _MODELS[model][pick],
                "sw_version": version}
        if owner != node_id:
            body["via_device"] = f"servicepoint-{site_id}-{node_id}"
        return body

    node_device = device(node_id, config.node.name, "node")
    out: list[tuple[str, bytes]] = []

    def topic(component: str, owner: str, entity: str) -> str:
        return (f"{discovery_prefix}/{component}/servicepoint-{site_id}-{node_id}/"
                f"{owner}-{entity}/config")

    def add(component: str, entity: str, owner: str, owner_device: dict[str, Any],
            body: dict[str, Any], *, with_availability: bool = True) -> None:
        config_body: dict[str, Any] = {
            "unique_id": f"servicepoint-{site_id}-{owner}-{entity}",
            "object_id": object_id(site_id, owner, entity),
            "name": ENTITY_NAMES[entity][pick],
            "device": owner_device,
            "origin": {"name": "servicepoint", "sw_version": version},
            "qos": 1,
            **body,
        }
        if with_availability:
            config_body.update(availability_topic=availability, payload_available="online",
                               payload_not_available="offline")
        out.append((topic(component, owner, entity),
                    json.dumps(config_body, ensure_ascii=False, sort_keys=True).encode()))

    for tank in config.tanks:
        state = contract.state_topic(prefix, site_id, node_id, tank.id)
        tank_device = device(tank.id, tank.name, "tank")
        add("sensor", "level", tank.id, tank_device, {
            "state_topic": state, "unit_of_measurement": "%", "state_class": "measurement",
            "icon": "mdi:water-percent", "value_template": "{{ value_json.level_percent }}"})
        add("sensor", "volume", tank.id, tank_device, {
            "state_topic": state, "unit_of_measurement": "L", "device_class": "volume_storage",
            "state_class": "measurement", "value_template": "{{ value_json.volume_l }}"})
        if tank.turbidity is not None:
            add("sensor", "turbidity", tank.id, tank_device, {
                "state_topic": state, "unit_of_measurement": "NTU",
                "state_class": "measurement", "icon": "mdi:water-opacity",
                "value_template": "{{ value_json.turbidity_ntu }}"})
        if tank.overflow is not None:
            add("binary_sensor", "overflow", tank.id, tank_device, {
                "state_topic": state, "device_class": "problem",
                "value_template": _problem_when("overflow", trouble=True)})
        if tank.low_level is not None:
            add("binary_sensor", "low-level", tank.id, tank_device, {
                "state_topic": state, "device_class": "problem",
                "value_template": _problem_when("low_level", trouble=True)})
    for bay in config.bays:
        state = contract.state_topic(prefix, site_id, node_id, bay.id)
        bay_device = device(bay.id, bay.name, "bay")
        add("binary_sensor", "missing", bay.id, bay_device, {
            "state_topic": state, "device_class": "problem", "icon": "mdi:fire-extinguisher",
            "value_template": _problem_when("present", trouble=False)})
        if bay.gauge_pin is not None:
            add("binary_sensor", "pressure-low", bay.id, bay_device, {
                "state_topic": state, "device_class": "problem", "icon": "mdi:gauge-low",
                "value_template": _problem_when("pressure_ok", trouble=False)})
        if bay.door_pin is not None:
            add("binary_sensor", "door", bay.id, bay_device, {
                "state_topic": state, "device_class": "door",
                "value_template": _problem_when("door_open", trouble=True)})
    health = contract.health_topic(prefix, site_id, node_id)
    # Connectivity reads the availability topic itself, so it shows "disconnected", not
    # "unavailable", when the node's last will fires.
    add("binary_sensor", "connectivity", node_id, node_device, {
        "state_topic": availability, "device_class": "connectivity",
        "entity_category": "diagnostic", "payload_on": "online", "payload_off": "offline"},
        with_availability=False)
    add("sensor", "uptime", node_id, node_device, {
        "state_topic": health, "unit_of_measurement": "s", "device_class": "duration",
        "entity_category": "diagnostic",
        "value_template": "{{ value_json.uptime_s }}"})
    add("sensor", "cpu-temperature", node_id, node_device, {
        "state_topic": health, "unit_of_measurement": "°C", "device_class": "temperature",
        "state_class": "measurement", "entity_category": "diagnostic",
        "value_template": "{{ value_json.cpu_temp_c }}"})
    add("sensor", "outbox-depth", node_id, node_device, {
        "state_topic": health, "entity_category": "diagnostic", "state_class": "measurement",
        "icon": "mdi:tray-full", "value_template": "{{ value_json.outbox_depth }}"})
    return out
