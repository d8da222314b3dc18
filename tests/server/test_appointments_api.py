"""Appointments over the wire, as the kiosk uses them: the slots of a service by appointment,
filing with a slot, the errors when the slot is missing, wrong or full, the time on the status
JSON, and the place given back when the resident cancels (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta
from typing import Any

from fastapi.testclient import TestClient

from server.appointments.models import AppointmentSlot
from server.appointments.service import publish_slots
from server.models import Category, User
from tests.server.conftest import FakeClock

BODY = {"category": "haircut", "unit_code": "C01-B01-U1", "answers": {"when": "any"},
        "contact_name": "王阿姨",
        "contact_phone": "13800001234", "channel": "kiosk"}


def by_appointment(app: Any, code: str = "haircut") -> None:
    with app.state.sessions() as db:
        db.get(Category, code).by_appointment = True
        db.commit()


def publish(app: Any, clock: FakeClock, *, days: int = 1, hour: int = 9, capacity: int = 2,
            weeks: int = 1, code: str = "haircut") -> list[int]:
    """Slots ``days`` from the clock's date at ``hour`` (Changsha), as the leader publishes."""
    with app.state.sessions() as db:
        leader = db.query(User).filter_by(username="leader1").one()
        day: date = (clock.now + timedelta(days=days)).date()
        slots = publish_slots(db, category_code=code, day=day, start=time(hour),
                              end=time(hour + 2), capacity=capacity, weeks=weeks, user=leader,
                              now=clock.now, timezone="Asia/Shanghai")
        return [s.id for s in slots]


def file(client: TestClient, **overrides: object) -> Any:
    body = {**BODY, "client_id": uuid.uuid4().hex, **overrides}
    return client.post("/api/v1/requests", json=body)


def test_the_kiosk_lists_the_slots_of_a_service_by_appointment(app, client: TestClient,
                                                               clock: FakeClock) -> None:
    assert file(client).status_code == 201  # not by appointment yet: no slot needed
    by_appointment(app)
    later, sooner = publish(app, clock, days=3), publish(app, clock, days=1)
    publish(app, clock, days=20)  # beyond the 14 days residents see
    categories = {c["code"]: c for c in client.get("/api/v1/categories").json()["categories"]}
    assert categories["haircut"]["by_appointment"] is True
    assert categories["water_electric"]["by_appointment"] is False

    slots = client.get("/api/v1/slots", params={"category": "haircut"}).json()["slots"]
    assert [s["id"] for s in slots] == sooner + later
    first = slots[0]
    assert first["capacity"] == 2 and first["remaining"] == 2
    assert first["starts_at"].endswith(("Z", "+00:00"))
    assert first["starts_at"][11:16] == "01:00"  # 09:00 in Changsha

    assert client.get("/api/v1/slots", params={"category": "water_electric"}).json() == {
        "slots": []}
    missing = client.get("/api/v1/slots", params={"category": "nope"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_filing_books_a_place_and_the_status_shows_the_time(app, client: TestClient,
                                                             clock: FakeClock) -> None:
    by_appointment(app)
    [slot] = publish(app, clock, capacity=1)
    other = publish(app, clock, code="haircut", days=2)[0]

    refused = file(client)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "slot_required"
    wrong = file(client, category="water_electric", answers={"problem": "leak"}, slot_id=slot)
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "slot_invalid"
    assert file(client, slot_id=999999).json()["error"]["code"] == "slot_invalid"

    client_id = uuid.uuid4().hex
    filed = file(client, client_id=client_id, slot_id=slot)
    assert filed.status_code == 201, filed.text
    ticket = filed.json()
    assert ticket["appointment_at"].startswith((clock.now + timedelta(days=1)).date().isoformat())
    # The kiosk's outbox sends it again: the same answer, and still one place taken.
    again = file(client, client_id=client_id, slot_id=slot)
    assert again.status_code == 200 and again.json()["number"] == ticket["number"]
    slots = client.get("/api/v1/slots", params={"category": "haircut"}).json()["slots"]
    assert {s["id"]: s["remaining"] for s in slots} == {slot: 0, other: 2}

    full = file(client, slot_id=slot)
    assert full.status_code == 409 and full.json()["error"]["code"] == "slot_full"
    tracked = client.get(f"/api/v1/track/{ticket['phone_token']}").json()
    assert tracked["appointment_at"] == ticket["appointment_at"]

    # The resident cancels from the phone: the place is free for the next one.
    client.post(f"/api/v1/track/{ticket['phone_token']}/cancel", json={})
    slots = client.get("/api/v1/slots", params={"category": "haircut"}).json()["slots"]
    assert slots[0]["remaining"] == 1
    assert file(client, slot_id=slot).status_code == 201


def test_a_slot_that_started_or_was_cancelled_cannot_be_booked(app, client: TestClient,
                                                                clock: FakeClock) -> None:
    by_appointment(app)
    [slot] = publish(app, clock)
    clock.advance(days=2)
    late = file(client, slot_id=slot)
    assert late.status_code == 422 and late.json()["error"]["code"] == "slot_invalid"
    assert client.get("/api/v1/slots", params={"category": "haircut"}).json()["slots"] == []
    with app.state.sessions() as db:
        assert db.get(AppointmentSlot, slot).taken == 0
