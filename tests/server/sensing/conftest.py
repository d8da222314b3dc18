"""Fixtures for the sensor side: a Processor on a real database with a clock the test drives,
alerts going to a RecordingNotifier, and builders for contract messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import count

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sensors import contract
from server.alerts import RecordingNotifier, SiteInfo, alerts_config_from_mapping
from server.alerts.outbox import AlertBook
from server.db import make_engine, session_factory
from server.rules import load_rules_config
from server.sensing.maintenance import asset_name
from server.sensing.metrics import Metrics
from server.sensing.processing import Inbound, Processor
from tests.sensors.conftest import mock_factory, start_node  # noqa: F401  (fixtures for e2e)
from tests.server.conftest import CONFIG, FakeClock

TZ = "Asia/Shanghai"  # the demo site's time zone (config/servicepoint.toml)
ALERTS = {
    "quiet_hours": {"start": "22:00", "end": "07:00"},
    "escalation": {"urgent_after_minutes": [0, 10, 30], "normal_after_minutes": [0, 240, 1440]},
    "retry": {"first_delay_s": 30, "factor": 2.0, "max_delay_s": 600, "max_attempts": 4,
              "jitter": 0.0},
    "sites": {"site-01": {"staff": [
        {"id": "duty", "name": "值班员", "level": 0,
         "channels": [{"name": "wecom", "url_env": "DUTY_URL"}]},
        {"id": "head", "name": "站长", "level": 1,
         "channels": [{"name": "dingtalk", "url_env": "HEAD_URL"}]},
    ]}},
}


class Node:
    """Builds contract messages as the pump-room node would send them, seq going up."""

    def __init__(self, clock: FakeClock, node_id: str = "pump-room") -> None:
        self.clock = clock
        self.node_id = node_id
        self.seq = count(1)

    def _base(self) -> dict[str, object]:
        return {"site_id": "site-01", "node_id": self.node_id, "seq": next(self.seq),
                "ts": self.clock()}

    def tank(self, level: float, *, turbidity: float = 0.3, overflow: bool = False,
             low: bool = False, asset_id: str = "tank-1") -> contract.TankState:
        return contract.TankState(**self._base(), asset_id=asset_id, level_percent=level,
                                  volume_l=level * 200, capacity_l=20000.0, overflow=overflow,
                                  low_level=low, turbidity_ntu=turbidity)

    def bay(self, *, present: bool = True, pressure_ok: bool = True, door_open: bool = False,
            asset_id: str = "ext-1") -> contract.ExtinguisherBayState:
        return contract.ExtinguisherBayState(**self._base(), asset_id=asset_id, present=present,
                                             pressure_ok=pressure_ok, door_open=door_open)

    def event(self, name: str, asset_id: str = "ext-1") -> contract.ExtinguisherBayEvent:
        return contract.ExtinguisherBayEvent(**self._base(), asset_id=asset_id,
                                             event=name)  # type: ignore[arg-type]


class Rig:
    """A processor with its database, clock, notifier and a node to feed it."""

    def __init__(self, sessions: sessionmaker[Session], clock: FakeClock) -> None:
        self.sessions = sessions
        self.clock = clock
        self.metrics = Metrics()
        self.notifier = RecordingNotifier()
        self.book = AlertBook(
            config=alerts_config_from_mapping(ALERTS, timezone=TZ, env={"DUTY_URL": "json://127.0.0.1:9/d",
                                                           "HEAD_URL": "json://127.0.0.1:9/h"}),
            site=SiteInfo(id="site-01", name_zh="劳动路社区服务站", name_en="Laodong Road"),
            timezone=TZ, public_url="http://sp.test", metrics=self.metrics,
            asset_names=asset_name)
        self.processor = Processor(
            site_id="site-01", rules=load_rules_config(CONFIG / "rules.toml", timezone=TZ),
            alerts=self.book,
            metrics=self.metrics, evidence_interval_s=600,
            auto_resolve=["low_level", "missing", "offline"], node_report_interval_s=60,
            clock=clock)
        self.node = Node(clock)

    def feed(self, *messages: contract.Message) -> int:
        with self.sessions() as db:
            return self.processor.process(
                db, [Inbound(m, contract.topic_for(m, prefix="servicepoint"), self.clock())
                     for m in messages])

    def run(self, *, minutes: int, report: Callable[[], contract.Message] | None = None) -> None:
        """Let time pass minute by minute, the node reporting ``report()`` each minute as its
        periodic state does, and the server ticking."""
        for _ in range(minutes):
            self.clock.advance(minutes=1)
            if report is not None:
                self.feed(report())
            self.tick()

    def tick(self) -> None:
        with self.sessions() as db:
            self.processor.tick(db)
            self.book.escalate(db, now=self.clock())

    def deliver(self) -> int:
        return self.book.deliver_due(self.sessions, self.notifier, now=self.clock(),
                                     rand=lambda: 0.0)


@pytest.fixture
def rig(db_url: str) -> Iterator[Rig]:
    engine = make_engine(db_url)
    clock = FakeClock(now=datetime.fromisoformat("2026-11-25T10:00:00+08:00"))
    yield Rig(session_factory(engine), clock)
    engine.dispose()
