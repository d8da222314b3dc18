"""The library at the kiosk without Kivy or HTTP: the LIB_* steps of the flow, the scanner's
keystrokes, card and copy ids, the refusals' words, Back/Home, the idle timeout, late answers."""

from __future__ import annotations

import re
from datetime import date

import pytest

from kiosk.catalog import parse_categories, parse_places
from kiosk.demo import CATEGORIES, PLACES
from kiosk.errors import BadReply
from kiosk.flow import LIBRARY_STEPS, Flow, IdlePhase, LibraryCall, Step
from kiosk.lending import (
    CheckIn,
    Loan,
    OutcomeKind,
    Patron,
    Reader,
    Refusal,
    ScanBuffer,
    looks_like_card,
    parse_loan,
    parse_loans,
    parse_return,
    parse_session,
    typed_copy_id,
)
from kiosk.scenes import ManualClock

CARD = "P1234567897"
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")  # docs/LIBRARY.md


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def flow(clock):
    ids = iter(f"id-{n:04d}" for n in range(1, 1000))
    flow = Flow(idle_seconds=90, warning_seconds=30, staff_pin="2468", now=clock,
                new_id=lambda: next(ids))
    flow.set_catalog(categories=parse_categories(CATEGORIES), compounds=parse_places(PLACES))
    return flow


def loan(copy_id="LB-0001", title="老年常见病防治手册（大字版）", due=date(2026, 12, 25),
         renewals_left=2, overdue_days=0):
    return Loan(copy_id=copy_id, title=title, due_on=due, renewals_left=renewals_left,
                overdue_days=overdue_days)


def reader(*loans, session="session-wang", card=CARD, name="王阿姨"):
    return Reader(session=session,
                  patron=Patron(card_id=card, address_as=name, loans=len(loans), max_items=5,
                                can_borrow=5 - len(loans), blocked=False),
                  loans=tuple(loans), phone_url="http://sp.test/api/v1/library/phone/t/page")


def identified(flow, purpose="borrow", who=None):
    """Open the library, choose ``purpose`` and scan the card; the server knows the reader."""
    flow.open_library()
    assert flow.library_choose(purpose) is None
    call = flow.scan(CARD)
    flow.library_answered(call, who or reader())
    return call


# --- the scanner ------------------------------------------------------------------------------


def test_a_scanner_s_keystrokes_make_one_scan_at_enter():
    buffer = ScanBuffer()
    for n, ch in enumerate("LB-0001"):
        buffer.feed(ch, at=10.0 + n * 0.002)
    assert buffer.enter(at=10.02) == "LB-0001"
    assert buffer.enter(at=10.03) is None  # Enter again: nothing new was typed


def test_line_ends_tabs_and_control_characters_are_not_part_of_the_code():
    buffer = ScanBuffer()
    buffer.feed("  P1234567897\r\n\t\x1b", at=1.0)
    assert buffer.enter(at=1.0) == CARD


def test_a_half_read_code_is_dropped_instead_of_glued_to_the_next_scan():
    buffer = ScanBuffer(gap_s=1.0)
    buffer.feed("LB-00", at=1.0)           # a sleeve knocked the scanner
    buffer.feed("LB-0002", at=5.0)
    assert buffer.enter(at=5.01) == "LB-0002"
    buffer.feed("LB-0003", at=6.0)
    assert buffer.enter(at=9.0) is None    # Enter long after the typing: not a scan
    buffer.feed("LB-0004", at=10.0)
    buffer.clear()
    assert buffer.enter(at=10.0) is None


def test_a_runaway_scan_is_capped():
    buffer = ScanBuffer()
    buffer.feed("9" * 500, at=1.0)
    assert buffer.enter(at=1.0) == "9" * 64


@pytest.mark.parametrize(("scan", "card"), [
    (CARD, True), ("p1234567897", True), (" P1234567897\r", True), ("P123456789", False),
    ("P12345678970", False), ("LB-0001", False), ("1234567897", False), ("", False)])
def test_a_card_is_told_from_a_book_by_its_shape(scan, card):
    assert looks_like_card(scan) is card


def test_the_number_typed_on_the_keypad_is_the_copy_id_on_the_label():
    assert typed_copy_id("12") == "LB-0012"
    assert typed_copy_id("7") == "LB-0007"
    assert typed_copy_id("12345") == "LB-12345"


# --- the server's words ---------------------------------------------------------------------

REFUSAL_CODES = ["unknown_copy", "unknown_patron", "not_your_loan", "on_loan", "already_borrowed",
                 "copy_unavailable", "on_hold_for_other", "limit_reached", "overdue_block",
                 "no_renewals_left", "renew_on_hold", "not_on_loan", "patron_inactive",
                 "wrong_pin", "pin_throttled", "session_expired", "unreachable"]


@pytest.mark.parametrize("code", REFUSAL_CODES)
def test_every_refusal_has_plain_words_in_both_languages(code):
    refusal = Refusal.from_error(code)
    zh, en = refusal.text("zh_CN"), refusal.text("en")
    assert re.search(r"[\u4e00-\u9fff]", zh), zh
    assert en and en.isascii() and en[0].isupper(), en
    assert code not in zh and code not in en  # the reader never sees the code
    assert zh != Refusal.from_error("other").text("zh_CN")


def test_the_server_s_words_are_preferred_and_an_unknown_code_asks_for_staff():
    server = Refusal.from_error("limit_reached", "您已借满 5 本，请先还书再借。",
                                "You have 5 books out, the most allowed.")
    assert server.text("zh_CN") == "您已借满 5 本，请先还书再借。"
    assert server.text("en") == "You have 5 books out, the most allowed."
    half = Refusal.from_error("limit_reached", "您已借满 5 本。")
    assert half.text("en") == Refusal.from_error("limit_reached").text("en")
    odd = Refusal.from_error("teapot")
    assert odd.code == "teapot"
    assert odd.text("en") == "This cannot be done now. Please ask staff."


def test_the_documented_answers_parse_and_odd_ones_are_refused():
    session = parse_session({
        "session": "s" * 43, "expires_at": "2026-11-25T09:10:00Z",
        "patron": {"card_id": CARD, "address_as": "王阿姨", "loans": 1, "max_items": 5,
                   "can_borrow": 4, "blocked": False},
        "loans": [{"loan_id": 17, "copy_id": "LB-0001", "title": "老年常见病防治手册（大字版）",
                   "author": "本书编写组", "due_on": "2026-12-25", "renewals": 0,
                   "renewals_left": 2, "overdue_days": 0, "returned_at": None}],
        "phone_url": "http://x/api/v1/library/phone/t/page"})
    assert session.patron.can_borrow == 4 and session.loans[0].due_on == date(2026, 12, 25)
    assert session.loans[0].author == "本书编写组"
    patron, loans = parse_loans({"patron": {"card_id": CARD, "loans": 0, "max_items": 5,
                                            "can_borrow": 5}, "loans": []})
    assert patron.address_as == "" and loans == ()
    back = parse_return({"client_id": "kiosk-r-1234", "copy_id": "LB-0008", "title": "t",
                         "outcome": "returned", "overdue_days": 3, "hand_to_staff": True})
    assert back.hand_to_staff and back.overdue_days == 3 and not back.queued
    for bad in ([], {"copy_id": "LB-1", "title": "t", "due_on": "soon", "renewals_left": 1},
                {"copy_id": "LB-1", "title": "t", "due_on": "2026-12-25", "renewals_left": True},
                {"copy_id": 5, "title": "t", "due_on": "2026-12-25"}):
        with pytest.raises(BadReply):
            parse_loan(bad)
    with pytest.raises(BadReply):
        parse_session({"session": "s", "patron": {"card_id": CARD}, "loans": None})


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
