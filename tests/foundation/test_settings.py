"""A bad setting stops start-up with a message that names the key."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foundation.errors import ConfigError
from foundation.settings import load_settings, parse_mqtt_url

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "servicepoint.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_config_loads(tmp_path: Path) -> None:
    s = load_settings(REPO / "config" / "servicepoint.toml", env={})
    assert s.site.name_zh and s.mqtt.broker.port == 1883
    assert s.database_url == f"sqlite:///{REPO / 'data' / 'servicepoint.db'}"
    assert s.categories_file == REPO / "config" / "categories.toml"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    s = load_settings(REPO / "config" / "servicepoint.toml", env={
        "SERVICEPOINT_DATABASE_URL": "postgresql://sp@db/servicepoint",
        "SERVICEPOINT_MQTT_URL": "mqtts://node:s%40cret@broker.local",
        "SERVICEPOINT_HTTP__PORT": "9000",
    })
    assert s.database_url == "postgresql://sp@db/servicepoint"
    broker = s.mqtt.broker
    assert (broker.host, broker.port, broker.username, broker.password, broker.tls) == (
        "broker.local", 8883, "node", "s@cret", True)
    assert s.http.port == 9000


@pytest.mark.parametrize(("text", "env", "key"), [
    ("[http]\nport = 70000\n", {}, "http.port"),
    ("[http]\nprot = 8080\n", {}, "http.prot"),
    ("[mqtt]\nurl = 'http://broker'\n", {}, "mqtt.url"),
    ("[database]\nurl = 'mysql://x'\n", {}, "database.url"),
    ("[kiosk]\nidle_warning_seconds = 5\n", {}, "kiosk.idle_warning_seconds"),
    ("", {"SERVICEPOINT_MQTT_URL": "mqtt://:1883"}, "mqtt.url"),
    ("", {"SERVICEPOINT_HTTP__PORT": "eighty"}, "http.port"),
    ("environment = 'production'\n", {}, "security.secret_key"),
    ("[site\nname = 1", {}, "(file)"),
])
def test_bad_values_name_their_key(tmp_path: Path, text: str, env: dict[str, str],
                                   key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), env=env)
    assert caught.value.key == key
    assert key in str(caught.value)


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(env={"SERVICEPOINT_CONFIG": str(tmp_path / "nope.toml")})


def test_production_with_real_secrets_loads(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, "environment = 'production'\n"), env={
        "SERVICEPOINT_SECRET_KEY": "x" * 40, "SERVICEPOINT_SECURITY__KIOSK_KEY": "k" * 20})
    assert s.environment == "production"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_broken_config_files_never_crash_the_loader(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.toml"
        path.write_text(text, encoding="utf-8")
        try:
            load_settings(path, env={})
        except ConfigError as exc:
            assert exc.key


@given(st.text(max_size=80))
def test_mqtt_urls_parse_or_say_why(url: str) -> None:
    try:
        parse_mqtt_url(url)
    except ValueError as exc:
        assert str(exc)
