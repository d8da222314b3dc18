"""The site's other config files, broken: sensors.toml, rules.toml and alerts.toml, each
mangled the ways an installer's editor mangles them (a value of the wrong type, a line lost or
doubled, a file cut short, stray text). Loading must give a config or a ConfigError naming the
key and the file: never another exception, so start-up always stops with a message.

Already covered: servicepoint.toml (tests/servicepoint/test_settings.py), and one named broken
key each for rules.toml and alerts.toml (tests/server/rules, tests/server/alerts).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foundation.errors import ConfigError
from sensors.config import load_sensors_config
from server.alerts import load_alerts_config
from server.rules import load_rules_config
from tests.server.conftest import CONFIG

VALUES = ["-1", "0", "1e400", "-1e400", "nan", "inf", '""', '"x"', "true", "[]", "{}", "[1, 2]",
          '"00:00"', '"25:61"', "99999999999999999999", "3.5", '"pump room"', '"\\u0000"',
          '[[1.0, 2.0]]', "{ name = 1 }", '"' + "a" * 300 + '"', "2026-11-25", "12:00:00"]
LOADERS: dict[str, Callable[[Path], Any]] = {
    "sensors.toml": load_sensors_config,
    "rules.toml": lambda path: load_rules_config(path, timezone="Asia/Shanghai"),
    "alerts.toml": lambda path: load_alerts_config(
        path, env={}, timezone="Asia/Shanghai", require_secrets=True),
}


@st.composite
def broken(draw: st.DrawFn, name: str) -> str:
    lines = (CONFIG / name).read_text(encoding="utf-8").splitlines()
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["value", "value", "drop", "double", "cut", "junk", "key"]))
        line = lines[at]
        if kind == "value" and "=" in line and not line.lstrip().startswith("#"):
            key = line.split("=", 1)[0]
            lines[at] = f"{key}= {draw(st.sampled_from(VALUES))}"
        elif kind == "drop":
            del lines[at]
        elif kind == "double":
            lines.insert(at, line)
        elif kind == "cut":
            lines = lines[:at] + [line[:draw(st.integers(0, len(line)))]]
        elif kind == "junk":
            lines.insert(at, draw(st.text(max_size=20)))
        elif kind == "key" and "=" in line and not line.lstrip().startswith("#"):
            lines[at] = draw(st.sampled_from(["unknown_key", "id", "pin", "[x]", "a.b"])) \
                + " =" + line.split("=", 1)[1]
    return "\n".join(lines) + "\n"


def _load(name: str, text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            LOADERS[name](path)
        except ConfigError as exc:
            assert exc.key and str(exc)


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_shipped_files_load(name: str) -> None:
    if name == "alerts.toml":  # the shipped file names its secrets; none are set here
        load_alerts_config(CONFIG / name, env={}, require_secrets=False,
                           timezone="Asia/Shanghai")
    else:
        LOADERS[name](CONFIG / name)


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_broken_files_give_a_config_error(name: str) -> None:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(text=broken(name))
    def run(text: str) -> None:
        _load(name, text)

    run()


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_random_text_gives_a_config_error(name: str) -> None:
    @settings(max_examples=60, deadline=None)
    @given(text=st.text(max_size=200) | st.binary(max_size=100).map(
        lambda b: b.decode("latin-1")))
    def run(text: str) -> None:
        _load(name, text)

    run()
