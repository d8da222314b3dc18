"""The pure lending rules: every decision and every refusal, with no database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.library import rules
from server.library.rules import (
    CopyState,
    LendingPolicy,
    LoanState,
    PatronState,
    Reason,
    Refusal,
    check_borrow,
    check_renew,
    check_return,
)

P = LendingPolicy()
TODAY = date(2026, 11, 25)
ME, OTHER = 1, 2


def patron(*loans: LoanState, active: bool = True) -> PatronState:
    return PatronState(patron_id=ME, loans=loans, active=active)


def loan(copy_id: str = "LB-1", *, due_in: int = 10, renewals: int = 0) -> LoanState:
    return LoanState(copy_id=copy_id, due_on=TODAY + timedelta(days=due_in), renewals=renewals)


def borrow(p: PatronState | None, c: CopyState | None,
           policy: LendingPolicy = P) -> Reason | None:
    refusal = check_borrow(patron=p, copy=c, today=TODAY, policy=policy)
    return refusal.reason if refusal else None


FREE = CopyState("LB-9")


def test_a_free_copy_is_lent_and_due_in_thirty_days() -> None:
    assert borrow(patron(), FREE) is None
    assert rules.due_date(TODAY, P) == date(2026, 12, 25)


def test_unknown_patron_and_unknown_copy() -> None:
    assert borrow(None, FREE) is Reason.UNKNOWN_PATRON
    assert borrow(patron(), None) is Reason.UNKNOWN_COPY


def test_copy_already_on_loan_to_someone_else_or_to_me() -> None:
    assert borrow(patron(), CopyState("LB-9", on_loan_to=OTHER)) is Reason.ON_LOAN
    assert borrow(patron(), CopyState("LB-9", on_loan_to=ME)) is Reason.ALREADY_BORROWED


def test_withdrawn_copy_and_inactive_card() -> None:
    assert borrow(patron(), CopyState("LB-9", lendable=False)) is Reason.COPY_UNAVAILABLE
    assert borrow(patron(active=False), FREE) is Reason.PATRON_INACTIVE


def test_copy_kept_for_another_reader_is_refused_but_not_to_that_reader() -> None:
    assert borrow(patron(), CopyState("LB-9", held_for=OTHER)) is Reason.ON_HOLD_FOR_OTHER
    assert borrow(patron(), CopyState("LB-9", held_for=ME)) is None


def test_item_limit() -> None:
    four = [loan(f"LB-{i}") for i in range(4)]
    assert borrow(patron(*four), FREE) is None
    assert borrow(patron(*four, loan("LB-5")), FREE) is Reason.LIMIT_REACHED
    assert borrow(patron(*four), FREE, LendingPolicy(max_items=4)) is Reason.LIMIT_REACHED


def test_overdue_blocks_only_past_the_grace_period() -> None:
    assert borrow(patron(loan(due_in=-7)), FREE) is None  # 7 days late: still in grace
    assert borrow(patron(loan(due_in=-8)), FREE) is Reason.OVERDUE_BLOCK
    assert borrow(patron(loan(due_in=-1)), FREE, LendingPolicy(overdue_grace_days=0)) \
        is Reason.OVERDUE_BLOCK


def test_the_book_problem_is_told_before_the_account_problem() -> None:
    blocked = patron(loan(due_in=-30))
    assert borrow(blocked, CopyState("LB-9", on_loan_to=OTHER)) is Reason.ON_LOAN


def renew(p: PatronState, current: LoanState | None, waiting: bool = False,
          policy: LendingPolicy = P) -> Reason | None:
    refusal = check_renew(patron=p, loan=current, others_waiting=waiting, policy=policy)
    return refusal.reason if refusal else None


def test_renewals_up_to_the_limit() -> None:
    assert renew(patron(), loan(renewals=0)) is None
    assert renew(patron(), loan(renewals=1)) is None
    assert renew(patron(), loan(renewals=2)) is Reason.NO_RENEWALS_LEFT
    assert renew(patron(), loan(renewals=0), policy=LendingPolicy(max_renewals=0)) \
        is Reason.NO_RENEWALS_LEFT


def test_no_renewal_while_someone_waits_or_for_a_loan_that_is_not_mine() -> None:
    assert renew(patron(), loan(), waiting=True) is Reason.RENEW_ON_HOLD
    assert renew(patron(), None) is Reason.NOT_YOUR_LOAN
    assert renew(patron(active=False), loan()) is Reason.PATRON_INACTIVE


def test_an_overdue_loan_may_still_be_renewed() -> None:
    assert renew(patron(loan(due_in=-20)), loan(due_in=-20)) is None


def test_renewed_due_date_runs_from_today_and_never_shortens() -> None:
    assert rules.renewed_due_date(TODAY - timedelta(days=5), TODAY, P) == TODAY + timedelta(30)
    far = TODAY + timedelta(days=40)
    assert rules.renewed_due_date(far, TODAY, P) == far


def test_returns_need_a_known_copy_that_is_out() -> None:
    def reason(refusal: Refusal | None) -> Reason | None:
        return refusal.reason if refusal else None

    assert check_return(known_copy=True, on_loan=True) is None
    assert reason(check_return(known_copy=False, on_loan=False)) is Reason.UNKNOWN_COPY
    assert reason(check_return(known_copy=True, on_loan=False)) is Reason.NOT_ON_LOAN


@pytest.mark.parametrize("reason", list(Reason))
def test_every_refusal_has_words_in_both_languages_with_numbers_filled_in(reason: Reason
                                                                          ) -> None:
    refusal = Refusal(reason, LendingPolicy(max_items=7, max_renewals=3))
    assert refusal.message_zh and refusal.message_en
    assert "{" not in refusal.message_zh + refusal.message_en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refusal.message_zh)
    if reason is Reason.LIMIT_REACHED:
        assert "7" in refusal.message_zh and "7" in refusal.message_en


def test_pin_throttle() -> None:
    assert not rules.pin_throttled(4, P)
    assert rules.pin_throttled(5, P)


# --- reminders ------------------------------------------------------------------------------

def test_due_soon_reminder_from_three_days_before() -> None:
    due = TODAY + timedelta(days=3)
    assert rules.reminder_due(due + timedelta(days=1), TODAY, P) is None
    soon = rules.reminder_due(due, TODAY, P)
    assert soon is not None and soon.kind == "due_soon" and soon.days == 3
    # the same key on every day until the due date: one due-soon reminder per due date
    assert rules.reminder_due(due, TODAY + timedelta(days=2), P).key == soon.key  # type: ignore[union-attr]


def test_overdue_reminders_on_the_first_day_then_weekly() -> None:
    due = TODAY
    keys = [rules.reminder_due(due, due + timedelta(days=d), P) for d in range(1, 16)]
    assert all(k is not None and k.kind == "overdue" for k in keys)
    stages = [k.key for k in keys if k]
    assert len(set(stages)) == 3  # days 1-7, 8-14, 15
    assert stages[0] == stages[6] != stages[7]


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
       st.integers(min_value=-100, max_value=100))
def test_a_reminder_is_due_exactly_when_the_loan_is_close_or_late(due: date, offset: int) -> None:
    today = due + timedelta(days=offset)
    got = rules.reminder_due(due, today, P)
    assert (got is not None) == (offset >= -P.due_soon_days)
    if got is not None:
        assert got.kind == ("overdue" if offset > 0 else "due_soon")


# --- identifiers ----------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("LB-0001", "LB-0001"), ("lb-0001\r\n", "LB-0001"), ("\tLB-0001 ", "LB-0001"),
    ("", None), ("书-1", None), ("LB 0001", "LB0001"), ("X" * 41, None),
])
def test_copy_ids_as_a_scanner_types_them(raw: str, expected: str | None) -> None:
    assert rules.normalise_copy_id(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("978-7-5383-1877-7", "9787538318777"),
    ("9787538318777", "9787538318777"),
    ("978-7-5383-1877-6", None),            # check digit off by one
    ("7-5383-1877-0", None),                # an ISBN-10 with a wrong check digit
    ("0-306-40615-2", "9780306406157"),     # a valid ISBN-10, given as ISBN-13
    ("080442957X", "9780804429573"),
    ("12345", None), ("", None),
])
def test_isbn_checksums(raw: str, expected: str | None) -> None:
    assert rules.normalise_isbn(raw) == expected


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_every_isbn13_with_its_check_digit_is_valid_and_any_other_digit_is_not(first12: str
                                                                              ) -> None:
    first12 = "978" + first12[3:]
    good = first12 + rules._isbn13_check(first12)
    assert rules.normalise_isbn(good) == good
    for digit in "0123456789":
        if digit != good[-1]:
            assert rules.normalise_isbn(first12 + digit) is None


def test_card_ids_carry_a_luhn_digit() -> None:
    body = "123456789"
    card = f"P{body}{rules.luhn_digit(body)}"
    assert rules.card_id_valid(card)
    assert not rules.card_id_valid(card[:-1] + str((int(card[-1]) + 1) % 10))
    assert not rules.card_id_valid("P12345")
    assert not rules.card_id_valid("LB-0001")


def test_phone_numbers_and_pins() -> None:
    assert rules.normalise_phone("+86 138-0000-1234") == "13800001234"
    assert rules.normalise_phone("12345") is None
    assert rules.pin_valid("1234") and rules.pin_valid("123456")
    assert not rules.pin_valid("123") and not rules.pin_valid("12a4")


# --- catalog rows ---------------------------------------------------------------------------

def test_catalog_rows_are_checked_and_rejected_with_line_and_reason() -> None:
    rows = [
        (2, {"copy_id": "LB-1", "title": "唐诗三百首", "isbn": "978-7-5383-1877-7"}),
        (3, {"copy_id": "LB-2", "title": "", "isbn": ""}),
        (4, {"copy_id": "LB-3", "title": "宋词", "isbn": "978-7-5383-1877-6"}),
        (5, {"copy_id": "lb-1", "title": "唐诗三百首", "isbn": ""}),
        (6, {"copy_id": "LB-OLD", "title": "旧书", "isbn": ""}),
        (7, {"copy_id": "", "title": "无编号"}),
        (8, {"copy_id": "LB-4", "title": "另一本书", "isbn": "9787538318777"}),
        (9, {"copy_id": "LB 5?", "title": "坏编号"}),
        (10, {"copy_id": "LB-6", "title": "长" * 201}),
    ]
    good, bad = rules.validate_catalog_rows(rows, existing_copy_ids={"LB-OLD"})
    assert [r.copy_id for r in good] == ["LB-1"]
    assert good[0].isbn == "9787538318777"
    assert [(r.line, r.reason) for r in bad] == [
        (3, "missing_title"), (4, "bad_isbn"), (5, "duplicate_copy_id"),
        (6, "duplicate_copy_id"), (7, "missing_copy_id"), (8, "isbn_title_mismatch"),
        (9, "bad_copy_id"), (10, "too_long")]
    assert "line 2" in bad[2].detail
