"""Two kiosks book the last place of a slot at the same moment: exactly one gets it, the other
is told the slot is full, and the slot never holds more than its capacity, on SQLite and on a
real PostgreSQL server. Repeated, so a check-then-act race would show."""

from __future__ import annotations

import threading
import uuid
from datetime import time, timedelta
from typing import Any

import pytest

from server.appointments.booking import SlotFull
from server.appointments.models import AppointmentSlot, Booking
from server.appointments.service import publish_slots
from server.models import Category, ServiceRequest, User
from server.services.requests import NewRequest, file_request
from tests.server.conftest import FakeClock

ROUNDS = 30


def _file(app: Any, slot_id: int, clock: FakeClock, barrier: threading.Barrier,
          outcome: dict[str, Any]) -> None:
    new = NewRequest(client_id=uuid.uuid4().hex, category="haircut", place_code="C01-B01-U1",
                     answers={"when": "any"}, contact_name="王阿姨", slot_id=slot_id)
    with app.state.sessions() as db:
        barrier.wait()
        try:
            request, _ = file_request(db, new=new, now=clock.now, site_id="site-01")
            outcome["number"] = request.ticket.number
        except SlotFull as full:
            outcome["error"] = full.code


@pytest.mark.parametrize("capacity", [1, 3])
def test_two_kiosks_race_for_the_last_place(app, clock: FakeClock, capacity: int) -> None:
    with app.state.sessions() as db:
        db.get(Category, "haircut").by_appointment = True
        db.commit()
        leader = db.query(User).filter_by(username="leader1").one()
        slot_ids = [publish_slots(
            db, category_code="haircut", day=(clock.now + timedelta(days=1 + n)).date(),
            start=time(9), end=time(10), capacity=capacity, weeks=1, user=leader,
            now=clock.now, timezone="Asia/Shanghai")[0].id for n in range(ROUNDS)]
        # All but the last place taken already.
        db.query(AppointmentSlot).update({"taken": capacity - 1})
        db.commit()
    for slot_id in slot_ids:
        barrier = threading.Barrier(2)
        outcomes: list[dict[str, Any]] = [{}, {}]
        threads = [threading.Thread(target=_file, args=(app, slot_id, clock, barrier, o))
                   for o in outcomes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted("number" in o for o in outcomes) == [False, True], outcomes
        assert [o["error"] for o in outcomes if "error" in o] == ["slot_full"]
    with app.state.sessions() as db:
        for slot_id in slot_ids:
            slot = db.get(AppointmentSlot, slot_id)
            assert slot.taken == capacity
            assert db.query(Booking).filter_by(slot_id=slot_id).count() == 1
        # The refused filings left nothing behind: one request per round.
        assert db.query(ServiceRequest).count() == ROUNDS
