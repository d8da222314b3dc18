"""Every screen the kiosk can show, as named scenes: for screenshots and the accessibility test.

A scene puts a running :class:`~kiosk.ui.KioskApp` (built on :class:`~kiosk.demo.DemoServer` and
a :class:`ManualClock`) into one state through the same flow calls a resident's taps make::

    for name, scene in SCENES.items():
        scene(app, clock)
        ...  # pump a frame, then look at app.root

The steps (home, question, compound, ...) each appear at least once, as do their variants
(offline, a wrong phone number, a second page, the idle warning), and the library's screens with
their answers (a book borrowed, each kind of refusal's look, a hold to hand to staff, a return
kept offline). The library's answers are handed to the flow as the server would give them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from kiosk.api import parse_site_status
from kiosk.demo import SITE_STATUS
from kiosk.flow import LibraryCall, Receipt, Step
from kiosk.lending import CheckIn, Loan, Patron, Reader, Refusal

__all__ = ["SCENES", "ManualClock", "reset"]

DEMO_TOKEN = "Qm9va3NBbmRXYXRlclRhbmtzQXJlR29vZEZvclRoZUNvbW11bml0eQ"


class ManualClock:
    """A monotonic clock that moves only when told to (idle timeouts without waiting)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


Scene = Callable[[Any, ManualClock], None]


def reset(app: Any) -> None:
    app._dismiss_idle_warning()
    app.flow.home()
    app.offline = False
    app.flow.touched()
    app.sync()


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
    if step is Step.CONTACT:
        return app.sync()
    flow.leave_phone()
    if step is Step.PHONE:
        return app.sync()
    for digit in "13800001234":
        flow.press_digit(digit)
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


def _contact(app: Any, clock: ManualClock) -> None:
    _to(app, Step.CONTACT)


def _phone(app: Any, clock: ManualClock) -> None:
    _to(app, Step.PHONE)
    for digit in "1380000":
        app.flow.press_digit(digit)
    app.sync()


def _phone_invalid(app: Any, clock: ManualClock) -> None:
    _to(app, Step.PHONE)
    for digit in "2380000":
        app.flow.press_digit(digit)
    app.flow.confirm_phone()
    app.sync()


def _review(app: Any, clock: ManualClock) -> None:
    _to(app, Step.REVIEW)


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
    app.flow.press_digit("1")
    app.flow.press_digit("1")
    app.flow.confirm_pin()
    app.flow.press_digit("2")
    app.flow.press_digit("4")
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
    app._tick(0)


# --- the library ----------------------------------------------------------------------------

DEMO_CARD = "P1234567897"
DEMO_LOANS = (
    Loan(copy_id="LB-0010", title="湖湘文化名人录", due_on=date(2026, 11, 20), renewals_left=2,
         overdue_days=5),
    Loan(copy_id="LB-0001", title="老年常见病防治手册（大字版）", due_on=date(2026, 12, 25),
         renewals_left=2, overdue_days=0),
    Loan(copy_id="LB-0011", title="阳台种菜一本通", due_on=date(2026, 12, 30), renewals_left=0,
         overdue_days=0),
    Loan(copy_id="LB-0015", title="湘剧与花鼓戏唱腔选", due_on=date(2027, 1, 3), renewals_left=1,
         overdue_days=0),
)


def _reader(app: Any, loans: tuple[Loan, ...] = DEMO_LOANS, *, blocked: bool = False) -> Reader:
    return Reader(session="demo-session",
                  patron=Patron(card_id=DEMO_CARD, address_as="王阿姨", loans=len(loans),
                                max_items=5, can_borrow=5 - len(loans), blocked=blocked),
                  loans=loans,
                  phone_url=f"{app.settings.http.public_url}/l/{DEMO_TOKEN}")


def _answer(app: Any, kind: str, result: object) -> None:
    """Hand the flow an answer as if the server had given it to a call just made."""
    visit = app.flow.visit
    visit.in_flight += 1
    app.flow.library_answered(LibraryCall(kind=kind, visit=visit.serial), result)  # type: ignore[arg-type]


def _refuse(app: Any, kind: str, code: str) -> None:
    visit = app.flow.visit
    visit.in_flight += 1
    app.flow.library_refused(LibraryCall(kind=kind, visit=visit.serial),  # type: ignore[arg-type]
                             Refusal.from_error(code))


def _library(app: Any, clock: ManualClock) -> None:
    reset(app)
    app.flow.open_library()
    app.sync()


def _library_choose_first(app: Any, clock: ManualClock) -> None:
    _library(app, clock)
    app.flow.scan("LB-0001")
    app.sync()


def _identified(app: Any, purpose: str, reader: Reader | None = None) -> None:
    reset(app)
    flow = app.flow
    flow.open_library()
    flow.library_choose(purpose)
    visit = flow.visit
    visit.in_flight += 1
    flow.library_answered(LibraryCall(kind="identify", visit=visit.serial),
                          reader or _reader(app))


def _lib_identify(app: Any, clock: ManualClock) -> None:
    reset(app)
    app.flow.open_library()
    app.flow.library_choose("borrow")
    app.sync()


def _lib_identify_unknown(app: Any, clock: ManualClock) -> None:
    _lib_identify(app, clock)
    _refuse(app, "identify", "unknown_patron")
    app.sync()


def _lib_phone(app: Any, clock: ManualClock) -> None:
    _lib_identify(app, clock)
    app.flow.library_use_phone()
    for digit in "1380000":
        app.flow.press_digit(digit)
    app.sync()


def _lib_pin_wrong(app: Any, clock: ManualClock) -> None:
    _lib_identify(app, clock)
    flow = app.flow
    flow.library_use_phone()
    for digit in "13800001234":
        flow.press_digit(digit)
    flow.confirm_library_phone()
    for digit in "1111":
        flow.press_digit(digit)
    call = flow.confirm_library_pin()
    assert call is not None
    flow.library_refused(call, Refusal.from_error("wrong_pin"))
    app.sync()


def _lib_borrow(app: Any, clock: ManualClock) -> None:
    _identified(app, "borrow", _reader(app, DEMO_LOANS[1:2]))
    app.sync()


def _lib_borrowed(app: Any, clock: ManualClock) -> None:
    _identified(app, "borrow", _reader(app, ()))
    for loan in DEMO_LOANS[1:3]:
        _answer(app, "borrow", loan)
    app.sync()


def _lib_borrow_refused(app: Any, clock: ManualClock) -> None:
    _identified(app, "borrow", _reader(app, DEMO_LOANS[1:2]))
    _refuse(app, "borrow", "on_hold_for_other")
    app.sync()


def _lib_borrow_blocked(app: Any, clock: ManualClock) -> None:
    _identified(app, "borrow", _reader(app, DEMO_LOANS[:1], blocked=True))
    _refuse(app, "borrow", "overdue_block")
    app.sync()


def _lib_borrow_checking(app: Any, clock: ManualClock) -> None:
    _identified(app, "borrow", _reader(app, ()))
    app.flow.visit.in_flight += 1
    app.sync()


def _lib_copy(app: Any, clock: ManualClock) -> None:
    _identified(app, "borrow", _reader(app, ()))
    app.flow.library_type_copy()
    for digit in "12":
        app.flow.press_digit(digit)
    app.sync()


def _lib_receipt(app: Any, clock: ManualClock) -> None:
    _identified(app, "borrow", _reader(app, ()))
    for loan in DEMO_LOANS:
        _answer(app, "borrow", loan)
    app.flow.library_done()
    app.sync()


def _lib_receipt_none(app: Any, clock: ManualClock) -> None:
    _identified(app, "borrow", _reader(app, ()))
    app.flow.library_done()
    app.sync()


def _lib_return(app: Any, clock: ManualClock) -> None:
    _library(app, clock)
    app.flow.library_choose("return")
    app.sync()


def _lib_returned(app: Any, clock: ManualClock) -> None:
    _lib_return(app, clock)
    _answer(app, "give_back", CheckIn(client_id="kiosk-r-1", copy_id="LB-0001",
                                      title="老年常见病防治手册（大字版）"))
    app.sync()


def _lib_returned_late(app: Any, clock: ManualClock) -> None:
    _lib_return(app, clock)
    _answer(app, "give_back", CheckIn(client_id="kiosk-r-2", copy_id="LB-0010",
                                      title="湖湘文化名人录", overdue_days=5))
    app.sync()


def _lib_return_hold(app: Any, clock: ManualClock) -> None:
    _lib_return(app, clock)
    _answer(app, "give_back", CheckIn(client_id="kiosk-r-3", copy_id="LB-0006",
                                      title="太极拳入门图解", hand_to_staff=True))
    app.sync()


def _lib_return_queued(app: Any, clock: ManualClock) -> None:
    _lib_return(app, clock)
    _answer(app, "give_back", CheckIn(client_id="kiosk-r-4", copy_id="LB-0003", queued=True))
    app.offline = True
    app.sync()


def _lib_return_refused(app: Any, clock: ManualClock) -> None:
    _lib_return(app, clock)
    _refuse(app, "give_back", "not_on_loan")
    app.sync()


def _lib_loans(app: Any, clock: ManualClock) -> None:
    _identified(app, "loans")
    app.sync()


def _lib_loans_page2(app: Any, clock: ManualClock) -> None:
    _lib_loans(app, clock)
    app.turn_page(1)


def _lib_loans_renewed(app: Any, clock: ManualClock) -> None:
    _identified(app, "loans")
    old = DEMO_LOANS[1]
    _answer(app, "renew", Loan(copy_id=old.copy_id, title=old.title, due_on=date(2027, 1, 24),
                               renewals_left=1, overdue_days=0))
    app.sync()


def _lib_loans_refused(app: Any, clock: ManualClock) -> None:
    _identified(app, "loans")
    _refuse(app, "renew", "renew_on_hold")
    app.sync()


def _lib_loans_none(app: Any, clock: ManualClock) -> None:
    _identified(app, "loans", _reader(app, ()))
    app.sync()


SCENES: dict[str, Scene] = {
    "home": _home,
    "home_offline": _home_offline,
    "question": _question,
    "question_optional": _question_optional,
    "question_answer_required": _question_answer_required,
    "compound": _compound,
    "compound_page2": _compound_page2,
    "building": _building,
    "unit": _unit,
    "contact": _contact,
    "phone": _phone,
    "phone_invalid": _phone_invalid,
    "review": _review,
    "sending": _sending,
    "done": _done,
    "done_offline": _done_offline,
    "failed": _failed,
    "staff_pin": _staff_pin,
    "staff": _staff,
    "staff_no_data": _staff_no_data,
    "staff_unreachable": _staff_unreachable,
    "idle_warning": _idle_warning,
    "library": _library,
    "library_choose_first": _library_choose_first,
    "lib_identify": _lib_identify,
    "lib_identify_unknown": _lib_identify_unknown,
    "lib_phone": _lib_phone,
    "lib_pin_wrong": _lib_pin_wrong,
    "lib_borrow": _lib_borrow,
    "lib_borrow_checking": _lib_borrow_checking,
    "lib_borrowed": _lib_borrowed,
    "lib_borrow_refused": _lib_borrow_refused,
    "lib_borrow_blocked": _lib_borrow_blocked,
    "lib_copy": _lib_copy,
    "lib_receipt": _lib_receipt,
    "lib_receipt_none": _lib_receipt_none,
    "lib_return": _lib_return,
    "lib_returned": _lib_returned,
    "lib_returned_late": _lib_returned_late,
    "lib_return_hold": _lib_return_hold,
    "lib_return_queued": _lib_return_queued,
    "lib_return_refused": _lib_return_refused,
    "lib_loans": _lib_loans,
    "lib_loans_page2": _lib_loans_page2,
    "lib_loans_renewed": _lib_loans_renewed,
    "lib_loans_refused": _lib_loans_refused,
    "lib_loans_none": _lib_loans_none,
}
