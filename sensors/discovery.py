"""Home Assistant MQTT discovery: one retained config message per entity, one device per asset.

A community that already runs Home Assistant sees the tanks and extinguisher bays with no work.
Pure functions; the publisher sends what :func:`discovery_messages` returns on every connect and
again ``discovery_delay_s`` after ``<discovery_prefix>/status`` says ``online``.

Unique ids are ``servicepoint-<site>-<asset>-<entity>`` (and ``servicepoint-<site>-<node>-...``
for the node's own entities): stable across restarts and across moving an asset to another node.
Config topics are ``<discovery_prefix>/<component>/servicepoint-<site>/<asset>-<entity>/config``.
"""

from __future__ import annotations

import json
from typing import Any

from sensors import contract
from sensors.config import SensorsConfig

__all__ = ["discovery_messages", "status_topic"]


def status_topic(discovery_prefix: str) -> str:
    """Where Home Assistant announces itself (birth 'online', will 'offline')."""
    return f"{discovery_prefix}/status"


def discovery_messages(config: SensorsConfig, *, site_id: str, prefix: str,
                       discovery_prefix: str) -> list[tuple[str, bytes]]:
    """(topic, payload) for every entity of the node, its tanks and its bays."""
    node_id = config.node.id
    availability = contract.availability_topic(prefix, site_id, node_id)
    node_device = {
        "identifiers": [f"servicepoint-{site_id}-{node_id}"],
        "name": config.node.name or node_id,
        "manufacturer": "servicepoint",
        "model": "Sensor node",
    }
    out: list[tuple[str, bytes]] = []

    def add(component: str, object_id: str, owner: str, device: dict[str, Any],
            entity: dict[str, Any], *, with_availability: bool = True) -> None:
        unique_id = f"servicepoint-{site_id}-{owner}-{object_id}"
        body: dict[str, Any] = {
            "unique_id": unique_id,
            "device": device,
            "origin": {"name": "servicepoint"},
            "qos": 1,
            **entity,
        }
        if with_availability:
            body.update(availability_topic=availability, payload_available="online",
                        payload_not_available="offline")
        topic = f"{discovery_prefix}/{component}/servicepoint-{site_id}/{owner}-{object_id}/config"
        out.append((topic, json.dumps(body, ensure_ascii=False, sort_keys=True).encode()))

    def binary(field: str) -> str:
        return f"{{{{ 'ON' if value_json.{field} else 'OFF' }}}}"

    for tank in config.tanks:
        state = contract.state_topic(prefix, site_id, node_id, tank.id)
        device = {"identifiers": [f"servicepoint-{site_id}-{tank.id}"],
                  "name": tank.name or tank.id, "manufacturer": "servicepoint",
                  "model": "Water storage tank", "via_device": node_device["identifiers"][0]}
        add("sensor", "level", tank.id, device, {
            "name": "Level", "state_topic": state, "unit_of_measurement": "%",
            "state_class": "measurement", "icon": "mdi:water-percent",
            "value_template": "{{ value_json.level_percent }}"})
        add("sensor", "volume", tank.id, device, {
            "name": "Volume", "state_topic": state, "unit_of_measurement": "L",
            "device_class": "volume_storage", "state_class": "measurement",
            "value_template": "{{ value_json.volume_l }}"})
        if tank.turbidity is not None:
            add("sensor", "turbidity", tank.id, device, {
                "name": "Turbidity", "state_topic": state, "unit_of_measurement": "NTU",
                "state_class": "measurement", "icon": "mdi:water-opacity",
                "value_template": "{{ value_json.turbidity_ntu }}"})
        if tank.overflow is not None:
            add("binary_sensor", "overflow", tank.id, device, {
                "name": "Overflow", "state_topic": state, "device_class": "problem",
                "value_template": binary("overflow")})
        if tank.low_level is not None:
            add("binary_sensor", "low-level", tank.id, device, {
                "name": "Low level", "state_topic": state, "device_class": "problem",
                "value_template": binary("low_level")})
    for bay in config.bays:
        state = contract.state_topic(prefix, site_id, node_id, bay.id)
        device = {"identifiers": [f"servicepoint-{site_id}-{bay.id}"],
                  "name": bay.name or bay.id, "manufacturer": "servicepoint",
                  "model": "Fire extinguisher bay", "via_device": node_device["identifiers"][0]}
        add("binary_sensor", "present", bay.id, device, {
            "name": "Extinguisher present", "state_topic": state, "device_class": "presence",
            "icon": "mdi:fire-extinguisher", "value_template": binary("present")})
        if bay.gauge_pin is not None:
            add("binary_sensor", "pressure-ok", bay.id, device, {
                "name": "Pressure OK", "state_topic": state, "icon": "mdi:gauge",
                "value_template": binary("pressure_ok")})
        if bay.door_pin is not None:
            add("binary_sensor", "door", bay.id, device, {
                "name": "Cabinet door", "state_topic": state, "device_class": "door",
                "value_template": binary("door_open")})
    health = contract.health_topic(prefix, site_id, node_id)
    # Connectivity reads the availability topic itself, so it shows "disconnected", not
    # "unavailable", when the node's last will fires.
    add("binary_sensor", "connectivity", node_id, node_device, {
        "name": "Connectivity", "state_topic": availability, "device_class": "connectivity",
        "payload_on": "online", "payload_off": "offline"}, with_availability=False)
    add("sensor", "uptime", node_id, node_device, {
        "name": "Uptime", "state_topic": health, "unit_of_measurement": "s",
        "device_class": "duration", "entity_category": "diagnostic",
        "value_template": "{{ value_json.uptime_s }}"})
    add("sensor", "cpu-temperature", node_id, node_device, {
        "name": "CPU temperature", "state_topic": health, "unit_of_measurement": "°C",
        "device_class": "temperature", "entity_category": "diagnostic",
        "value_template": "{{ value_json.cpu_temp_c }}"})
    add("sensor", "outbox-depth", node_id, node_device, {
        "name": "Outbox depth", "state_topic": health, "entity_category": "diagnostic",
        "state_class": "measurement", "icon": "mdi:tray-full",
        "value_template": "{{ value_json.outbox_depth }}"})
    return out
