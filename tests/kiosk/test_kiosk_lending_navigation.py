"""The library's Back, Home, idle timeout and late answers, without Kivy or HTTP."""

from __future__ import annotations

import pytest

from kiosk.flow import LIBRARY_STEPS, IdlePhase, Step
from kiosk.lending import Refusal
from kiosk.tooling.scenes import ManualClock
from tests.kiosk.lending_support import CARD, identified, loan, new_flow, reader


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def flow(clock):
    return new_flow(clock)


# --- Back, Home, idle and late answers ------------------------------------------------------


def _walk(flow, step):
    """Reach ``step`` with a reader identified where the step needs one."""
    flow.home()
    flow.open_library()
    if step is Step.LIBRARY:
        return
    if step in (Step.LIB_IDENTIFY, Step.LIB_PHONE, Step.LIB_PIN):
        flow.library_choose("borrow")
        if step is not Step.LIB_IDENTIFY:
            flow.library_use_phone()
        if step is Step.LIB_PIN:
            for digit in "13800001234":
                flow.press_digit(digit)
            flow.confirm_library_phone()
        return
    if step is Step.LIB_RETURN:
        flow.library_choose("return")
        return
    call = flow.scan(CARD)
    flow.library_answered(call, reader(loan()))
    if step is Step.LIB_LOANS:
        flow.back()
        flow.library_choose("loans")
    elif step is Step.LIB_COPY:
        flow.library_type_copy()
    elif step is Step.LIB_RECEIPT:
        flow.library_done()
    assert flow.step is step


BACK = {Step.LIBRARY: Step.HOME, Step.LIB_IDENTIFY: Step.LIBRARY,
        Step.LIB_PHONE: Step.LIB_IDENTIFY, Step.LIB_PIN: Step.LIB_PHONE,
        Step.LIB_BORROW: Step.LIBRARY, Step.LIB_COPY: Step.LIB_BORROW,
        Step.LIB_RECEIPT: Step.LIB_BORROW, Step.LIB_RETURN: Step.LIBRARY,
        Step.LIB_LOANS: Step.LIBRARY}


def test_the_table_covers_every_library_step():
    assert set(BACK) == LIBRARY_STEPS


@pytest.mark.parametrize("step", sorted(LIBRARY_STEPS))
def test_back_from_every_library_step_goes_one_step_up(flow, step):
    _walk(flow, step)
    assert flow.can_go_back
    flow.back()
    assert flow.step is BACK[step]


@pytest.mark.parametrize("step", sorted(LIBRARY_STEPS))
def test_home_from_every_library_step_forgets_the_reader(flow, step):
    _walk(flow, step)
    flow.take_sessions_to_end()
    had_reader = flow.visit.reader is not None
    flow.home()
    assert flow.step is Step.HOME and flow.visit is None
    assert flow.take_sessions_to_end() == (["session-wang"] if had_reader else [])
    assert flow.take_sessions_to_end() == []  # handed over once


def test_typing_a_return_number_goes_back_to_the_returns(flow):
    _walk(flow, Step.LIB_RETURN)
    flow.library_type_copy()
    flow.back()
    assert flow.step is Step.LIB_RETURN


def test_the_idle_timeout_warns_then_forgets_the_reader(flow, clock):
    identified(flow)
    clock.advance(89)
    assert flow.idle_phase() is IdlePhase.ACTIVE
    clock.advance(2)
    assert flow.idle_phase() is IdlePhase.WARNING
    assert flow.seconds_left() == 29
    clock.advance(30)
    assert flow.idle_phase() is IdlePhase.EXPIRED
    flow.home()  # what the app does when it expires
    assert flow.visit is None
    assert flow.take_sessions_to_end() == ["session-wang"]


def test_a_scan_counts_as_a_touch_and_a_server_still_answering_holds_the_timeout(flow, clock):
    identified(flow)
    clock.advance(100)
    assert flow.idle_phase() is IdlePhase.WARNING
    call = flow.scan("LB-0001")
    assert flow.idle_phase() is IdlePhase.ACTIVE
    clock.advance(500)  # a slow server: the reader is waiting for it, not gone
    assert flow.idle_phase() is IdlePhase.ACTIVE
    flow.library_answered(call, loan())
    assert flow.idle_phase() is IdlePhase.ACTIVE  # the answer restarts the count
    clock.advance(121)
    assert flow.idle_phase() is IdlePhase.EXPIRED


def test_answers_arriving_after_the_reader_left_are_dropped(flow):
    identified(flow)
    borrow = flow.scan("LB-0001")
    flow.home()
    flow.take_sessions_to_end()
    flow.library_answered(borrow, loan())
    flow.library_refused(borrow, Refusal.from_error("limit_reached"))
    assert flow.step is Step.HOME and flow.visit is None
    # The next reader's visit does not take the last one's answers either.
    flow.open_library()
    flow.library_choose("borrow")
    late = flow.scan(CARD)
    flow.home()
    flow.open_library()
    flow.library_choose("borrow")
    flow.library_answered(borrow, loan())
    flow.library_answered(late, reader(session="session-late"))
    assert flow.step is Step.LIB_IDENTIFY and flow.visit.reader is None
    assert flow.visit.borrowed == [] and flow.visit.last is None
    # A reader identified after leaving still has a session on the server: it is ended.
    assert flow.take_sessions_to_end() == ["session-late"]


def test_a_new_card_at_the_menu_starts_a_new_reader_s_visit(flow):
    identified(flow)
    flow.library_answered(flow.scan("LB-0001"), loan())
    flow.back()
    assert flow.step is Step.LIBRARY
    flow.take_sessions_to_end()
    other = "P0000000018"
    call = flow.scan(other)
    flow.library_answered(call, reader(session="session-li", card=other, name="李爷爷"))
    assert flow.step is Step.LIB_BORROW
    assert flow.visit.reader.patron.address_as == "李爷爷"
    assert flow.visit.borrowed == [] and flow.visit.last is None  # not the last reader's books
    assert flow.take_sessions_to_end() == ["session-wang"]


def test_a_book_scanned_on_the_number_keypad_or_the_receipt_is_one_more_book(flow):
    identified(flow)
    flow.library_type_copy()
    flow.press_digit("4")
    call = flow.scan("LB-0003")
    assert flow.step is Step.LIB_BORROW
    assert call.kind == "borrow" and call.body["copy_id"] == "LB-0003"
    flow.library_answered(call, loan("LB-0003"))
    flow.library_done()
    again = flow.scan("LB-0005")
    assert flow.step is Step.LIB_BORROW and again.body["copy_id"] == "LB-0005"
    flow.back()
    flow.library_choose("return")
    flow.library_type_copy()
    back = flow.scan("LB-0003")
    assert flow.step is Step.LIB_RETURN and back.kind == "give_back"


def test_a_scan_on_my_loans_does_nothing(flow):
    identified(flow, "loans")
    assert flow.scan("LB-0001") is None and flow.step is Step.LIB_LOANS
