"""The scenes of issue 20's slot step (选时间) for a by-appointment service (the demo's 证件预约上门
办理): the day's slots with a full one, a later day (the tabs paged), none to book, the server
away, the slot taken at sending, the review and done screens with the booked time, and 查进度's
answer for a booked request (the time in big type). The slots are the demo server's
(kiosk.tooling.demo.SLOTS), handed to the flow as the app would."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kiosk.catalog import parse_slots
from kiosk.flow import Receipt, Step
from kiosk.flow.lookup import LookupResult
from kiosk.tooling.demo import SLOTS
from kiosk.tooling.scenes.base import DEMO_TOKEN, ManualClock, Scene, reset, type_digits

__all__ = ["APPOINTMENT_SCENES"]

CATEGORY = "certificates"


def _slot_step(app: Any, slots: list[dict[str, Any]] | None = None, *, day: str = "") -> None:
    """The slot step with ``slots`` (the demo's by default; None: the server did not answer)."""
    reset(app)
    flow = app.flow
    flow.choose_category(CATEGORY)
    flow.slots_asked()
    if slots is None:
        flow.slots_unreachable(CATEGORY)
    else:
        flow.slots_arrived(CATEGORY, parse_slots({"slots": slots}))
    if day:
        flow.choose_slot_day(day)
    app.sync()


def _to_review(app: Any, slot_id: int = 3) -> None:
    _slot_step(app, SLOTS, day="2026-11-26")
    flow = app.flow
    flow.choose_slot(slot_id)
    while flow.step is Step.QUESTION:
        assert flow.question is not None
        flow.answer(flow.question.choices[0].key)
    flow.choose_compound(flow.compounds[0].code)
    assert flow.compound is not None
    flow.choose_building(flow.compound.buildings[0].code)
    assert flow.building is not None
    flow.choose_unit(flow.building.units[0].code)
    app.sync()


def _slot(app: Any, clock: ManualClock) -> None:
    _slot_step(app, SLOTS)  # today: one place left at 14:00, 15:00 full


def _slot_tomorrow(app: Any, clock: ManualClock) -> None:
    _slot_step(app, SLOTS, day="2026-11-26")


def _slot_later_days(app: Any, clock: ManualClock) -> None:
    _slot_step(app, SLOTS, day="2026-12-03")


def _slot_none(app: Any, clock: ManualClock) -> None:
    _slot_step(app, [])


def _slot_unreachable(app: Any, clock: ManualClock) -> None:
    _slot_step(app, None)
    app.offline = True


def _slot_taken(app: Any, clock: ManualClock) -> None:
    _to_review(app)
    app.flow.submit()
    app.flow.slot_taken()  # as the app does on the server's 409 slot_full
    full = [dict(s, remaining=0) if s["id"] == 3 else s for s in SLOTS]
    app.flow.slots_asked()
    app.flow.slots_arrived(CATEGORY, parse_slots({"slots": full}))
    app.flow.choose_slot_day("2026-11-26")
    app.flow.problem = "slot_taken"
    app.sync()


def _review_appointment(app: Any, clock: ManualClock) -> None:
    _to_review(app)


def _done_appointment(app: Any, clock: ManualClock) -> None:
    _to_review(app)
    app.flow.submit()
    app.flow.filed(Receipt(number="K1-0043",
                           status_url=f"{app.settings.http.public_url}/r/{DEMO_TOKEN}"))
    app.sync()


def _lookup_found_appointment(app: Any, clock: ManualClock) -> None:
    """查进度 for the request booked on the done screen: the time under its status."""
    reset(app)
    flow = app.flow
    flow.open_lookup()
    type_digits(flow, "43")
    flow.confirm_lookup_number()
    type_digits(flow, "1234")
    query = flow.confirm_lookup_phone()
    flow.lookup_found(query, LookupResult(
        number="K1-0043", status="dispatched", status_zh="已派单", status_en="Dispatched",
        category_zh="证件预约上门办理", category_en="Certificates done at home", volunteer=None,
        filed_on="2026-11-25", status_url=f"{app.settings.http.public_url}/r/{DEMO_TOKEN}",
        appointment_at=datetime.fromisoformat(str(SLOTS[3]["starts_at"]))))
    app.sync()


APPOINTMENT_SCENES: dict[str, Scene] = {
    "slot": _slot,
    "slot_tomorrow": _slot_tomorrow,
    "slot_later_days": _slot_later_days,
    "slot_none": _slot_none,
    "slot_unreachable": _slot_unreachable,
    "slot_taken": _slot_taken,
    "review_appointment": _review_appointment,
    "done_appointment": _done_appointment,
    "lookup_found_appointment": _lookup_found_appointment,
}
