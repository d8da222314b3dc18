"""A resident's report about the tank water or a shared facility reaches the asset it concerns:
the tank's maintenance ticket history, and the duty staff as a water-quality alert, through the
running server's notice loop and the notifier seam (not an electrician's channel). The request
itself keeps its number and its status page."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.alerts import RecordingNotifier
from server.alerts.rows import AlertRow
from server.app import create_app
from server.facilities import concern_of
from server.models import Ticket, TicketEvent
from server.resident_reports import FacilityReport
from server.settings import ServerSettings
from tests.server.conftest import FakeClock, sign_in
from tests.server.conftest import file_request as file
from tests.support.waiting import wait_for

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def live(settings: ServerSettings, clock: FakeClock, notifier: RecordingNotifier,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The server with its notice loop delivering through the recording notifier; the duty
    staff's WeCom channel is configured (config/alerts.toml), the squads' are not."""
    monkeypatch.setenv("SERVICEPOINT_ALERT_DUTY_WECOM_URL", "wecombot://dutykey")
    for unset in ("SERVICEPOINT_NOTIFY_SQUAD1_URL", "SERVICEPOINT_NOTIFY_SQUAD2_URL",
                  "SERVICEPOINT_NOTIFY_V01_URL", "SERVICEPOINT_ALERT_HEAD_DINGTALK_URL"):
        monkeypatch.delenv(unset, raising=False)
    app: FastAPI = create_app(settings, clock=clock, background=False, notifier=notifier)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def report(client: TestClient, symptom: str, *, unit: str = "C01-B01-U1",
           category: str = "tank_water", question: str = "symptom",
           client_id: str | None = None) -> dict[str, Any]:
    return file(client, category=category, unit_code=unit, answers={question: symptom},
                client_id=client_id or uuid.uuid4().hex, contact_phone=None)


def maintenance_tickets(app: FastAPI, asset_id: str) -> list[Ticket]:
    with app.state.sessions() as db:
        tickets = list(db.scalars(select(Ticket).where(Ticket.asset_id == asset_id,
                                                       Ticket.kind == "maintenance")))
        for ticket in tickets:
            _ = [e.note for e in ticket.events]
        return tickets


def test_a_tank_odour_report_lands_on_the_tanks_ticket_and_alerts_the_duty_staff(
        live: TestClient, notifier: RecordingNotifier) -> None:
    filed = report(live, "smell")
    app: FastAPI = live.app  # type: ignore[assignment]

    (ticket,) = maintenance_tickets(app, "tank-1")
    assert ticket.number.startswith("M") and ticket.category_code == "tank_cleaning"
    assert ticket.priority == "urgent"
    (event,) = ticket.events
    assert event.action == "resident_report"
    assert "1号二次供水蓄水池的水有异味" in event.note and filed["number"] in event.note

    def duty_heard() -> list[Any]:
        return [(m, r) for m, r in notifier.sent if r.key == "duty/wecom"
                and "水有异味" in m.body]
    (sent, recipient) = wait_for(duty_heard)[0]
    assert "居民报告：1号二次供水蓄水池的水有异味" in sent.title
    assert "Resident reports odour in the water" in sent.title
    assert f"/staff/tickets/{ticket.id}" in sent.body
    # Only the duty staff hear the concern: no volunteer's or squad's channel got it.
    assert {r.key for m, r in notifier.sent if "水有异味" in m.body} == {"duty/wecom"}

    # The resident still has a request with a number and a status page.
    status = live.get(f"/api/v1/track/{filed['phone_token']}")
    assert status.status_code == 200 and status.json()["number"] == filed["number"]


def test_the_staff_ticket_page_of_the_tank_shows_the_report(live: TestClient) -> None:
    from tests.web.conftest import web_sign_in

    filed = report(live, "yellow")
    app: FastAPI = live.app  # type: ignore[assignment]
    (ticket,) = maintenance_tickets(app, "tank-1")
    web_sign_in(live, "staff")
    page = live.get(f"/staff/tickets/{ticket.id}")
    assert page.status_code == 200
    assert "居民报告" in page.text and "1号二次供水蓄水池的水发黄" in page.text
    assert filed["number"] in page.text


def test_a_second_report_and_a_retry_add_to_the_same_ticket(live: TestClient) -> None:
    first = uuid.uuid4().hex
    report(live, "smell", client_id=first)
    report(live, "smell", client_id=first)  # the kiosk's outbox delivering it again
    report(live, "yellow", unit="C01-B01-U2")
    app: FastAPI = live.app  # type: ignore[assignment]
    (ticket,) = maintenance_tickets(app, "tank-1")
    assert [e.action for e in ticket.events] == ["resident_report", "resident_report"]
    with app.state.sessions() as db:
        assert len(db.scalars(select(FacilityReport)).all()) == 2


def test_an_open_sensor_ticket_of_the_tank_gets_the_report(live: TestClient,
                                                           clock: FakeClock) -> None:
    app: FastAPI = live.app  # type: ignore[assignment]
    with app.state.sessions() as db:
        sensor = Ticket(number="M900001", kind="maintenance", category_code="tank_cleaning",
                        title="浊度过高 · tank-1", status="new", priority="high",
                        asset_id="tank-1", condition="turbidity_high",
                        open_key="tank-1|turbidity_high",
                        created_at=clock.now - timedelta(hours=2),
                        updated_at=clock.now - timedelta(hours=2))
        db.add(sensor)
        db.commit()
    report(live, "smell")
    (ticket,) = maintenance_tickets(app, "tank-1")
    assert ticket.number == "M900001"
    assert [e.action for e in ticket.events] == ["resident_report"]


def test_a_building_without_a_tank_reports_to_its_compounds_tank(live: TestClient) -> None:
    report(live, "no_water", unit="C01-B02-U1")
    app: FastAPI = live.app  # type: ignore[assignment]
    (ticket,) = maintenance_tickets(app, "tank-1")
    assert ticket.category_code == "water_supply"
    assert "停水" in ticket.events[0].note


def test_a_hydrant_report_goes_to_the_buildings_fire_safety_bay(live: TestClient) -> None:
    report(live, "hydrant", category="shared_facility", question="facility")
    app: FastAPI = live.app  # type: ignore[assignment]
    (ticket,) = maintenance_tickets(app, "ext-1")
    assert ticket.category_code == "fire_safety" and ticket.condition == "resident_fire_safety"


def test_a_stairwell_light_is_a_repair_at_the_unit_with_no_staff_alert(
        live: TestClient) -> None:
    filed = report(live, "stair_light", category="shared_facility", question="facility")
    app: FastAPI = live.app  # type: ignore[assignment]
    with app.state.sessions() as db:
        (link,) = db.scalars(select(FacilityReport)).all()
        assert (link.asset_kind, link.asset_id, link.maintenance_ticket_id) == (
            "stairwell", "C01-B01-U1", None)
        assert db.scalars(select(AlertRow).where(AlertRow.kind == "raised")).all() == []
        assert db.scalar(select(Ticket.kind).where(Ticket.number == filed["number"])) \
            == "request"


def test_the_water_report_is_proposed_to_the_tank_crew_not_the_electricians(
        live: TestClient) -> None:
    filed = report(live, "smell")
    app: FastAPI = live.app  # type: ignore[assignment]
    with app.state.sessions() as db:
        request_id = db.scalar(select(Ticket.id).where(Ticket.number == filed["number"]))
    reply = live.get(f"/api/v1/tickets/{request_id}/proposals",
                     headers=sign_in(live, "staff"))
    assert reply.status_code == 200, reply.text
    names = {p["given_name"] for p in reply.json()["proposals"]}
    assert "海军" in names  # tank_cleaning
    assert not names & {"建国", "国庆", "卫东"}  # water_electric only


def test_the_pure_map_knows_every_kiosk_answer() -> None:
    assert concern_of("tank_water", {"symptom": "smell"}) is not None
    assert concern_of("water_electric", {"problem": "leak"}) is None
    assert concern_of("tank_water", {"symptom": "nonsense"}) is None


def test_history_rows_of_a_report_are_labelled(live: TestClient) -> None:
    report(live, "smell")
    app: FastAPI = live.app  # type: ignore[assignment]
    with app.state.sessions() as db:
        actions = set(db.scalars(select(TicketEvent.action)))
    assert "resident_report" in actions


def test_the_tank_page_shows_what_residents_reported_beside_the_readings(
        live: TestClient) -> None:
    from tests.web.conftest import web_sign_in

    filed = report(live, "smell")
    web_sign_in(live, "staff")
    page = live.get("/staff/site/tanks/tank-1")
    assert page.status_code == 200
    assert "居民反映（近 30 天）" in page.text and "水有异味" in page.text
    assert filed["number"] in page.text
    quiet = live.get("/staff/site/tanks/tank-1?lang=en")
    assert quiet.status_code == 200


def test_a_water_report_phoned_in_to_staff_reaches_the_tank_too(live: TestClient) -> None:
    """代办: staff filing for a resident who phoned about the water take the same road."""
    import re

    from tests.web.conftest import cookie_sign_in, csrf_of

    cookie_sign_in(live, "staff")
    page = live.get("/staff/new?building=C01-B01&category=tank_water")
    assert page.status_code == 200, page.text
    form_id = re.search(r'name="form_id" value="([A-Za-z0-9_-]+)"', page.text)
    assert form_id
    reply = live.post("/staff/new", follow_redirects=False, data={
        "csrf_token": csrf_of(page.text), "form_id": form_id.group(1),
        "category": "tank_water", "building": "C01-B01", "unit": "unknown",
        "q_symptom": "yellow", "whose": "mine", "contact_name": "李奶奶",
        "contact_phone": "13700001111", "description": "电话反映：水发黄"})
    assert reply.status_code == 303, reply.text
    app: FastAPI = live.app  # type: ignore[assignment]
    (ticket,) = maintenance_tickets(app, "tank-1")
    assert "1号二次供水蓄水池的水发黄" in ticket.events[0].note


def test_a_water_report_from_the_city_platform_reaches_the_tank_too(live: TestClient,
                                                                    clock: FakeClock) -> None:
    """Open311: a city platform's report of a hydrant takes the same road."""
    from server.open311.service import issue_key

    app: FastAPI = live.app  # type: ignore[assignment]
    with app.state.sessions() as db:
        key = issue_key(db, name="city-platform", now=clock())
    reply = live.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "shared_facility", "address_id": "C01-B01",
        "attribute[facility]": "hydrant"})
    assert reply.status_code == 201, reply.text
    (ticket,) = maintenance_tickets(app, "ext-1")
    assert ticket.condition == "resident_fire_safety"
