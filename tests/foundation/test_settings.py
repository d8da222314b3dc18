"""A bad setting stops start-up with a message that names the key; each app checks its own.

The server, the sensor node and the kiosk read the same file and environment through their own
settings classes (server.settings, sensors.settings, kiosk.settings over foundation.settings):
a program refuses a typo in its own sections and a placeholder of its own secrets, and starts
whatever another program's sections hold.
"""

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foundation.errors import ConfigError
from foundation.settings import parse_mqtt_url
from kiosk.settings import load_kiosk_settings
from sensors.settings import load_node_settings
from server.settings import load_server_settings

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config" / "servicepoint.toml"
Loader = Callable[..., Any]
LOADERS: dict[str, Loader] = {"server": load_server_settings, "node": load_node_settings,
                              "kiosk": load_kiosk_settings}
# What scripts/install-pi.sh writes into each program's env file, secrets made up.
PRODUCTION = {"SERVICEPOINT_ENVIRONMENT": "production", "SERVICEPOINT_CONFIG": str(SHIPPED)}
KIOSK_ENV = {**PRODUCTION, "SERVICEPOINT_SECURITY__KIOSK_KEY": "k" * 32,
             "SERVICEPOINT_KIOSK__STAFF_PIN": "731906"}
NODE_ENV = {**PRODUCTION, "SERVICEPOINT_MQTT_URL": "mqtt://node-1:pw@127.0.0.1:1883"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "servicepoint.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_config_loads_for_every_app() -> None:
    server = load_server_settings(SHIPPED, env={})
    assert server.site.name_zh and server.mqtt.broker.port == 1883
    assert server.database_url == f"sqlite:///{REPO / 'data' / 'servicepoint.db'}"
    assert server.categories_file == REPO / "config" / "categories.toml"
    assert server.ingest.rules_file == REPO / "config" / "rules.toml"
    node = load_node_settings(SHIPPED, env={})
    assert node.sensors_file == REPO / "config" / "sensors.toml"
    assert node.data_dir == REPO / "data" and node.site == server.site
    kiosk = load_kiosk_settings(SHIPPED, env={})
    assert kiosk.kiosk.kiosk_id == "K1" and kiosk.http.public_url == server.http.public_url


def test_environment_overrides_the_file() -> None:
    s = load_server_settings(SHIPPED, env={
        "SERVICEPOINT_DATABASE_URL": "postgresql://sp@db/servicepoint",
        "SERVICEPOINT_MQTT_URL": "mqtts://node:s%40cret@broker.local",
        "SERVICEPOINT_HTTP__PORT": "9000",
    })
    assert s.database_url == "postgresql://sp@db/servicepoint"
    broker = s.mqtt.broker
    assert (broker.host, broker.port, broker.username, broker.password, broker.tls) == (
        "broker.local", 8883, "node", "s@cret", True)
    assert s.http.port == 9000


@pytest.mark.parametrize(("app", "text", "env", "key"), [
    ("server", "[http]\nport = 70000\n", {}, "http.port"),
    ("server", "[http]\nprot = 8080\n", {}, "http.prot"),
    ("node", "[mqtt]\nurl = 'http://broker'\n", {}, "mqtt.url"),
    ("server", "[database]\nurl = 'mysql://x'\n", {}, "database.url"),
    ("kiosk", "[kiosk]\nidle_warning_seconds = 5\n", {}, "kiosk.idle_warning_seconds"),
    ("kiosk", "[kiosk]\nidle_secs = 60\n", {}, "kiosk.idle_secs"),
    ("kiosk", "[site]\nid = 'Site 1'\n", {}, "site.id"),
    ("node", "", {"SERVICEPOINT_MQTT_URL": "mqtt://:1883"}, "mqtt.url"),
    ("node", "", {"SERVICEPOINT_MQTT__KEEPALIVE_S": "30"}, "mqtt.keepalive_s"),
    ("server", "", {"SERVICEPOINT_HTTP__PORT": "eighty"}, "http.port"),
    ("server", "environment = 'production'\n", {}, "security.secret_key"),
    ("kiosk", "environment = 'production'\n", {}, "security.kiosk_key"),
    ("node", "[kiosks]\nkiosk_id = 'K2'\n", {}, "kiosks"),
    ("kiosk", "", {"SERVICEPOINT_KIOSKS__KIOSK_ID": "K2"}, "kiosks"),
    ("server", "[site\nname = 1", {}, "(file)"),
])
def test_bad_values_name_their_key(tmp_path: Path, app: str, text: str, env: dict[str, str],
                                   key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        LOADERS[app](write(tmp_path, text), env=env)
    assert caught.value.key == key
    assert key in str(caught.value)


@pytest.mark.parametrize(("app", "text"), [
    ("kiosk", "[database]\nurl = 'mysql://x'\n[ingest]\nbatch_sise = 5\n"),
    ("kiosk", "[security]\nsession_hours = 12\nsecret_key = 'x'\n[http]\nport = 8080\n"),
    ("node", "[http]\nprot = 8080\n[kiosk]\nidle_secs = 60\n"),
    ("server", "[kiosk]\nidle_secs = 60\nfont_path = '/f.ttc'\n"),
])
def test_another_apps_sections_are_not_this_apps_errors(tmp_path: Path, app: str,
                                                        text: str) -> None:
    assert LOADERS[app](write(tmp_path, text), env={}).environment == "development"


def test_the_kiosk_starts_in_production_with_only_its_own_key() -> None:
    alone = {"SERVICEPOINT_ENVIRONMENT": "production", "SERVICEPOINT_SECURITY__KIOSK_KEY": "k" * 32,
             "SERVICEPOINT_KIOSK__STAFF_PIN": "731906"}
    assert load_kiosk_settings(env=alone).environment == "production"
    kiosk = load_kiosk_settings(env=KIOSK_ENV)
    assert kiosk.environment == "production" and kiosk.security.kiosk_key == "k" * 32
    # The same environment is not enough for the server: its own secret is still a placeholder.
    with pytest.raises(ConfigError) as caught:
        load_server_settings(env=KIOSK_ENV)
    assert caught.value.key == "security.secret_key"


def test_the_sensor_node_starts_in_production_with_only_its_broker_login() -> None:
    node = load_node_settings(env=NODE_ENV)
    assert node.environment == "production" and node.mqtt.broker.username == "node-1"
    with pytest.raises(ConfigError) as caught:
        load_kiosk_settings(env=NODE_ENV)
    assert caught.value.key == "security.kiosk_key"


@pytest.mark.parametrize(("env", "key"), [
    ({"SERVICEPOINT_SECURITY__KIOSK_KEY": "k" * 32}, "security.secret_key"),
    ({"SERVICEPOINT_SECRET_KEY": "x" * 40}, "security.kiosk_key"),
])
def test_the_server_still_refuses_its_placeholders_in_production(env: Mapping[str, str],
                                                                  key: str) -> None:
    with pytest.raises(ConfigError, match="development placeholder") as caught:
        load_server_settings(env={**PRODUCTION, **env})
    assert caught.value.key == key


def test_production_refuses_short_secrets_and_the_shipped_pin_naming_each() -> None:
    server_env = {**PRODUCTION, "SERVICEPOINT_SECRET_KEY": "x",
                  "SERVICEPOINT_SECURITY__KIOSK_KEY": "twelve-chars"}
    with pytest.raises(ConfigError) as caught:
        load_server_settings(env=server_env)
    assert caught.value.key == "security.secret_key"
    assert "shorter than 16 characters" in str(caught.value)
    assert "security.kiosk_key: is shorter than 16" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load_kiosk_settings(env={**KIOSK_ENV, "SERVICEPOINT_KIOSK__STAFF_PIN": "2468"})
    assert caught.value.key == "kiosk.staff_pin"
    assert "SERVICEPOINT_KIOSK__STAFF_PIN" in str(caught.value)
    # Development keeps all of them, so a checkout runs with no set-up.
    assert load_server_settings(env={**server_env, "SERVICEPOINT_ENVIRONMENT": "development"})
    assert load_kiosk_settings(env={}).kiosk.staff_pin == "2468"


def test_an_unknown_site_time_zone_is_blamed_on_the_settings_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[site]\ntimezone = 'Asia/Changsha'\n")
    for load in LOADERS.values():
        with pytest.raises(ConfigError) as caught:
            load(path, env={})
        assert caught.value.key == "site.timezone"
        assert str(caught.value).startswith(f"{path}: site.timezone: ")


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_server_settings(env={"SERVICEPOINT_CONFIG": str(tmp_path / "nope.toml")})


def test_production_with_real_secrets_loads(tmp_path: Path) -> None:
    s = load_server_settings(write(tmp_path, "environment = 'production'\n"), env={
        "SERVICEPOINT_SECRET_KEY": "x" * 40, "SERVICEPOINT_SECURITY__KIOSK_KEY": "k" * 20})
    assert s.environment == "production"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.sampled_from(sorted(LOADERS)))
def test_broken_config_files_never_crash_the_loader(text: str, app: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.toml"
        path.write_text(text, encoding="utf-8")
        try:
            LOADERS[app](path, env={})
        except ConfigError as exc:
            assert exc.key


@given(st.text(max_size=80))
def test_mqtt_urls_parse_or_say_why(url: str) -> None:
    try:
        parse_mqtt_url(url)
    except ValueError as exc:
        assert str(exc)
