"""config/rules.toml: the shipped file loads, and broken files fail fast naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from foundation.errors import ConfigError
from server.rules import (
    Condition,
    ExtinguisherType,
    RulesConfig,
    Severity,
    load_rules_config,
)
from tests.conftest import REPO


def test_shipped_file_matches_the_built_in_defaults() -> None:
    shipped = load_rules_config(REPO / "config" / "rules.toml", timezone="Asia/Shanghai")
    defaults = RulesConfig(timezone="Asia/Shanghai")
    assert shipped.tank == defaults.tank
    assert shipped.extinguisher == defaults.extinguisher
    assert shipped.node == defaults.node
    assert dict(shipped.ages) == dict(defaults.ages)
    assert dict(shipped.severity) == dict(defaults.severity)
    assert shipped.severity_of(Condition.OVERFLOW) is Severity.URGENT
    assert shipped.ages[ExtinguisherType.CO2].scrap_years == 12


def test_no_file_gives_the_defaults() -> None:
    assert load_rules_config(None, timezone="Asia/Shanghai") == RulesConfig(
        timezone="Asia/Shanghai")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "key"), [
    ("[tank]\nlow_raise_percent = 'low'\n", "tank.low_raise_percent"),
    ("[tank]\nlow_raise_percent = 30.0\n", "tank.low_clear_percent"),  # band inverted
    ("[tank]\nhigh_clear_percent = 95.0\n", "tank.high_clear_percent"),
    ("[tank]\ncleaning_interval_days = 400\n", "tank.cleaning_interval_days"),
    ("[tank]\ncleaning_interval_days = 30\n", "tank.cleaning_interval_days"),
    ("[tank]\nlevel_raise_after_s = -1\n", "tank.level_raise_after_s"),
    ("[tank]\nlow_raise = 20\n", "tank.low_raise"),
    ("[tank.overrides.tank-2]\nlow_raise_percent = 30.0\n",
     "tank.overrides.tank-2.low_clear_percent"),
    ("[tank.overrides]\ntank-2 = 5\n", "tank.overrides.tank-2"),
    ("[extinguisher.ages.foam]\nscrap_years = 5\n", "extinguisher.ages.foam"),
    ("[extinguisher.ages.water]\nscrap_years = 2\n", "extinguisher.ages.water.scrap_years"),
    ("[extinguisher]\ninspection_every_months = 0\n", "extinguisher.inspection_every_months"),
    ("[node]\nsilence_factor = 0.5\n", "node.silence_factor"),
    ("[severity]\noverflow = 'panic'\n", "severity.overflow"),
    ("[severity]\nfire = 'urgent'\n", "severity.fire"),
    ("[alerts]\nx = 1\n", "alerts"),
    ("tank = 3\n", "tank"),
    ("[tank\n", "(file)"),
])
def test_broken_file_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_rules_config(path, timezone="Asia/Shanghai")
    assert caught.value.key == key
    assert caught.value.source == str(path)
    assert str(caught.value).startswith(f"{path}: {key}: ")


def test_missing_file_and_bad_timezone(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_rules_config(tmp_path / "absent.toml", timezone="Asia/Shanghai")
    with pytest.raises(ConfigError) as caught:
        load_rules_config(None, timezone="Mars/Olympus")
    assert caught.value.key == "timezone"


def test_overrides_merge_over_the_site_values(tmp_path: Path) -> None:
    path = write(tmp_path, "[tank]\nlevel_raise_after_s = 60\n"
                           "[tank.overrides.tank-2]\nhigh_raise_percent = 80.0\n"
                           "high_clear_percent = 75.0\n")
    config = load_rules_config(path, timezone="Asia/Shanghai")
    assert config.tank_rules("tank-2").high_raise_percent == 80.0
    assert config.tank_rules("tank-2").level_raise_after_s == 60  # inherited from [tank]
    assert config.tank_rules("tank-1").high_raise_percent == 90.0
