"""Fixtures shared by every test: real services, and environment that keeps Kivy headless."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Kivy reads these at import; they must be set before any test module imports kivy.
os.environ.setdefault("KIVY_WINDOW", "sdl2")
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="sp-kivy-home-"))
os.environ.setdefault("GPIOZERO_PIN_FACTORY", "mock")
# Tests never read the developer's own config or environment.
for _name in [n for n in os.environ if n.startswith("SERVICEPOINT_")]:
    del os.environ[_name]

from tests.support.broker import MosquittoBroker  # noqa: E402
from tests.support.postgres import PostgresCluster  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A fresh anonymous Mosquitto broker for one test."""
    instance = MosquittoBroker(tmp_path / "broker").start()
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One PostgreSQL server per test worker; tests get their own databases from it."""
    cluster = PostgresCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[object]:
    """The real server in a child process with the demo data, on a free port."""
    from tests.support.server import ServerProcess

    server = ServerProcess(tmp_path / "server").start()
    yield server
    server.stop()
