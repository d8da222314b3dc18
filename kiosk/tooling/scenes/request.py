"""The request journey's scenes (every step and its variants), staff mode and the idle warning."""

from __future__ import annotations

from typing import Any

from kiosk.api import parse_site_status
from kiosk.flow import Receipt, Step
from kiosk.tooling.demo import SITE_STATUS
from kiosk.tooling.scenes.base import DEMO_TOKEN, ManualClock, Scene, reset, type_digits

__all__ = ["REQUEST_SCENES"]


def _to(app: Any, step: Step, *, category: str = "water_electric") -> None:
    """Walk the flow to ``step`` with typical answers, as taps would."""
    reset(app)
    flow = app.flow
    flow.choose_category(category)
    if step is Step.QUESTION:
        return app.sync()
    while flow.step is Step.QUESTION:
        assert flow.question is not None
        flow.answer(flow.question.choices[0].key)
    if step is Step.COMPOUND:
        return app.sync()
    flow.choose_compound(flow.compounds[0].code)
    if step is Step.BUILDING:
        return app.sync()
    assert flow.compound is not None
    flow.choose_building(flow.compound.buildings[0].code)
    if step is Step.UNIT:
        return app.sync()
    assert flow.building is not None
    flow.choose_unit(flow.building.units[0].code)
    if step is Step.REVIEW:
        return app.sync()
    if step is Step.DOOR:
        flow.add_door()
        return app.sync()
    flow.leave_phone()
    if step is Step.PHONE:
        return app.sync()
    type_digits(flow, "13800001234")
    flow.confirm_phone()
    app.sync()


def _home(app: Any, clock: ManualClock) -> None:
    reset(app)


def _home_offline(app: Any, clock: ManualClock) -> None:
    reset(app)
    app.offline = True


def _question(app: Any, clock: ManualClock) -> None:
    _to(app, Step.QUESTION)


def _question_optional(app: Any, clock: ManualClock) -> None:
    _to(app, Step.QUESTION, category="jobs")


def _question_answer_required(app: Any, clock: ManualClock) -> None:
    _to(app, Step.QUESTION, category="books")
    app.flow.problem = "answer_required"
    app.sync()


def _compound(app: Any, clock: ManualClock) -> None:
    _to(app, Step.COMPOUND)


def _compound_page2(app: Any, clock: ManualClock) -> None:
    _to(app, Step.COMPOUND)
    app.turn_page(1)


def _building(app: Any, clock: ManualClock) -> None:
    _to(app, Step.BUILDING)


def _unit(app: Any, clock: ManualClock) -> None:
    _to(app, Step.UNIT)


def _door(app: Any, clock: ManualClock) -> None:
    _to(app, Step.DOOR)
    type_digits(app.flow, "502")
    app.sync()


def _phone(app: Any, clock: ManualClock) -> None:
    _to(app, Step.PHONE)
    type_digits(app.flow, "1380000")
    app.sync()


def _phone_invalid(app: Any, clock: ManualClock) -> None:
    _to(app, Step.PHONE)
    type_digits(app.flow, "2380000")
    app.flow.confirm_phone()
    app.sync()


def _review(app: Any, clock: ManualClock) -> None:
    _to(app, Step.REVIEW)


def _review_with_phone(app: Any, clock: ManualClock) -> None:
    _to(app, Step.PHONE)
    type_digits(app.flow, "13800001234")
    app.flow.confirm_phone()
    app.flow.add_door()
    type_digits(app.flow, "502")
    app.flow.confirm_door()
    app.sync()


def _sending(app: Any, clock: ManualClock) -> None:
    _to(app, Step.REVIEW)
    app.flow.submit()
    app.sync()


def _done(app: Any, clock: ManualClock, *, offline: bool = False) -> None:
    _to(app, Step.REVIEW)
    app.flow.submit()
    app.flow.filed(Receipt(number="K1-0042",
                           status_url=f"{app.settings.http.public_url}/r/{DEMO_TOKEN}",
                           offline=offline))
    app.offline = offline
    app.sync()


def _done_offline(app: Any, clock: ManualClock) -> None:
    _done(app, clock, offline=True)


def _failed(app: Any, clock: ManualClock) -> None:
    _to(app, Step.REVIEW)
    app.flow.submit()
    app.flow.refused("refused")
    app.sync()


def _staff_pin(app: Any, clock: ManualClock) -> None:
    reset(app)
    app.flow.open_staff()
    type_digits(app.flow, "11")
    app.flow.confirm_pin()
    type_digits(app.flow, "24")
    app.sync()


def _staff(app: Any, clock: ManualClock, *, status: Any = SITE_STATUS, state: str = "ok") -> None:
    reset(app)
    app.flow.open_staff()
    app.flow.pin = app.settings.kiosk.staff_pin
    app.flow.confirm_pin()
    app.site_status = parse_site_status(status) if status is not None else None
    app.status_state = state
    app.sync()


def _staff_no_data(app: Any, clock: ManualClock) -> None:
    _staff(app, clock, status={"site": "site-01", "tanks": [], "extinguisher_bays": [],
                               "open_tickets": [], "alerts": []})


def _staff_unreachable(app: Any, clock: ManualClock) -> None:
    _staff(app, clock, status=None, state="unreachable")


def _idle_warning(app: Any, clock: ManualClock) -> None:
    _to(app, Step.COMPOUND)
    clock.advance(app.flow.idle_seconds + 5)
    app.tick()


REQUEST_SCENES: dict[str, Scene] = {
    "home": _home,
    "home_offline": _home_offline,
    "question": _question,
    "question_optional": _question_optional,
    "question_answer_required": _question_answer_required,
    "compound": _compound,
    "compound_page2": _compound_page2,
    "building": _building,
    "unit": _unit,
    "door": _door,
    "phone": _phone,
    "phone_invalid": _phone_invalid,
    "review": _review,
    "review_with_phone": _review_with_phone,
    "sending": _sending,
    "done": _done,
    "done_offline": _done_offline,
    "failed": _failed,
    "staff_pin": _staff_pin,
    "staff": _staff,
    "staff_no_data": _staff_no_data,
    "staff_unreachable": _staff_unreachable,
    "idle_warning": _idle_warning,
}
