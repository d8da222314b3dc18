"""Fixtures for the kiosk: one offscreen 800×480 window per test process, a fresh app per test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The window is created once per process with these; they must be set before kivy.core.window.
os.environ.setdefault("KIVY_METRICS_DENSITY", "1")
os.environ.setdefault("KIVY_METRICS_FONTSCALE", "1")

from kivy.config import Config  # noqa: E402

Config.set("graphics", "width", "800")
Config.set("graphics", "height", "480")
Config.set("graphics", "resizable", "0")
# Draw frames as fast as the tests ask for them; the 60 fps cap only adds sleeps here.
Config.set("graphics", "maxfps", "0")

REPO = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.kiosk)


def kiosk_settings(data_dir: Path, **env: str) -> Any:
    from kiosk.settings import load_kiosk_settings

    values = {"SERVICEPOINT_DATA_DIR": str(data_dir),
              "SERVICEPOINT_KIOSK__SERVER_URL": "http://kiosk-test.invalid",
              "SERVICEPOINT_KIOSK__IDLE_SECONDS": "90",
              "SERVICEPOINT_KIOSK__IDLE_WARNING_SECONDS": "30",
              # The journeys' tests tap like a sighted user: one touch chooses a tile.
              # tests/kiosk/test_kiosk_voice.py and test_kiosk_taps.py turn two-touch on.
              "SERVICEPOINT_KIOSK__TWO_TOUCH": "false"}
    values.update(env)
    return load_kiosk_settings(REPO / "config" / "servicepoint.toml", env=values)


@pytest.fixture
def make_kiosk(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Build a kiosk app on the shared window. Pass ``server=DemoServer()`` (the default) or
    ``transport=None`` with ``server_url=`` for a real server; ``data_dir`` to share state with
    an earlier kiosk (a restart)."""
    from datetime import datetime

    from kiosk.app import KioskApp
    from kiosk.tooling.demo import DemoServer
    from kiosk.tooling.scenes import ManualClock
    from kiosk.voice import RecordingSpeaker
    from tests.kiosk.kiosk_support import Kiosk

    made: list[Kiosk] = []
    default = object()

    def make(*, server: Any = default, real_server_url: str | None = None,
             data_dir: Path | None = None, wait: bool = True, **env: str) -> Kiosk:
        if made and not made[-1].app.closed:
            made[-1].close()
        settings_env = dict(env)
        if real_server_url is not None:
            settings_env.setdefault("SERVICEPOINT_KIOSK__SERVER_URL", real_server_url)
            settings_env.setdefault("SERVICEPOINT_HTTP__PUBLIC_URL", real_server_url)
            settings_env.setdefault("SERVICEPOINT_KIOSK__REQUEST_TIMEOUT_S", "20")
            demo = None
        else:
            demo = DemoServer() if server is default else server
        settings = kiosk_settings(data_dir or tmp_path / "data", **settings_env)
        clock = ManualClock()
        speaker = RecordingSpeaker()
        app = KioskApp(settings, transport=demo.transport() if demo is not None else None,
                       speaker=speaker, now=clock,
                       wall_clock=lambda: datetime(2026, 11, 25, 9, 30))
        app.prepare()
        kiosk = Kiosk(app, clock, speaker, demo)
        made.append(kiosk)
        return kiosk.ready() if wait else kiosk

    yield make
    for kiosk in made:
        if not kiosk.app.closed:
            kiosk.close()
