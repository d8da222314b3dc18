"""The lending services on SQLite and PostgreSQL: borrowing, renewing, returning, holds, the
kiosk sign-in by card or phone and PIN, and the lists staff read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.errors import Invalid, NotAuthenticated
from server.library import services
from server.library.models import Loan, ReturnReceipt
from server.library.rules import LendingPolicy, Reason
from server.library.services import LendingRefused
from tests.library.conftest import POLICY, Readers
from tests.server.conftest import FakeClock

pytestmark = pytest.mark.usefixtures("catalog")


class _Refused:
    """``with _Refused(Reason.X): …`` asserts the block is refused for exactly that reason."""

    def __init__(self, reason: Reason) -> None:
        self.reason = reason

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:  # type: ignore[no-untyped-def]
        assert isinstance(exc, LendingRefused), f"expected a refusal {self.reason}, got {exc!r}"
        assert exc.refusal.reason is self.reason
        assert exc.code == self.reason.value
        return True


def lend(db: Session, readers: Readers, clock: FakeClock, copy_id: str, who: str = "wang",
         policy: LendingPolicy = POLICY, client_id: str | None = None) -> Loan:
    return services.borrow(db, patron=getattr(readers, who), copy_id=copy_id, now=clock(),
                           policy=policy, client_id=client_id)[0]


def give_back(db: Session, clock: FakeClock, copy_id: str, client_id: str
              ) -> services.ReturnResult:
    return services.return_copy(db, client_id=client_id, copy_id=copy_id, now=clock())


def test_borrow_gives_a_due_date_thirty_days_ahead_in_changsha(db: Session, readers: Readers,
                                                               clock: FakeClock) -> None:
    clock.now = clock.now.replace(hour=17)  # 01:00 the next day in Changsha
    loan = lend(db, readers, clock, "lb-0001\r\n")
    assert loan.copy.label == "LB-0001"
    assert loan.due_on.isoformat() == "2026-12-26"
    assert [x.id for x in services.open_loans(db, patron=readers.wang)] == [loan.id]


def test_each_refusal_of_a_borrow(db: Session, readers: Readers, clock: FakeClock) -> None:
    lend(db, readers, clock, "LB-0001")
    with _Refused(Reason.ON_LOAN):
        lend(db, readers, clock, "LB-0001", who="li")
    with _Refused(Reason.ALREADY_BORROWED):
        lend(db, readers, clock, "LB-0001")
    with _Refused(Reason.UNKNOWN_COPY):
        lend(db, readers, clock, "LB-9999")
    with _Refused(Reason.UNKNOWN_COPY):
        lend(db, readers, clock, "这不是编号")
    for label in ("LB-0002", "LB-0003", "LB-0004", "LB-0005"):
        lend(db, readers, clock, label)
    with _Refused(Reason.LIMIT_REACHED):
        lend(db, readers, clock, "LB-0006")


def test_a_loan_overdue_past_grace_blocks_borrowing_until_returned(
        db: Session, readers: Readers, clock: FakeClock) -> None:
    lend(db, readers, clock, "LB-0001")
    clock.advance(days=30 + 7)
    lend(db, readers, clock, "LB-0002")  # 7 days late: still within the grace period
    clock.advance(days=1)
    with _Refused(Reason.OVERDUE_BLOCK):
        lend(db, readers, clock, "LB-0003")
    give_back(db, clock, "LB-0001", "ret-00000001")
    lend(db, readers, clock, "LB-0003")


def test_renewals_and_their_refusals(db: Session, readers: Readers, clock: FakeClock) -> None:
    loan = lend(db, readers, clock, "LB-0001")
    first_due = loan.due_on
    clock.advance(days=20)
    renewed = services.renew(db, patron=readers.wang, copy_id="LB-0001", now=clock(),
                             policy=POLICY)
    assert renewed.renewals == 1 and renewed.due_on == first_due + timedelta(days=20)
    services.renew(db, patron=readers.wang, copy_id="LB-0001", now=clock(), policy=POLICY)
    with _Refused(Reason.NO_RENEWALS_LEFT):
        services.renew(db, patron=readers.wang, copy_id="LB-0001", now=clock(), policy=POLICY)
    with _Refused(Reason.NOT_YOUR_LOAN):
        services.renew(db, patron=readers.li, copy_id="LB-0001", now=clock(), policy=POLICY)
    with _Refused(Reason.UNKNOWN_COPY):
        services.renew(db, patron=readers.li, copy_id="NOPE-1", now=clock(), policy=POLICY)


def test_no_renewal_while_another_reader_waits(db: Session, readers: Readers,
                                               clock: FakeClock) -> None:
    loan = lend(db, readers, clock, "LB-0006")  # 太极拳入门图解: one copy only
    services.place_hold(db, patron=readers.li, book_id=loan.copy.book_id, now=clock())
    with _Refused(Reason.RENEW_ON_HOLD):
        services.renew(db, patron=readers.wang, copy_id="LB-0006", now=clock(), policy=POLICY)


def test_a_returned_copy_someone_waits_for_is_flagged_and_kept_for_them(
        db: Session, readers: Readers, clock: FakeClock) -> None:
    loan = lend(db, readers, clock, "LB-0006")
    hold = services.place_hold(db, patron=readers.li, book_id=loan.copy.book_id, now=clock())
    assert hold.status == "waiting"
    clock.advance(days=3)
    result = give_back(db, clock, "LB-0006", "ret-00000002")
    assert result.hand_to_staff and result.receipt.hold_id == hold.id
    assert hold.status == "ready" and hold.copy is not None and hold.copy.label == "LB-0006"
    assert [h.id for h in services.hold_queue(db, status="ready")] == [hold.id]
    with _Refused(Reason.ON_HOLD_FOR_OTHER):
        lend(db, readers, clock, "LB-0006", who="zhou")
    lend(db, readers, clock, "LB-0006", who="li")
    db.refresh(hold)
    assert hold.status == "fulfilled" and hold.ready_key is None


def test_a_hold_on_a_title_with_a_copy_on_the_shelf_keeps_that_copy(
        db: Session, readers: Readers, clock: FakeClock) -> None:
    book_id = lend(db, readers, clock, "LB-0001").copy.book_id  # LB-0002 still on the shelf
    hold = services.place_hold(db, patron=readers.li, book_id=book_id, now=clock())
    assert hold.status == "ready" and hold.copy is not None and hold.copy.label == "LB-0002"
    again = services.place_hold(db, patron=readers.li, book_id=book_id, now=clock())
    assert again.id == hold.id
    # cancelling passes the copy to the next in the queue, or back to the shelf
    queued = services.place_hold(db, patron=readers.zhou, book_id=book_id, now=clock())
    assert queued.status == "waiting"
    services.cancel_hold(db, hold_id=hold.id, now=clock())
    db.refresh(queued)
    assert queued.status == "ready" and queued.copy is not None
    assert queued.copy.label == "LB-0002"


def test_returns_are_applied_once_per_client_id_even_after_the_copy_is_lent_again(
        db: Session, readers: Readers, clock: FakeClock) -> None:
    lend(db, readers, clock, "LB-0001")
    clock.advance(days=2)
    first = give_back(db, clock, "LB-0001", "offline-queue-0001")
    assert not first.replayed and first.receipt.outcome == "returned"
    lend(db, readers, clock, "LB-0001", who="li")
    replay = give_back(db, clock, "LB-0001", "offline-queue-0001")
    assert replay.replayed and replay.receipt.id == first.receipt.id
    assert len(services.open_loans(db, patron=readers.li)) == 1  # li's loan is untouched
    refused_once = give_back(db, clock, "LB-0009", "offline-queue-0002")
    assert refused_once.receipt.outcome == "not_on_loan"
    assert give_back(db, clock, "LB-0009", "offline-queue-0002").replayed
    assert give_back(db, clock, "NOPE", "offline-queue-0003").receipt.outcome == "unknown_copy"
    assert db.scalar(select(func.count()).select_from(ReturnReceipt)) == 3


def test_a_queued_return_keeps_the_time_it_was_dropped_within_the_loans_life(
        db: Session, readers: Readers, clock: FakeClock) -> None:
    loan = lend(db, readers, clock, "LB-0001")
    dropped = clock() + timedelta(days=1)
    clock.advance(days=3)
    result = services.return_copy(db, client_id="queued-00000001", copy_id="LB-0001",
                                  now=clock(), returned_at=dropped)
    assert result.receipt.returned_at == dropped
    lend(db, readers, clock, "LB-0002")
    skewed = services.return_copy(db, client_id="queued-00000002", copy_id="LB-0002",
                                  now=clock(), returned_at=clock() - timedelta(days=400))
    assert skewed.receipt.returned_at == clock()  # never before the loan began
    assert loan.returned_at == dropped


def test_a_retried_borrow_answers_with_the_first_loan(db: Session, readers: Readers,
                                                      clock: FakeClock) -> None:
    first = lend(db, readers, clock, "LB-0001", client_id="borrow-0000001")
    again, created = services.borrow(db, patron=readers.wang, copy_id="LB-0001", now=clock(),
                                     policy=POLICY, client_id="borrow-0000001")
    assert again.id == first.id and not created
    with pytest.raises(Invalid):
        lend(db, readers, clock, "LB-0002", who="li", client_id="borrow-0000001")


def test_identify_by_card_or_phone_and_pin_with_throttling(db: Session, readers: Readers,
                                                           clock: FakeClock) -> None:
    patron, token = services.identify(db, now=clock(), policy=POLICY,
                                      card_id=readers.wang.card_id.lower() + "\n")
    assert patron.id == readers.wang.id and len(token) >= 40
    assert services.session_patron(db, token=token, now=clock(), policy=POLICY).id == patron.id
    clock.advance(minutes=POLICY.session_minutes + 1)
    with pytest.raises(NotAuthenticated):
        services.session_patron(db, token=token, now=clock(), policy=POLICY)

    patron, _ = services.identify(db, now=clock(), policy=POLICY, phone="138 0000 1234",
                                  pin="1234")
    assert patron.id == readers.wang.id
    with _Refused(Reason.UNKNOWN_PATRON):
        services.identify(db, now=clock(), policy=POLICY, card_id="P0000000000")
    for _ in range(POLICY.pin_attempts):
        with _Refused(Reason.WRONG_PIN):
            services.identify(db, now=clock(), policy=POLICY, phone="13800001234", pin="9999")
    with _Refused(Reason.PIN_THROTTLED):  # even the right PIN waits now
        services.identify(db, now=clock(), policy=POLICY, phone="13800001234", pin="1234")
    # another reader's phone is not affected; and the pause ends
    services.identify(db, now=clock(), policy=POLICY, phone="13900005678", pin="5678")
    clock.advance(minutes=POLICY.pin_window_minutes + 1)
    services.identify(db, now=clock(), policy=POLICY, phone="13800001234", pin="1234")
    with _Refused(Reason.WRONG_PIN):  # a reader with no PIN cannot sign in by phone
        services.identify(db, now=clock(), policy=POLICY, phone="13700009999", pin="0000")


def test_an_inactive_card_is_refused(db: Session, readers: Readers, clock: FakeClock) -> None:
    readers.zhou.active = False
    db.commit()
    with _Refused(Reason.PATRON_INACTIVE):
        services.identify(db, now=clock(), policy=POLICY, card_id=readers.zhou.card_id)


def test_enrolment_is_idempotent_and_tokens_are_unguessable(db: Session, readers: Readers,
                                                            clock: FakeClock) -> None:
    again, created = services.enrol_patron(db, resident_id=readers.wang.resident_id,
                                           now=clock())
    assert again.id == readers.wang.id and not created
    assert len(readers.wang.phone_token) >= 32  # 192 random bits, URL-safe
    assert readers.wang.phone_token != readers.li.phone_token
    with pytest.raises(Invalid):
        services.set_pin(db, patron=readers.wang, pin="12")


def test_staff_lists_history_and_overdue(db: Session, readers: Readers, clock: FakeClock
                                         ) -> None:
    lend(db, readers, clock, "LB-0001")
    lend(db, readers, clock, "LB-0003", who="li")
    clock.advance(days=1)
    give_back(db, clock, "LB-0001", "ret-00000003")
    lend(db, readers, clock, "LB-0001", who="zhou")
    history = services.loan_history(db, copy_id="LB-0001")
    assert [loan.patron_id for loan in history] == [readers.zhou.id, readers.wang.id]
    assert len(services.loan_history(db, card_id=readers.li.card_id)) == 1
    assert len(services.loan_history(db, open_only=True)) == 2
    clock.advance(days=31)
    today = services.local_today(clock())
    overdue = services.overdue_loans(db, today=today)
    assert [loan.copy.label for loan, _ in overdue] == ["LB-0003", "LB-0001"]
    books = services.catalog(db, query="太极")
    assert [b.title for b in books] == ["太极拳入门图解"]
    assert services.catalog(db, query="LB-0007")[0].title.startswith("中国通史")
