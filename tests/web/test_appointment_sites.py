"""Appointments' loose ends (issue 20): 证件预约上门办理 is by appointment as shipped; 查进度 (the
API the kiosk asks and the phone's /lookup) shows the booked time; at a district centre the
phone form opened from a building's poster offers that building's site's times only and
refuses another site's, and a kiosk's key lists its own site's slots; a request reopened after
its visit was called off re-takes its place when one is free, or tells staff to book again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.appointments.booking import booking_of, release_place
from server.appointments.models import AppointmentSlot
from server.appointments.service import publish_slots
from server.lifecycle import Action
from server.models import Building, Compound, Ticket, Unit, User
from server.services.sites import new_kiosk_key
from server.services.tickets import staff_action
from server.sites.models import Site
from tests.web.conftest import api_headers, cookie_sign_in, csrf_of

SERVICE = "certificates"  # 证件预约上门办理: by appointment in config/categories.toml
ANSWERS = {"document": "senior_card"}


def _publish(app: Any, clock: Any, *, site_id: str, days: int = 1, hour: int = 9,
             capacity: int = 2) -> int:
    with app.state.sessions() as db:
        staff = db.query(User).filter_by(username="staff").one()
        day = (clock() + timedelta(hours=8, days=days)).date()  # Changsha's date
        return publish_slots(db, category_code=SERVICE, day=day, start=time(hour),
                             end=time(hour + 1), capacity=capacity, weeks=1, user=staff,
                             now=clock(), timezone="Asia/Shanghai", site_id=site_id)[0].id


def _file(client: TestClient, *, slot_id: int | None, unit: str = "C01-B01-U1",
          phone: str = "13800005678", headers: dict[str, str] | None = None) -> Any:
    body: dict[str, Any] = {"client_id": uuid.uuid4().hex, "category": SERVICE,
                            "unit_code": unit, "answers": ANSWERS, "contact_name": "刘奶奶",
                            "contact_phone": phone, "channel": "kiosk"}
    if slot_id is not None:
        body["slot_id"] = slot_id
    return client.post("/api/v1/requests", json=body, headers=headers or {})


@pytest.fixture
def site_two(client: TestClient) -> Iterator[str]:
    """A second site on the same centre, with one building, and its kiosk's key."""
    app: Any = client.app
    with app.state.sessions() as db:
        db.add(Site(id="site-02", name_zh="二号服务站", name_en="Site Two"))
        db.flush()
        compound = Compound(code="S2-C01", name_zh="二号小区", site_id="site-02")
        building = Building(code="S2-B01", name="1栋", compound=compound)
        db.add_all([compound, building, Unit(code="S2-B01-U1", name="1单元", building=building)])
        key = new_kiosk_key(db, site=db.get(Site, "site-02"),  # type: ignore[arg-type]
                            now=app.state.clock())
        db.commit()
    yield key


def test_the_shipped_certificates_service_is_by_appointment(client: TestClient) -> None:
    categories = {c["code"]: c for c in client.get("/api/v1/categories").json()["categories"]}
    assert categories[SERVICE]["by_appointment"] is True
    assert categories["water_electric"]["by_appointment"] is False
    assert _file(client, slot_id=None).json()["error"]["code"] == "slot_required"


def test_looking_a_booked_request_up_shows_its_time(app, client: TestClient, clock) -> None:  # type: ignore[no-untyped-def]
    slot = _publish(app, clock, site_id="site-01", days=2, hour=9)
    filed = _file(client, slot_id=slot)
    assert filed.status_code == 201, filed.text
    number = filed.json()["number"]

    found = client.post("/api/v1/requests/lookup",
                        json={"number": number, "phone_last4": "5678"}).json()
    assert found["appointment_at"] == filed.json()["appointment_at"]
    assert found["appointment_at"][11:16] == "01:00"  # 09:00 in Changsha
    plain = client.post("/api/v1/requests", json={
        "client_id": uuid.uuid4().hex, "category": "water_electric", "unit_code": "C01-B01-U1",
        "answers": {"problem": "leak"}, "contact_phone": "13800004321", "channel": "kiosk"})
    assert client.post("/api/v1/requests/lookup", json={
        "number": plain.json()["number"], "phone_last4": "4321"}).json()["appointment_at"] is None

    # The phone's 查进度 lands on the status page, with the time in big type.
    page = client.get("/lookup")
    reply = client.post("/lookup", data={"csrf_token": csrf_of(page.text), "number": number,
                                         "phone_last4": "5678"})
    assert reply.status_code == 200 and "/r/" in str(reply.url)
    local = clock() + timedelta(hours=8, days=2)
    assert "预约上门时间" in reply.text
    assert f'{local:%m-%d}' in reply.text and "09:00" in reply.text


def _slot_values(html: str) -> set[int]:
    import re

    return {int(v) for v in re.findall(r'name="slot" value="(\d+)"', html)}


def test_the_poster_form_offers_its_buildings_sites_times_only(app, client: TestClient,  # type: ignore[no-untyped-def]
                                                               clock, site_two: str) -> None:
    ours = _publish(app, clock, site_id="site-01")
    theirs = _publish(app, clock, site_id="site-02", hour=14)
    there = client.get("/new", params={"building": "S2-B01", "category": SERVICE})
    assert _slot_values(there.text) == {theirs}
    here = client.get("/new", params={"building": "C01-B01", "category": SERVICE})
    assert _slot_values(here.text) == {ours}

    # Site A's time sent with site B's building (an old page, a hand-made post): refused
    # beside the time step, what was typed kept, no place taken anywhere.
    form = {"csrf_token": csrf_of(there.text), "form_id": _form_id(there.text),
            "category": SERVICE, "building": "S2-B01", "unit": "S2-B01-U1", "room": "301",
            "q_document": "senior_card", "whose": "mine", "contact_name": "刘奶奶",
            "contact_phone": "13800005678", "slot": str(ours)}
    refused = client.post("/new", data=form, follow_redirects=False)
    assert refused.status_code == 422, refused.text
    assert 'id="slot-error"' in refused.text and 'value="301"' in refused.text
    with app.state.sessions() as db:
        assert db.get(AppointmentSlot, ours).taken == 0
    booked = client.post("/new", data={**form, "slot": str(theirs)}, follow_redirects=False)
    assert booked.status_code == 303, booked.text
    with app.state.sessions() as db:
        assert db.get(AppointmentSlot, theirs).taken == 1


def _form_id(html: str) -> str:
    import re

    found = re.search(r'name="form_id" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_a_kiosk_lists_and_books_its_own_sites_slots(app, client: TestClient, clock,  # type: ignore[no-untyped-def]
                                                     site_two: str) -> None:
    ours = _publish(app, clock, site_id="site-01")
    theirs = _publish(app, clock, site_id="site-02", hour=14)
    home_key = app.state.settings.security.kiosk_key

    def listed(key: str) -> list[int]:
        reply = client.get("/api/v1/slots", params={"category": SERVICE},
                           headers={"X-Kiosk-Key": key})
        assert reply.status_code == 200, reply.text
        return [s["id"] for s in reply.json()["slots"]]

    assert listed(site_two) == [theirs]
    assert listed(home_key) == [ours]
    # Site B's kiosk cannot book site A's time, even for a site A unit it was told of.
    wrong = _file(client, slot_id=ours, unit="S2-B01-U1", headers={"X-Kiosk-Key": site_two})
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "slot_invalid"
    right = _file(client, slot_id=theirs, unit="S2-B01-U1", headers={"X-Kiosk-Key": site_two})
    assert right.status_code == 201, right.text
    with app.state.sessions() as db:
        ticket = db.query(Ticket).filter_by(number=right.json()["number"]).one()
        booking = booking_of(db, ticket_id=ticket.id)
        assert booking is not None and booking.site_id == "site-02"


def _given_up_after_resolving(app: Any, number: str) -> int:
    """The request resolved, then its place given back: the state a reopen finds. (No route
    gives a place back without cancelling its request today; this is the guard for when one
    does, or for a booking brought in by a district import.)"""
    with app.state.sessions() as db:
        ticket = db.query(Ticket).filter_by(number=number).one()
        staff = db.query(User).filter_by(username="staff").one()
        staff_action(db, ticket=ticket, user=staff, action=Action.RESOLVE, now=app.state.clock())
        release_place(db, ticket=ticket, now=app.state.clock())
        db.commit()
        return ticket.id


def test_a_reopened_request_takes_its_place_back_or_staff_are_asked_to_book_again(  # type: ignore[no-untyped-def]
        app, client: TestClient, clock) -> None:
    slot = _publish(app, clock, site_id="site-01", capacity=1)
    first = _file(client, slot_id=slot).json()["number"]
    ticket_id = _given_up_after_resolving(app, first)
    staff = api_headers(client, "staff")
    assert client.post(f"/api/v1/tickets/{ticket_id}/reopen", headers=staff).status_code == 200
    with app.state.sessions() as db:
        assert db.get(AppointmentSlot, slot).taken == 1  # the same place, taken again
    cookie_sign_in(client, "staff")
    page = client.get(f"/staff/tickets/{ticket_id}").text
    local = clock() + timedelta(hours=8, days=1)
    assert "预约上门" in page and f"{local:%m-%d}" in page and "预约已取消" not in page

    # Meanwhile someone else took the only place: staff are told to book a time again.
    _given_up_after_resolving(app, first)
    assert _file(client, slot_id=slot, phone="13800009999").status_code == 201
    assert client.post(f"/api/v1/tickets/{ticket_id}/reopen", headers=staff).status_code == 200
    with app.state.sessions() as db:
        assert db.get(AppointmentSlot, slot).taken == 1  # never over its capacity
    assert "预约已取消，请重新约时间" in client.get(f"/staff/tickets/{ticket_id}").text
    assert "Appointment cancelled: book a new time" in client.get(
        f"/staff/tickets/{ticket_id}?lang=en").text
