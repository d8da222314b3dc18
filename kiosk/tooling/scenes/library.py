"""The library's scenes: each screen with its answers (a book borrowed, each kind of refusal's
look, a hold to hand to staff, a return kept offline), handed to the flow as the server would
give them."""

from __future__ import annotations

from datetime import date
from typing import Any

from kiosk.flow import LibraryCall
from kiosk.lending import CheckIn, Loan, Patron, Reader, Refusal
from kiosk.tooling.scenes.base import DEMO_TOKEN, ManualClock, Scene, reset, type_digits

__all__ = ["DEMO_CARD", "DEMO_LOANS", "LIBRARY_SCENES"]

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
    type_digits(app.flow, "1380000")
    app.sync()


def _lib_pin_wrong(app: Any, clock: ManualClock) -> None:
    _lib_identify(app, clock)
    flow = app.flow
    flow.library_use_phone()
    type_digits(flow, "13800001234")
    flow.confirm_library_phone()
    type_digits(flow, "1111")
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
    type_digits(app.flow, "12")
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


LIBRARY_SCENES: dict[str, Scene] = {
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
