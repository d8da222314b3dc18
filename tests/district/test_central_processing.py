"""A district's central server takes every site's readings (``ingest.all_sites``): rule state,
tickets and alerts follow the site each message comes from; one site's server is unchanged."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from server.alerts.rows import AlertRow as Alert
from server.db import make_engine, session_factory
from server.models import Ticket
from server.sensing.ingest import Ingest
from server.sensing.models import ExtinguisherBay, ReadingRow, RuleStateRow
from server.settings import load_server_settings
from tests.district.conftest import CONFIG, CentralRig


def _tickets(rig: CentralRig, condition: str) -> list[Ticket]:
    with rig.sessions() as db:
        return list(db.scalars(select(Ticket).where(Ticket.condition == condition)))


def test_each_sites_conditions_raise_tickets_and_alerts_of_that_site(central: CentralRig
                                                                     ) -> None:
    central.feed(central.site1.tank("tank-1", 60.0), central.site2.tank("s02-tank-1", 10.0),
                 central.site2.bay("s02-ext-1", present=False))
    central.clock.advance(minutes=15)  # past the shipped raise durations (2 and 10 minutes)
    central.feed(central.site1.tank("tank-1", 61.0), central.site2.tank("s02-tank-1", 9.0),
                 central.site2.bay("s02-ext-1", present=False))
    central.tick()

    low, missing = _tickets(central, "low_level"), _tickets(central, "missing")
    assert [(t.site_id, t.asset_id) for t in low] == [("site-02", "s02-tank-1")]
    assert [(t.site_id, t.asset_id, t.priority) for t in missing] == [
        ("site-02", "s02-ext-1", "urgent")]
    with central.sessions() as db:
        alerts = db.scalars(select(Alert)).all()
        assert {(a.site_id, a.condition) for a in alerts} == {("site-02", "low_level"),
                                                              ("site-02", "missing")}
        # The rule engine keeps each site's pending durations apart.
        assert set(db.scalars(select(RuleStateRow.site_id))) == {"site-01", "site-02"}
        assert {r.site_id for r in db.scalars(select(ReadingRow))} == {"site-01", "site-02"}


def test_a_condition_at_one_site_does_not_touch_the_other(central: CentralRig) -> None:
    central.feed(central.site1.bay("ext-1", present=False))
    central.clock.advance(minutes=15)
    central.feed(central.site2.bay("s02-ext-1", present=True))  # site 2 reports, all fine
    central.tick()
    assert [(t.site_id, t.asset_id) for t in _tickets(central, "missing")] == [
        ("site-01", "ext-1")]


def test_schedules_cover_every_sites_register(central: CentralRig) -> None:
    with central.sessions() as db:
        db.get(ExtinguisherBay, "s02-ext-2").last_inspected_on = date(2026, 9, 1)
        db.commit()
        central.processor.run_schedules(db)
    due = [t for t in _tickets(central, "inspection_due") if t.asset_id == "s02-ext-2"]
    assert [t.site_id for t in due] == ["site-02"]


def test_one_sites_server_still_takes_only_its_own_site(db_url: str, tmp_path: Path) -> None:
    env = {"SERVICEPOINT_DATABASE_URL": db_url, "SERVICEPOINT_DATA_DIR": str(tmp_path),
           "SERVICEPOINT_ENVIRONMENT": "test", "SERVICEPOINT_INGEST__SHARED_GROUP": "central"}
    engine = make_engine(db_url)
    try:
        single = Ingest.from_settings(load_server_settings(CONFIG / "servicepoint.toml", env=env),
                                      sessions=session_factory(engine), notifier=None)
        central = Ingest.from_settings(
            load_server_settings(CONFIG / "servicepoint.toml",
                          env={**env, "SERVICEPOINT_INGEST__ALL_SITES": "true"}),
            sessions=session_factory(engine), notifier=None)
    finally:
        engine.dispose()
    assert single.topic_filter == "$share/central/servicepoint/site-01/+/#"
    assert central.topic_filter == "$share/central/servicepoint/+/+/#"
    # Alerts the servers publish come back on the subscription; neither takes them for a node.
    assert single._is_alert_topic("servicepoint/site-01/alerts/7")
    assert not single._is_alert_topic("servicepoint/site-01/pump-room/state/tank-1")
    assert central._is_alert_topic("servicepoint/site-02/alerts/7")
    assert not central._is_alert_topic("servicepoint/site-02/alerts-node/health")
