"""Reminders of a visit by appointment, driven by moving the clock: the volunteer and the resident
(by SMS, where configured) hear the evening before at 18:00 and an hour before, each once, even
after a restart; a booking made after 18:00 the day before is reminded at once; when staff cancel
the slot, the same people are told; at a district centre, each through its own site's book.
Through the real notice courier and alert outbox, with the notifier seam's recording fake."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.alerts.notifier import RecordingNotifier
from server.alerts.rows import AlertRow
from server.app import create_app
from server.appointments.rules import Reminder, reminders_due
from server.appointments.service import cancel_slot, publish_slots
from server.models import Building, Category, Compound, Ticket, Unit, User
from server.settings import ServerSettings
from server.sites.models import Site
from tests.server.conftest import FakeClock, sign_in

pytestmark = pytest.mark.timeout(120)

V01, SMS = "json://localhost/v01", "json://localhost/sms?to={phone}"
# Wednesday 25 November 2026, 17:00 in Changsha.
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(now=START)


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def live(settings: ServerSettings, clock: FakeClock, notifier: RecordingNotifier,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("SERVICEPOINT_NOTIFY_V01_URL", V01)
    monkeypatch.setenv("SERVICEPOINT_NOTIFY_RESIDENT_SMS_URL", SMS)
    app = create_app(settings, clock=clock, background=False, notifier=notifier)
    with TestClient(app) as client:
        # Rounds are driven here, one at a time, after each move of the clock.
        app.state.courier.stop()
        with app.state.sessions() as db:
            db.get(Category, "water_electric").by_appointment = True
            db.commit()
        yield client
    app.state.engine.dispose()


def _publish(client: TestClient, clock: FakeClock, *, days: int, hour: int) -> int:
    app: Any = client.app
    with app.state.sessions() as db:
        leader = db.query(User).filter_by(username="leader1").one()
        day = (clock.now + timedelta(hours=8, days=days)).date()
        return publish_slots(db, category_code="water_electric", day=day, start=time(hour),
                             end=time(hour + 1), capacity=3, weeks=1, user=leader,
                             now=clock.now, timezone="Asia/Shanghai")[0].id


def _book_and_dispatch(client: TestClient, slot_id: int, *, dispatch: bool = True) -> str:
    reply = client.post("/api/v1/requests", json={
        "client_id": uuid.uuid4().hex, "category": "water_electric", "unit_code": "C01-B01-U1",
        "answers": {"problem": "leak"}, "contact_name": "王阿姨",
        "contact_phone": "13800001234", "channel": "kiosk", "slot_id": slot_id})
    assert reply.status_code == 201, reply.text
    number = str(reply.json()["number"])
    if dispatch:
        staff = sign_in(client, "staff")
        tickets = client.get("/api/v1/tickets", headers=staff,
                             params={"kind": "request"}).json()["tickets"]
        tid = next(t["id"] for t in tickets if t["number"] == number)
        proposals = client.get(f"/api/v1/tickets/{tid}/proposals", headers=staff).json()
        vid = next(p["volunteer_id"] for p in proposals["proposals"] if p["given_name"] == "建国")
        assert client.post(f"/api/v1/tickets/{tid}/dispatch", headers=staff,
                           json={"volunteer_id": vid}).status_code == 200
    return number


def _told(notifier: RecordingNotifier, number: str, kind: str) -> list[tuple[str, str]]:
    """(recipient url, title) of the appointment notices about ``number`` sent so far."""
    return [(r.url, a.title) for a, r in list(notifier.sent)
            if a.kind.value == kind and number in a.title]


def _round(client: TestClient) -> None:
    client.app.state.courier.run_once()  # type: ignore[attr-defined]


def test_reminders_the_evening_before_and_an_hour_before_each_once(
        live: TestClient, clock: FakeClock, notifier: RecordingNotifier,
        settings: ServerSettings) -> None:
    slot = _publish(live, clock, days=1, hour=10)  # Thursday 10:00 in Changsha
    number = _book_and_dispatch(live, slot)
    _round(live)
    assert _told(notifier, number, "appointment") == []  # 17:00: not yet

    clock.now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 18:00 the evening before
    _round(live)
    told = _told(notifier, number, "appointment")
    assert sorted(url for url, _ in told) == sorted([V01, SMS.replace("{phone}", "13800001234")])
    assert all("明天 10:00" in title for _, title in told)
    _round(live)
    _round(live)
    assert len(_told(notifier, number, "appointment")) == 2  # once, not every round

    # The server restarts: the reminders sent are in the database, not in memory.
    again = RecordingNotifier()
    restarted = create_app(settings, clock=clock, background=False, notifier=again)
    with TestClient(restarted) as client:
        restarted.state.courier.stop()
        _round(client)
        assert _told(again, number, "appointment") == []
        clock.now = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 09:00, an hour before
        _round(client)
        hour = _told(again, number, "appointment")
        assert len(hour) == 2
        assert all("一小时后" in title for _, title in hour), hour
        clock.now = datetime(2026, 11, 26, 1, 30, tzinfo=UTC)
        _round(client)
        assert len(_told(again, number, "appointment")) == 2
    restarted.state.engine.dispose()


def test_booked_after_the_evening_it_is_reminded_at_once_and_the_leader_if_nobody_has_it(
        live: TestClient, clock: FakeClock, notifier: RecordingNotifier) -> None:
    clock.now = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)  # 21:00
    slot = _publish(live, clock, days=1, hour=9)
    number = _book_and_dispatch(live, slot, dispatch=False)
    _round(live)
    told = _told(notifier, number, "appointment")
    # Nobody has the job yet: squad 1's leaders hear it (their group chat has no URL set here,
    # so the duty staff stand in), so someone dispatches it in time.
    assert told and all("明天 09:00" in title for _, title in told)


def test_cancelling_the_slot_tells_the_resident_and_the_volunteer(
        live: TestClient, clock: FakeClock, notifier: RecordingNotifier) -> None:
    slot = _publish(live, clock, days=3, hour=15)
    number = _book_and_dispatch(live, slot)
    app: Any = live.app
    with app.state.sessions() as db:
        staff = db.query(User).filter_by(username="staff").one()
        cancel_slot(db, slot_id=slot, user=staff, now=clock.now)
    _round(live)
    told = _told(notifier, number, "appt_cancelled")
    assert sorted(url for url, _ in told) == sorted([V01, SMS.replace("{phone}", "13800001234")])
    _round(live)
    assert len(_told(notifier, number, "appt_cancelled")) == 2
    assert _told(notifier, number, "appointment") == []  # a cancelled visit is not reminded


def test_when_each_reminder_is_due() -> None:
    zone_day = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Changsha
    booked = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)

    def due(now: datetime, sent: frozenset[str] = frozenset(),
            at: datetime = booked) -> list[Reminder]:
        return reminders_due(starts_at=zone_day, booked_at=at, now=now,
                             timezone="Asia/Shanghai", sent=sent)

    assert due(datetime(2026, 12, 7, 9, 59, tzinfo=UTC)) == []  # 17:59 the day before
    assert due(datetime(2026, 12, 7, 10, 0, tzinfo=UTC)) == [Reminder.DAY_BEFORE]
    assert due(datetime(2026, 12, 7, 10, 0, tzinfo=UTC), frozenset({"day_before"})) == []
    assert due(datetime(2026, 12, 8, 0, 0, tzinfo=UTC),
               frozenset({"day_before"})) == [Reminder.HOUR_BEFORE]
    assert due(datetime(2026, 12, 8, 1, 0, tzinfo=UTC)) == []  # started: too late to help
    late = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # booked at 22:00 the evening before
    assert due(late, at=late) == [Reminder.DAY_BEFORE]
    # Booked 40 minutes ahead: only the hour's reminder, which says more.
    assert due(datetime(2026, 12, 8, 0, 20, tzinfo=UTC),
               at=datetime(2026, 12, 8, 0, 20, tzinfo=UTC)) == [Reminder.HOUR_BEFORE]


def test_a_district_centre_reminds_through_the_bookings_own_sites_book(
        live: TestClient, clock: FakeClock, notifier: RecordingNotifier) -> None:
    """Two sites on one centre: site B's visit is told with site B's id on its alert rows
    (site B's recipients, its staff's dashboard), though the courier holds the home site's
    book; site A's visit keeps site A's."""
    app: Any = live.app
    with app.state.sessions() as db:
        db.add(Site(id="site-02", name_zh="二号服务站", name_en="Site Two"))
        db.flush()
        compound = Compound(code="S2-C01", name_zh="二号小区", site_id="site-02")
        building = Building(code="S2-B01", name="1栋", compound=compound)
        db.add_all([compound, building, Unit(code="S2-B01-U1", name="1单元", building=building)])
        leader = db.query(User).filter_by(username="leader1").one()
        day = (clock.now + timedelta(hours=8, days=1)).date()
        theirs = publish_slots(db, category_code="water_electric", day=day, start=time(10),
                               end=time(11), capacity=3, weeks=1, user=leader, now=clock.now,
                               timezone="Asia/Shanghai", site_id="site-02")[0].id
    ours = _publish(live, clock, days=1, hour=10)
    site_a = _book_and_dispatch(live, ours, dispatch=False)
    reply = live.post("/api/v1/requests", json={
        "client_id": uuid.uuid4().hex, "category": "water_electric", "unit_code": "S2-B01-U1",
        "answers": {"problem": "leak"}, "contact_name": "刘奶奶",
        "contact_phone": "13800007777", "channel": "phone", "slot_id": theirs})
    assert reply.status_code == 201, reply.text
    site_b = reply.json()["number"]

    clock.now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 18:00 the evening before
    _round(live)
    assert _told(notifier, site_b, "appointment")  # the resident's SMS, at least
    with app.state.sessions() as db:
        def sites_told(number: str) -> set[str]:
            ticket = db.query(Ticket).filter_by(number=number).one()
            return {row.site_id for row in db.query(AlertRow).filter_by(
                ticket_id=ticket.id, kind="appointment")}

        assert sites_told(site_b) == {"site-02"}
        assert sites_told(site_a) == {"site-01"}
