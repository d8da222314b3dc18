"""A district centre's notice desk tells each site's requests as that site (issue 19): the
words, the outbox key and the alert row carry the request's own site, its squad-less requests
reach its own duty staff, and its unaccepted requests climb its own ladder. Real SQLite, the
real notice desk, two sites as tests/server/test_sites.py builds them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.alerts.model import NoticeKind, Recipient
from server.alerts.outbox import AlertBook
from server.alerts.rows import AlertDelivery, AlertRow
from server.models import Building, Compound, Ticket, Unit
from server.services.notices import NoticeDesk
from server.services.tickets import flag_overdue
from server.sites.models import Site
from tests.server.conftest import FakeClock, file_request

# Each site's duty staff (alerts.toml's [[sites.<id>.staff]]): site-02's is its own person.
DUTY_02 = Recipient(staff_id="duty-02", name="二号站值班员", channel="wecom",
                    url="wecombot://site02dutykey")


@pytest.fixture
def two_sites(client: TestClient) -> Iterator[TestClient]:
    """The demo site (site-01) and site-02 with one compound, building and unit (no squad)."""
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        db.add(Site(id="site-02", name_zh="二号服务站", name_en="Site Two"))
        db.flush()  # no relationship tells the flush that sites go first
        compound = Compound(code="S2-C01", name_zh="二号小区", site_id="site-02")
        building = Building(code="S2-B01", name="1栋", compound=compound)
        db.add_all([compound, building, Unit(code="S2-B01-U1", name="1单元", building=building)])
        db.commit()
    yield client


@pytest.fixture
def desk(two_sites: TestClient, monkeypatch: pytest.MonkeyPatch) -> NoticeDesk:
    """The centre's desk: the home site's book, with site-02's duty staff in the alerts file
    (site-01's squad 1 and duty staff have their channels, as config/demo-site.toml names)."""
    monkeypatch.setenv("SERVICEPOINT_NOTIFY_SQUAD1_URL", "wecombot://squad1key")
    monkeypatch.setenv("SERVICEPOINT_ALERT_DUTY_WECOM_URL", "wecombot://dutykey")
    state = two_sites.app.state  # type: ignore[attr-defined]
    home = AlertBook.from_settings(state.settings, metrics=state.metrics)
    config = replace(home.config, sites={**home.config.sites, "site-02": (DUTY_02,)})
    book = AlertBook(config=config, site=home.site, timezone=home.timezone,
                     public_url=home.public_url, metrics=state.metrics)
    return NoticeDesk(book=book, public_url=state.settings.http.public_url)


def _told(db: Session, number: object, kind: NoticeKind) -> list[AlertRow]:
    return list(db.scalars(select(AlertRow).join(Ticket).where(
        Ticket.number == number, AlertRow.kind == kind.value).order_by(AlertRow.level)))


def _heard_by(db: Session, row: AlertRow) -> list[tuple[str, str]]:
    return [(d.staff_id, d.key) for d in db.scalars(
        select(AlertDelivery).where(AlertDelivery.alert_id == row.id))]


def test_a_site_two_request_is_told_as_site_two_to_site_two_duty_staff(
        two_sites: TestClient, desk: NoticeDesk, clock: FakeClock) -> None:
    filed = file_request(two_sites, unit_code="S2-B01-U1")
    with two_sites.app.state.sessions() as db:  # type: ignore[attr-defined]
        assert desk.read_history(db, now=clock()) >= 1
        (row,) = _told(db, filed["number"], NoticeKind.NEW_REQUEST)
        assert row.site_id == "site-02"
        assert "二号服务站" in row.body and "Site Two" in row.body
        assert "劳动" not in row.body  # not the home site's name (site-01: 劳动新村 …)
        heard = _heard_by(db, row)
        # No squad at site-02 yet: its own duty staff, with site-02's outbox key.
        assert [staff for staff, _ in heard] == ["duty-02"]
        assert all(key.startswith("site-02:") for _, key in heard)


def test_a_site_one_request_is_told_as_before(
        two_sites: TestClient, desk: NoticeDesk, clock: FakeClock) -> None:
    filed = file_request(two_sites)  # 劳动新村 1栋 1单元: site-01, squad 1
    with two_sites.app.state.sessions() as db:  # type: ignore[attr-defined]
        desk.read_history(db, now=clock())
        (row,) = _told(db, filed["number"], NoticeKind.NEW_REQUEST)
        assert row.site_id == "site-01"
        assert "二号服务站" not in row.body
        heard = _heard_by(db, row)
        assert [staff for staff, _ in heard] == ["squad:squad-1"]
        assert heard[0][1].startswith("site-01:event-")


def test_an_unaccepted_site_two_request_climbs_to_site_two_duty_staff(
        two_sites: TestClient, desk: NoticeDesk, clock: FakeClock) -> None:
    clock.now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 09:00 in Changsha: no quiet hours
    filed = file_request(two_sites, unit_code="S2-B01-U1")  # water repair: 4 hours to accept
    sessions = two_sites.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as db:
        desk.read_history(db, now=clock())
    clock.advance(hours=4, minutes=1)
    with sessions() as db:
        flag_overdue(db, now=clock())
    with sessions() as db:
        desk.read_history(db, now=clock())
        assert desk.climb_overdue(db, now=clock()) == 0  # staff_after (60 min) not yet past
    clock.advance(minutes=61)
    with sessions() as db:
        assert desk.climb_overdue(db, now=clock()) == 1
        assert desk.climb_overdue(db, now=clock()) == 0  # once per rung
        rows = _told(db, filed["number"], NoticeKind.OVERDUE)
        assert [r.level for r in rows] == [0, 1]
        climbed = rows[1]
        assert climbed.site_id == "site-02"
        heard = _heard_by(db, climbed)
        assert [staff for staff, _ in heard] == ["duty-02"]
        assert heard[0][1].startswith("site-02:ticket-")
