"""Fixtures for fault injection: the server's real ingest on a demo SQLite database, the sensor
node's real code on mock pins, and a way to count what reached the system of record.

Everything is real except the far side of the GPIO wires: Mosquitto, SQLite, paho on both ends.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.alerts import RecordingNotifier
from server.db import make_engine, session_factory
from server.sensing.ingest import Ingest
from server.sensing.models import ReadingRow
from server.settings import load_server_settings
from tests.sensors.conftest import listen, mock_factory, start_node  # noqa: F401  (fixtures)
from tests.server.conftest import CONFIG, sqlite_template  # noqa: F401  (fixture)


@pytest.fixture
def demo_db(sqlite_template: Path, tmp_path: Path) -> str:  # noqa: F811
    """A fresh migrated SQLite database holding the demo site (tank-1, ext-1..3)."""
    target = tmp_path / "servicepoint.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@dataclass
class RunningIngest:
    ingest: Ingest
    sessions: sessionmaker[Session]
    notifier: RecordingNotifier

    def seqs(self, node_id: str) -> list[int]:
        """Every stored reading's seq for a node, in order (a repeat would show twice)."""
        with self.sessions() as db:
            return list(db.scalars(select(ReadingRow.seq).where(ReadingRow.node_id == node_id)
                                   .order_by(ReadingRow.seq)))

    def stored(self) -> float:
        return self.ingest.metrics.value("servicepoint_mqtt_messages_stored_total")


@pytest.fixture
def run_ingest(tmp_path: Path, demo_db: str) -> Iterator[Callable[..., RunningIngest]]:
    """Start the server's sensor ingest (as ``servicepoint server`` builds it) on ``demo_db``."""
    started: list[tuple[RunningIngest, object]] = []

    def start(url: str, *, db_url: str | None = None, **overrides: str) -> RunningIngest:
        env = {"SERVICEPOINT_DATABASE_URL": db_url or demo_db, "SERVICEPOINT_MQTT_URL": url,
               "SERVICEPOINT_DATA_DIR": str(tmp_path), "SERVICEPOINT_ENVIRONMENT": "test",
               "SERVICEPOINT_INGEST__TICK_INTERVAL_S": "0.5",
               "SERVICEPOINT_INGEST__DELIVERY_INTERVAL_S": "0.5",
               **{f"SERVICEPOINT_INGEST__{k.upper()}": v for k, v in overrides.items()}}
        settings = load_server_settings(CONFIG / "servicepoint.toml", env=env)
        engine = make_engine(settings.database_url)
        notifier = RecordingNotifier()
        sessions = session_factory(engine)
        ingest = Ingest.from_settings(settings, sessions=sessions, notifier=notifier)
        ingest.start()
        assert ingest.connected.wait(10), "ingest never reached the broker"
        running = RunningIngest(ingest, sessions, notifier)
        started.append((running, engine))
        return running

    yield start
    for running, engine in started:
        running.ingest.stop()
        engine.dispose()  # type: ignore[attr-defined]
