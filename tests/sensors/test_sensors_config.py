"""config/sensors.toml: a bad value stops start-up with a message that names the key."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

import pytest

from foundation.errors import ConfigError
from sensors.config import load_sensors_config, parse_sensors_config
from servicepoint.cli import main as servicepoint_main
from tests.sensors.helpers import TEST_SENSORS_TOML

REPO = Path(__file__).resolve().parents[2]


def raw():
    return tomllib.loads(TEST_SENSORS_TOML)


def test_the_shipped_config_and_the_test_config_load():
    config = load_sensors_config(REPO / "config" / "sensors.toml")
    assert [t.id for t in config.tanks] == ["tank-1"]
    assert [b.id for b in config.bays] == ["ext-1", "ext-2", "ext-3"]
    assert parse_sensors_config(raw()).node.id == "node-t"


def mutate(path, value):
    tree = raw()
    node = tree
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return tree


@pytest.mark.parametrize(("path", "value", "key", "words"), [
    (("bay", 0, "door_pin"), 40, "bay[0].door_pin", "not a usable GPIO"),
    (("bay", 0, "door_pin"), 1, "bay[0].door_pin", "not a usable GPIO"),
    (("bay", 1, "present_pin"), 17, "bay[1].present_pin", "already used by bay[0].present_pin"),
    (("tank", 0, "overflow", "pin"), 23, "tank[0].overflow.pin", "already used"),
    (("bay", 0, "gauge_pin"), 10, "bay[0].gauge_pin", "SPI0 MOSI"),
    (("bay", 0, "gauge_pin"), "GPIO5", "bay[0].gauge_pin", "integer"),
    (("tank", 0, "geometry", "sensor_height_cm"), 151, "tank[0].geometry.sensor_height_cm",
     "blind zone"),
    (("tank", 0, "geometry", "sensor_height_cm"), 100, "tank[0].geometry.sensor_height_cm",
     "blind zone"),
    (("tank", 0, "geometry", "width_cm"), 0, "tank[0].geometry.width_cm", "above 0"),
    (("tank", 0, "geometry", "full_depth_cm"), -5, "tank[0].geometry.full_depth_cm", "above 0"),
    (("tank", 0, "ultrasonic", "max_distance_m"), 1.5, "tank[0].ultrasonic.max_distance_m",
     "does not reach the floor"),
    (("tank", 0, "turbidity", "table"), [[1.0, 5.0], [2.0, 1.0], [1.5, 0.0]],
     "tank[0].turbidity.table", "one way"),
    (("tank", 0, "turbidity", "table"), [[1.0, 5.0]], "tank[0].turbidity.table", "two"),
    (("tank", 0, "colour"), "blue", "tank[0].colour", "not a known setting"),
    (("bay", 1, "id"), "ext-1", "bay[1].id", "already the id of bay[0].id"),
    (("bay", 1, "id"), "Ext 2", "bay[1].id", "pattern"),
    (("node", "state_interval_s"), 0, "node.state_interval_s", "greater than 0"),
])
def test_bad_values_name_their_key(path, value, key, words):
    with pytest.raises(ConfigError) as caught:
        parse_sensors_config(mutate(path, value), "sensors.toml")
    assert caught.value.key == key
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"sensors.toml: {key}: ")


def test_impossible_cylinder_and_missing_parts():
    tree = raw()
    tree["tank"][0]["geometry"] = {"shape": "horizontal_cylinder", "diameter_cm": 100,
                                   "length_cm": 300, "full_depth_cm": 120,
                                   "sensor_height_cm": 130}
    with pytest.raises(ConfigError, match=r"tank\[0\].geometry.full_depth_cm: 120"):
        parse_sensors_config(tree)
    tree = raw()
    del tree["adc"]
    with pytest.raises(ConfigError, match=r"tank\[0\].turbidity.adc_channel: needs an \[adc\]"):
        parse_sensors_config(tree)
    tree = raw()
    tree["tank"][0]["level_sensor"] = "pressure"
    with pytest.raises(ConfigError, match=r"tank\[0\].pressure: is required"):
        parse_sensors_config(tree)
    tree["tank"][0]["pressure"] = {"adc_channel": 1, "empty_volts": 0.3, "full_volts": 2.6}
    with pytest.raises(ConfigError, match="ADC channel 1 is already used"):
        parse_sensors_config(tree)


def test_start_up_stops_with_exit_code_78_naming_the_key(tmp_path, monkeypatch, caplog):
    bad = tmp_path / "sensors.toml"
    bad.write_text(TEST_SENSORS_TOML.replace("present_pin = 16", "present_pin = 17"))
    site = tmp_path / "servicepoint.toml"
    site.write_text(f'data_dir = "{tmp_path}"\nsensors_file = "{bad}"\n')
    monkeypatch.setenv("SERVICEPOINT_CONFIG", str(site))
    with caplog.at_level(logging.ERROR):
        assert servicepoint_main(["sensors"]) == 78
    assert "bay[1].present_pin: GPIO17 is already used by bay[0].present_pin" in caplog.text
    assert not list(tmp_path.glob("*.sqlite3"))  # stopped before touching anything


def test_check_config_prints_the_pin_map(capsys):
    assert servicepoint_main(["sensors", "--check-config"]) == 0
    out = capsys.readouterr().out
    assert "GPIO17 bay[0].present_pin" in out and "tank tank-1" in out
