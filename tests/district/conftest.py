"""Fixtures for the district: a migrated, seeded database on each backend (SQLite and a real
PostgreSQL), and a processor that takes every site's readings as a central server does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import count

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sensors import contract
from server.alerts import RecordingNotifier, SiteInfo, alerts_config_from_mapping
from server.alerts.outbox import AlertBook
from server.db import make_engine, session_factory
from server.rules import load_rules_config
from server.sensing.metrics import Metrics
from server.sensing.processing import Inbound, Processor
from tests.district.district import add_site_02
from tests.server.conftest import (  # noqa: F401  (fixtures: a database per backend)
    CONFIG,
    FakeClock,
    db_url,
    postgres_template,
    sqlite_template,
)

ALERTS = {"quiet_hours": {"start": "00:00", "end": "00:00"},
          "sites": {site: {"staff": [{"id": f"duty-{site}", "name": "值班员",
                                      "channels": [{"name": "wecom", "url_env": "DUTY_URL"}]}]}
                    for site in ("site-01", "site-02")}}


class SiteNode:
    """Builds contract messages as one site's sensor node sends them, seq going up."""

    def __init__(self, clock: FakeClock, *, site_id: str, node_id: str) -> None:
        self.clock, self.site_id, self.node_id = clock, site_id, node_id
        self.seq = count(1)

    def _base(self) -> dict[str, object]:
        return {"site_id": self.site_id, "node_id": self.node_id, "seq": next(self.seq),
                "ts": self.clock()}

    def tank(self, asset_id: str, level: float) -> contract.TankState:
        return contract.TankState(**self._base(), asset_id=asset_id, level_percent=level,
                                  volume_l=level * 90, capacity_l=9000.0, overflow=False,
                                  low_level=False, turbidity_ntu=0.3)

    def bay(self, asset_id: str, *, present: bool) -> contract.ExtinguisherBayState:
        return contract.ExtinguisherBayState(**self._base(), asset_id=asset_id, present=present,
                                             pressure_ok=True, door_open=False)


class CentralRig:
    """A central processor (``all_sites``) on a database holding two sites' registers."""

    def __init__(self, sessions: sessionmaker[Session], clock: FakeClock, *,
                 all_sites: bool = True) -> None:
        self.sessions, self.clock = sessions, clock
        self.metrics = Metrics()
        self.notifier = RecordingNotifier()
        self.book = AlertBook(
            config=alerts_config_from_mapping(ALERTS, env={"DUTY_URL": "json://127.0.0.1:9/d"},
                                              timezone="Asia/Shanghai"),
            site=SiteInfo(id="site-01", name_zh="劳动路社区服务站", name_en="Laodong Road"),
            timezone="Asia/Shanghai", public_url="http://sp.test", metrics=self.metrics)
        self.processor = Processor(
            site_id="site-01",
            rules=load_rules_config(CONFIG / "rules.toml", timezone="Asia/Shanghai"),
            alerts=self.book,
            metrics=self.metrics, evidence_interval_s=600, auto_resolve=["low_level"],
            node_report_interval_s=60, clock=clock, all_sites=all_sites)
        self.site1 = SiteNode(clock, site_id="site-01", node_id="pump-room-01")
        self.site2 = SiteNode(clock, site_id="site-02", node_id="pump-room-02")

    def feed(self, *messages: contract.Message) -> int:
        with self.sessions() as db:
            return self.processor.process(
                db, [Inbound(m, contract.topic_for(m, prefix="servicepoint"), self.clock())
                     for m in messages])

    def tick(self) -> None:
        with self.sessions() as db:
            self.processor.tick(db)


@pytest.fixture
def central(db_url: str) -> Iterator[CentralRig]:  # noqa: F811
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    add_site_02(sessions, people=False)
    clock = FakeClock(now=datetime.fromisoformat("2026-11-25T10:00:00+08:00"))
    yield CentralRig(sessions, clock)
    engine.dispose()
