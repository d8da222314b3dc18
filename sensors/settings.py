"""The sensor node's settings: the broker, the site, its data folder and its pin file.

Read from the site's shared TOML file and the environment by :func:`load_node_settings` (the
reader is ``foundation.settings``). The node reads ``[site]``, ``[mqtt]``, ``data_dir`` (its
outbox) and ``sensors_file`` (pins and calibration, read by ``sensors.config``), nothing of the
server's or the kiosk's, and holds no secret but its broker login in ``SERVICEPOINT_MQTT_URL``::

    settings = load_node_settings(env={"SERVICEPOINT_MQTT_URL": "mqtt://node-1:pw@127.0.0.1"})
    config = load_sensors_config(settings.sensors_file)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from foundation.settings import AppSettings, MqttSettings, load_app_settings

__all__ = ["NodeSettings", "load_node_settings"]


class NodeSettings(AppSettings):
    sensors_file: Path = Path("sensors.toml")
    mqtt: MqttSettings = MqttSettings()


def load_node_settings(path: Path | str | None = None,
                       env: Mapping[str, str] | None = None) -> NodeSettings:
    """The sensor node's settings."""
    return load_app_settings(NodeSettings, path, env)
