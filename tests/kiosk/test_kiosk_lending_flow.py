"""The library at the kiosk without Kivy or HTTP: the LIB_* steps of the flow, from the menu and
identifying the reader to borrowing, returning, renewing and "bring books to my home"."""

from __future__ import annotations

import re
from datetime import date

import pytest

from kiosk.flow import LibraryCall, Step
from kiosk.lending import CheckIn, OutcomeKind, Patron, Refusal
from kiosk.tooling.scenes import ManualClock
from tests.kiosk.lending_support import CARD, identified, loan, new_flow, reader

CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")  # docs/LIBRARY.md

@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def flow(clock):
    return new_flow(clock)


# --- the library menu and identifying --------------------------------------------------------


def test_the_library_tile_opens_the_menu_and_each_choice_its_screen(flow):
    flow.open_library()
    assert flow.step is Step.LIBRARY and flow.visit is not None
    assert flow.library_choose("borrow") is None  # no reader yet: nothing to ask the server
    assert flow.step is Step.LIB_IDENTIFY
    flow.back()
    assert flow.library_choose("loans") is None
    assert flow.step is Step.LIB_IDENTIFY
    flow.back()
    assert flow.library_choose("return") is None  # returns need no reader
    assert flow.step is Step.LIB_RETURN


def test_scanning_the_card_identifies_the_reader_and_leads_to_borrowing(flow):
    flow.open_library()
    flow.library_choose("borrow")
    call = flow.scan(CARD + "\r")
    assert call == LibraryCall(kind="identify", visit=flow.visit.serial,
                               body={"card_id": CARD})
    assert flow.library_busy
    assert flow.scan(CARD) is None  # the same card read twice while the server looks
    flow.library_answered(call, reader(loan()))
    assert flow.step is Step.LIB_BORROW and not flow.library_busy
    assert flow.visit.reader.patron.address_as == "王阿姨"
    assert flow.visit.loans == (loan(),)


def test_a_card_scanned_at_the_home_screen_starts_borrowing(flow):
    call = flow.scan(CARD)
    assert flow.step is Step.LIB_IDENTIFY and call.kind == "identify"
    flow.library_answered(call, reader())
    assert flow.step is Step.LIB_BORROW


def test_a_book_scanned_at_home_or_at_the_menu_asks_what_to_do_first(flow):
    assert flow.scan("LB-0001") is None
    assert flow.step is Step.HOME and flow.visit is None
    flow.open_library()
    assert flow.scan("LB-0001") is None
    assert flow.step is Step.LIBRARY and flow.problem == "lib_choose_first"
    call = flow.scan(CARD)  # a card at the menu: the reader has come to borrow
    assert flow.step is Step.LIB_IDENTIFY and call.kind == "identify"


def test_scans_elsewhere_do_nothing(flow):
    flow.choose_category("water_electric")
    assert flow.scan(CARD) is None and flow.scan("LB-0001") is None
    assert flow.step is Step.QUESTION and flow.visit is None
    flow.home()
    flow.open_staff()
    assert flow.scan(CARD) is None and flow.step is Step.STAFF_PIN
    flow.home()
    assert flow.scan("   ") is None and flow.step is Step.HOME


def test_an_unknown_card_is_refused_in_words_and_the_reader_may_scan_again(flow):
    flow.open_library()
    flow.library_choose("borrow")
    call = flow.scan("P0000000000")
    flow.library_refused(call, Refusal.from_error("unknown_patron"))
    assert flow.step is Step.LIB_IDENTIFY
    assert flow.visit.last.kind is OutcomeKind.REFUSED
    assert flow.visit.last.refusal.text("en") == "This library card is not known. Please ask staff."
    again = flow.scan(CARD)
    assert flow.visit.last is None  # the old refusal goes when a new scan is read
    flow.library_answered(again, reader())
    assert flow.step is Step.LIB_BORROW


def test_phone_and_pin_identify_a_reader_without_a_card(flow):
    flow.open_library()
    flow.library_choose("loans")
    flow.library_use_phone()
    assert flow.step is Step.LIB_PHONE
    for digit in "238000012345":
        flow.press_digit(digit)
    assert flow.visit.phone == "23800001234"  # 11 digits at most
    assert not flow.confirm_library_phone() and flow.problem == "phone_invalid"
    flow.clear_digits()
    for digit in "13800001234":
        flow.press_digit(digit)
    assert flow.confirm_library_phone() and flow.step is Step.LIB_PIN
    for digit in "123":
        flow.press_digit(digit)
    assert flow.confirm_library_pin() is None and flow.problem == "lib_pin_short"
    for digit in "45678":
        flow.press_digit(digit)
    assert flow.visit.pin == "123456"  # 6 digits at most
    flow.delete_digit()
    flow.delete_digit()
    call = flow.confirm_library_pin()
    assert call.kind == "identify" and call.body == {"phone": "13800001234", "pin": "1234"}
    flow.library_answered(call, reader(loan()))
    assert flow.step is Step.LIB_LOANS  # they came for their loans
    assert flow.visit.phone == flow.visit.pin == ""  # not kept once used


def test_a_wrong_pin_is_said_in_words_and_cleared(flow):
    flow.open_library()
    flow.library_choose("borrow")
    flow.library_use_phone()
    for digit in "13800001234":
        flow.press_digit(digit)
    flow.confirm_library_phone()
    for digit in "1111":
        flow.press_digit(digit)
    call = flow.confirm_library_pin()
    flow.library_refused(call, Refusal.from_error("wrong_pin"))
    assert flow.step is Step.LIB_PIN and flow.visit.pin == ""
    assert flow.visit.last.refusal.text("zh_CN") == "手机号或密码不对，请再试。"
    # The card turns up after all: scanning it on the PIN screen identifies by card.
    call = flow.scan(CARD)
    assert flow.step is Step.LIB_IDENTIFY and call.body == {"card_id": CARD}


# --- borrowing ------------------------------------------------------------------------------


def test_books_are_borrowed_one_scan_after_another_then_the_receipt(flow):
    identified(flow, who=reader(loan("LB-0010", "湖湘文化名人录", date(2026, 12, 1))))
    first = flow.scan("LB-0001")
    assert first.kind == "borrow" and first.session == "session-wang"
    assert first.body["copy_id"] == "LB-0001" and CLIENT_ID.match(first.body["client_id"])
    second = flow.scan("LB-0003")
    assert second.body["client_id"] != first.body["client_id"]  # each scan applied once
    assert flow.visit.in_flight == 2
    flow.library_answered(first, loan("LB-0001"))
    assert flow.visit.last.kind is OutcomeKind.BORROWED
    assert flow.visit.last.loan.title == "老年常见病防治手册（大字版）"
    flow.library_answered(second, loan("LB-0003", "高血压糖尿病饮食调养", date(2026, 12, 24)))
    assert [x.copy_id for x in flow.visit.borrowed] == ["LB-0001", "LB-0003"]
    assert [x.copy_id for x in flow.visit.loans] == ["LB-0010", "LB-0003", "LB-0001"]
    assert flow.visit.reader.patron.can_borrow == 2
    flow.library_done()
    assert flow.step is Step.LIB_RECEIPT
    flow.back()
    assert flow.step is Step.LIB_BORROW  # one more book after all


def test_a_refused_book_says_why_and_borrowing_goes_on(flow):
    identified(flow)
    call = flow.scan("LB-0008")
    flow.library_refused(call, Refusal.from_error(
        "on_hold_for_other", "这本书已为其他读者预留，请交给工作人员。",
        "This book is kept for another reader. Please hand it to staff."))
    assert flow.step is Step.LIB_BORROW and flow.visit.borrowed == []
    assert "hand it to staff" in flow.visit.last.refusal.text("en")
    ok = flow.scan("LB-0001")
    flow.library_answered(ok, loan())
    assert flow.visit.last.kind is OutcomeKind.BORROWED


def test_the_card_scanned_again_while_borrowing_is_not_taken_for_a_book(flow):
    identified(flow)
    assert flow.scan(CARD) is None
    assert flow.problem == "lib_card_again" and flow.step is Step.LIB_BORROW


def test_the_book_number_can_be_typed_on_the_keypad(flow):
    identified(flow)
    flow.library_type_copy()
    assert flow.step is Step.LIB_COPY
    assert flow.confirm_copy() is None and flow.problem == "lib_copy_empty"
    for digit in "123456789":
        flow.press_digit(digit)
    assert flow.visit.copy_digits == "12345678"
    flow.clear_digits()
    for digit in "12":
        flow.press_digit(digit)
    call = flow.confirm_copy()
    assert flow.step is Step.LIB_BORROW
    assert call.kind == "borrow" and call.body["copy_id"] == "LB-0012"


def test_a_forgotten_session_sends_the_reader_back_to_the_card(flow):
    identified(flow)
    call = flow.scan("LB-0001")
    flow.library_refused(call, Refusal.from_error("session_expired"))
    assert flow.step is Step.LIB_IDENTIFY and flow.visit.reader is None
    assert flow.visit.last.refusal.text("en") == "Please scan your library card again."


def test_the_keypads_are_only_where_there_is_one(flow):
    identified(flow)
    with pytest.raises(RuntimeError):
        flow.press_digit("1")
    with pytest.raises(RuntimeError):
        flow.library_choose("return")  # not at the menu
    flow.back()
    with pytest.raises(ValueError):
        flow.library_choose("dance")


# --- returning ------------------------------------------------------------------------------


def test_books_are_returned_without_a_card(flow):
    flow.open_library()
    flow.library_choose("return")
    call = flow.scan("LB-0008")
    assert call.kind == "give_back" and call.session == ""
    assert call.body["copy_id"] == "LB-0008" and CLIENT_ID.match(call.body["client_id"])
    assert call.body["client_id"].startswith("kiosk-r-")
    flow.library_answered(call, CheckIn(client_id=call.body["client_id"], copy_id="LB-0008",
                                        title="中国通史故事（大字本）", hand_to_staff=True))
    assert flow.visit.last.kind is OutcomeKind.RETURNED
    assert flow.visit.last.check_in.hand_to_staff
    flow.library_type_copy()
    flow.press_digit("3")
    typed = flow.confirm_copy()
    assert flow.step is Step.LIB_RETURN
    assert typed.kind == "give_back" and typed.body["copy_id"] == "LB-0003"
    flow.library_answered(typed, CheckIn(client_id=typed.body["client_id"], copy_id="LB-0003",
                                         queued=True))
    assert [x.copy_id for x in flow.visit.returned] == ["LB-0008", "LB-0003"]
    assert flow.visit.returned[-1].queued


def test_a_card_scanned_on_the_return_screen_is_sent_as_a_return_and_refused(flow):
    # The server answers unknown_copy in words; the kiosk does not guess.
    flow.open_library()
    flow.library_choose("return")
    call = flow.scan(CARD)
    assert call.kind == "give_back"
    flow.library_refused(call, Refusal.from_error("unknown_copy"))
    assert flow.step is Step.LIB_RETURN
    assert flow.visit.last.refusal.text("en").startswith("This book is not in our catalogue")


# --- my loans -------------------------------------------------------------------------------


def test_my_loans_are_renewed_with_one_tap(flow):
    late = loan("LB-0010", "湖湘文化名人录", date(2026, 11, 20), renewals_left=2, overdue_days=5)
    mine = loan("LB-0001", due=date(2026, 12, 25), renewals_left=1)
    identified(flow, "loans", reader(late, mine))
    assert flow.step is Step.LIB_LOANS
    call = flow.renew("LB-0010")
    assert call == LibraryCall(kind="renew", visit=flow.visit.serial,
                               body={"copy_id": "LB-0010"}, session="session-wang")
    renewed = loan("LB-0010", "湖湘文化名人录", date(2027, 1, 24), renewals_left=1)
    flow.library_answered(call, renewed)
    assert flow.visit.last.kind is OutcomeKind.RENEWED
    assert flow.visit.loans == (mine, renewed)  # soonest due first
    assert flow.visit.borrowed == []  # a renewal is not a new loan
    with pytest.raises(ValueError):
        flow.renew("LB-0099")
    refused = flow.renew("LB-0001")
    flow.library_refused(refused, Refusal.from_error("renew_on_hold"))
    assert flow.visit.loans == (mine, renewed)
    assert flow.visit.last.refusal.text("en").startswith("Another reader is waiting")


def test_coming_back_to_my_loans_reads_them_again(flow):
    identified(flow, "borrow")
    flow.back()
    assert flow.step is Step.LIBRARY and flow.visit.reader is not None
    call = flow.library_choose("loans")
    assert flow.step is Step.LIB_LOANS and call.kind == "loans"
    assert call.session == "session-wang" and call.body == {}
    patron = Patron(card_id=CARD, address_as="王阿姨", loans=1, max_items=5, can_borrow=4,
                    blocked=False)
    flow.library_answered(call, (patron, (loan(),)))
    assert flow.visit.loans == (loan(),)
    flow.back()
    assert flow.library_choose("borrow") is None  # already identified: straight to the books
    assert flow.step is Step.LIB_BORROW


def test_an_answer_of_the_wrong_kind_is_an_error_not_a_silent_change(flow):
    identified(flow)
    call = flow.scan("LB-0001")
    with pytest.raises(ValueError):
        flow.library_answered(call, CheckIn(client_id="x", copy_id="LB-0001"))


# --- bring books home -----------------------------------------------------------------------


def test_bring_books_home_files_the_books_request(flow):
    flow.open_library()
    flow.library_deliver()
    assert flow.visit is None
    assert flow.draft is not None and flow.draft.category == "books"
    assert flow.step in (Step.QUESTION, Step.COMPOUND)
