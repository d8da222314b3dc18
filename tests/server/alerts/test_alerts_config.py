"""config/alerts.toml: recipients from the environment, and broken files naming the key."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from foundation.errors import ConfigError
from server.alerts import load_alerts_config
from tests.conftest import REPO

SHIPPED = REPO / "config" / "alerts.toml"
ENV = {
    "SERVICEPOINT_ALERT_DUTY_WECOM_URL": "wecombot://duty-key",
    "SERVICEPOINT_ALERT_HEAD_DINGTALK_URL": "dingtalk://secret@token/",
    "SERVICEPOINT_ALERT_HEAD_MAIL_URL": "mailtos://head:pw@smtp.example.com?to=head@example.com",
    "SERVICEPOINT_ALERT_OFFICE_MAIL_URL": "mailtos://o:pw@smtp.example.com?to=o@example.com",
}


def test_shipped_file_with_every_secret_set() -> None:
    config = load_alerts_config(SHIPPED, env=ENV, timezone="Asia/Shanghai")
    assert config.quiet_hours.start == time(22) and config.quiet_hours.end == time(7)
    assert config.ladder(urgent=True).after_minutes == (0, 10, 30)
    assert config.ladder(urgent=False).after_minutes == (0, 240, 1440)
    duty = config.recipients("site-01", level=0, urgent=False)
    assert [(r.key, r.url) for r in duty] == [("duty/wecom", "wecombot://duty-key")]
    assert [r.key for r in config.recipients("site-01", level=1, urgent=False)] == [
        "head/dingtalk", "head/mail"
    ]
    assert config.recipients("site-01", level=2, urgent=False) == ()
    assert [r.key for r in config.recipients("site-01", level=2, urgent=True)] == ["office/mail"]
    assert config.recipients("site-99", level=0, urgent=True) == ()


def test_the_file_itself_holds_no_url() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    assert "url =" not in text.replace("url_env =", "")


def test_a_missing_secret_fails_fast_naming_the_key() -> None:
    env = {k: v for k, v in ENV.items() if "HEAD_MAIL" not in k}
    with pytest.raises(ConfigError) as caught:
        load_alerts_config(SHIPPED, env=env, timezone="Asia/Shanghai")
    assert caught.value.key == "sites.site-01.staff[1].channels[1].url_env"
    assert "SERVICEPOINT_ALERT_HEAD_MAIL_URL is not set" in str(caught.value)


def test_in_development_a_missing_secret_skips_the_channel() -> None:
    env = {k: v for k, v in ENV.items() if "HEAD_MAIL" not in k}
    config = load_alerts_config(SHIPPED, env=env, require_secrets=False, timezone="Asia/Shanghai")
    assert [r.key for r in config.recipients("site-01", level=1, urgent=True)] == ["head/dingtalk"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alerts.toml"
    path.write_text(text, encoding="utf-8")
    return path


STAFF = "[[sites.site-01.staff]]\nid = 'wang'\nname = '王'\n"


@pytest.mark.parametrize(("text", "key"), [
    ("[quiet_hours]\nstart = '25:00'\n", "quiet_hours.start"),
    ("[escalation]\nurgent_after_minutes = [10, 5]\n", "escalation.urgent_after_minutes"),
    ("[escalation]\nnormal_after_minutes = []\n", "escalation.normal_after_minutes"),
    ("[retry]\njitter = 1.5\n", "retry.jitter"),
    ("[retry]\nfirst_delay_s = 600\nmax_delay_s = 60\n", "retry.max_delay_s"),
    ("[paging]\nx = 1\n", "paging"),
    (STAFF + "channels = [{ name = 'wecom', url = 'wecombot://key' }]\n",
     "sites.site-01.staff[0].channels[0].url"),
    (STAFF + "channels = [{ name = 'wecom', url_env = 'lowercase' }]\n",
     "sites.site-01.staff[0].channels[0].url_env"),
    (STAFF + "channels = []\n", "sites.site-01.staff[0].channels"),
    (STAFF + "level = 5\nchannels = [{ name = 'w', url_env = 'W_URL' }]\n",
     "sites.site-01.staff[0].level"),
    (STAFF + "channels = [{ name = 'w', url_env = 'W_URL' }]\n" + STAFF
     + "channels = [{ name = 'w', url_env = 'W_URL' }]\n", "sites.site-01.staff[1].id"),
    (STAFF + "channels = [{ name = 'w', url_env = 'NOT_A_URL' }]\n",
     "sites.site-01.staff[0].channels[0].url_env"),
    ("[quiet_hours\n", "(file)"),
])
def test_broken_file_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    env = {"W_URL": "json://127.0.0.1/", "NOT_A_URL": "just-a-token"}
    with pytest.raises(ConfigError) as caught:
        load_alerts_config(path, env=env, timezone="Asia/Shanghai")
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{path}: {key}: ")


def test_no_file_means_nobody_to_alert() -> None:
    config = load_alerts_config(None, env={}, timezone="Asia/Shanghai")
    assert config.sites == {}
    assert config.recipients("site-01", level=0, urgent=True) == ()
