"""The library's pure parts (kiosk.lending): the scanner's keystrokes, card and copy ids, the
refusals' words, and the server's answers parsed."""

from __future__ import annotations

import re
from datetime import date

import pytest

from kiosk.errors import BadReply
from kiosk.lending import (
    Refusal,
    ScanBuffer,
    looks_like_card,
    parse_loan,
    parse_loans,
    parse_return,
    parse_session,
    typed_copy_id,
)
from tests.kiosk.lending_support import CARD

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
