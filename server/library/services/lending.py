"""Borrowing, renewing and returning a copy, and the holds a return may fill: each step asks
the pure rules in ``server.library.rules`` first and stores what they allow.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from server.errors import Invalid, NotFound
from server.library import rules
from server.library.models import (
    Book,
    Copy,
    Hold,
    Loan,
    Patron,
    ReturnReceipt,
)
from server.library.rules import LendingPolicy, Reason, Refusal
from server.library.services.common import (
    DEFAULT_TZ,
    copy_by_label,
    copy_state,
    local_today,
    open_loan_of,
    patron_state,
    ready_hold_of,
    refuse,
)

log = logging.getLogger(__name__)


# --- borrowing, renewing, returning ---------------------------------------------------------

def borrow(db: Session, *, patron: Patron, copy_id: str, now: datetime, policy: LendingPolicy,
           tz: str = DEFAULT_TZ, client_id: str | None = None, via: str = "kiosk"
           ) -> tuple[Loan, bool]:
    """Lend a copy (by the id the scanner typed). A retry with the same ``client_id`` answers
    with the first loan. Returns the loan and whether it is new."""
    if client_id is not None:
        earlier = db.scalar(select(Loan).where(Loan.client_id == client_id))
        if earlier is not None:
            if earlier.patron_id != patron.id:
                raise Invalid("client_id: already used for another reader's loan")
            return earlier, False
    today = local_today(now, tz)
    copy = copy_by_label(db, copy_id)
    refusal = rules.check_borrow(patron=patron_state(db, patron),
                                 copy=copy_state(db, copy) if copy else None,
                                 today=today, policy=policy)
    if refusal is not None:
        raise refuse(refusal)
    if copy is None:  # check_borrow has refused it already; this keeps the type checker sure
        raise refuse(Refusal(Reason.UNKNOWN_COPY, policy))
    loan = Loan(copy=copy, patron=patron, borrowed_at=now, due_on=rules.due_date(today, policy),
                open_key=copy.id, client_id=client_id, via=via)
    db.add(loan)
    _fulfil_holds(db, patron=patron, copy=copy, now=now)
    try:
        db.commit()
    except IntegrityError:
        # Another kiosk lent the same copy a moment ago (or the same borrow raced itself).
        db.rollback()
        if client_id is not None:
            earlier = db.scalar(select(Loan).where(Loan.client_id == client_id))
            if earlier is not None and earlier.patron_id == patron.id:
                return earlier, False
        raise refuse(Refusal(Reason.ON_LOAN, policy)) from None
    log.info("library loan %s: copy %s to patron %s, due %s", loan.id, copy.label,
             patron.card_id, loan.due_on)
    return loan, True


def _fulfil_holds(db: Session, *, patron: Patron, copy: Copy, now: datetime) -> None:
    """Borrowing closes this patron's hold on the title, whichever copy they took."""
    holds = db.scalars(select(Hold).where(
        Hold.patron_id == patron.id, Hold.book_id == copy.book_id,
        Hold.status.in_(("waiting", "ready"))))
    for hold in holds:
        if hold.status == "ready" and hold.copy_id != copy.id:
            continue  # another copy is kept for them; leave it until staff cancel it
        hold.status, hold.ready_key, hold.closed_at = "fulfilled", None, now
        break


def renew(db: Session, *, patron: Patron, copy_id: str, now: datetime, policy: LendingPolicy,
          tz: str = DEFAULT_TZ) -> Loan:
    today = local_today(now, tz)
    copy = copy_by_label(db, copy_id)
    if copy is None:
        raise refuse(Refusal(Reason.UNKNOWN_COPY, policy))
    loan = open_loan_of(db, copy)
    if loan is not None and loan.patron_id != patron.id:
        loan = None
    waiting = loan is not None and db.scalar(select(Hold.id).where(
        Hold.book_id == copy.book_id, Hold.status == "waiting",
        Hold.patron_id != patron.id).limit(1)) is not None
    refusal = rules.check_renew(
        patron=patron_state(db, patron),
        loan=rules.LoanState(copy.label, loan.due_on, loan.renewals) if loan else None,
        others_waiting=waiting, policy=policy)
    if refusal is not None:
        raise refuse(refusal)
    if loan is None:
        raise refuse(Refusal(Reason.NOT_YOUR_LOAN, policy))
    loan.due_on = rules.renewed_due_date(loan.due_on, today, policy)
    loan.renewals += 1
    db.commit()
    log.info("library loan %s renewed (%s of %s), due %s", loan.id, loan.renewals,
             policy.max_renewals, loan.due_on)
    return loan


@dataclass(frozen=True)
class ReturnResult:
    receipt: ReturnReceipt
    replayed: bool

    @property
    def hand_to_staff(self) -> bool:
        """The copy is kept for a waiting reader: it goes to staff, not back on the shelf."""
        return self.receipt.hold_id is not None


def return_copy(db: Session, *, client_id: str, copy_id: str, now: datetime,
                returned_at: datetime | None = None, via: str = "kiosk") -> ReturnResult:
    """Check a copy in; no patron needed. Applied exactly once per ``client_id``: the kiosk
    queues returns while offline and replays them, and a replay answers from the receipt.

    ``returned_at`` is when the reader dropped the book (the kiosk's clock, for queued returns);
    it is kept within the loan's life so a skewed kiosk clock cannot move history.
    A refused return (unknown copy, not on loan) is recorded too, so its replay is refused the
    same way even if the copy has been lent again since.
    """
    earlier = db.scalar(select(ReturnReceipt).where(ReturnReceipt.client_id == client_id))
    if earlier is not None:
        return ReturnResult(earlier, replayed=True)
    # What the scanner typed, kept for staff even when it names no copy (made printable).
    label = rules.normalise_copy_id(copy_id) or "".join(
        c for c in copy_id if c.isprintable())[:40]
    copy = copy_by_label(db, copy_id)
    loan = open_loan_of(db, copy) if copy else None
    refusal = rules.check_return(known_copy=copy is not None, on_loan=loan is not None)
    at = min(returned_at or now, now)
    receipt = ReturnReceipt(client_id=client_id, copy_label=label, returned_at=at,
                            received_at=now, via=via,
                            outcome=refusal.reason.value if refusal else "returned")
    if loan is not None and copy is not None:
        at = max(at, loan.borrowed_at)
        receipt.returned_at = at
        loan.returned_at, loan.open_key = at, None
        receipt.loan = loan
        hold = _trap_for_hold(db, copy=copy, now=now)
        receipt.hold = hold
    db.add(receipt)
    try:
        db.commit()
    except IntegrityError:
        # The same queued return arrived twice at once; the other delivery applied it.
        db.rollback()
        earlier = db.scalar(select(ReturnReceipt).where(ReturnReceipt.client_id == client_id))
        if earlier is None:
            raise
        return ReturnResult(earlier, replayed=True)
    if loan is not None:
        log.info("library loan %s returned (copy %s)%s", loan.id, label,
                 f"; kept for hold {receipt.hold_id}" if receipt.hold_id else "")
    return ReturnResult(receipt, replayed=False)


def _trap_for_hold(db: Session, *, copy: Copy, now: datetime) -> Hold | None:
    """Give a copy that has come back to the longest-waiting reader of its title."""
    if copy.status != "available" or ready_hold_of(db, copy) is not None:
        return None
    hold = db.scalar(select(Hold).where(Hold.book_id == copy.book_id, Hold.status == "waiting")
                     .order_by(Hold.placed_at, Hold.id).limit(1))
    if hold is not None:
        hold.status, hold.copy, hold.ready_key, hold.ready_at = "ready", copy, copy.id, now
        log.info("library hold %s ready: copy %s kept for patron %s", hold.id, copy.label,
                 hold.patron_id)
    return hold


# --- holds ----------------------------------------------------------------------------------

def place_hold(db: Session, *, patron: Patron, book_id: int, now: datetime) -> Hold:
    """Put a patron in the queue for a title. If a copy is on the shelf and free, it is kept
    for them at once (staff take it off the shelf: the hold list says which)."""
    book = db.get(Book, book_id)
    if book is None:
        raise NotFound(f"no book {book_id}")
    existing = db.scalar(select(Hold).where(Hold.patron_id == patron.id, Hold.book_id == book_id,
                                            Hold.status.in_(("waiting", "ready"))))
    if existing is not None:
        return existing
    hold = Hold(book=book, patron=patron, status="waiting", placed_at=now)
    db.add(hold)
    db.flush()
    for copy in book.copies:
        if copy.status == "available" and open_loan_of(db, copy) is None \
                and ready_hold_of(db, copy) is None:
            hold.status, hold.copy, hold.ready_key, hold.ready_at = "ready", copy, copy.id, now
            break
    db.commit()
    log.info("library hold %s placed: book %s for patron %s (%s)", hold.id, book_id,
             patron.card_id, hold.status)
    return hold


def cancel_hold(db: Session, *, hold_id: int, now: datetime) -> Hold:
    hold = db.get(Hold, hold_id)
    if hold is None:
        raise NotFound(f"no hold {hold_id}")
    if hold.status in ("fulfilled", "cancelled"):
        return hold
    copy = hold.copy if hold.status == "ready" else None
    hold.status, hold.ready_key, hold.closed_at = "cancelled", None, now
    db.flush()
    if copy is not None:
        _trap_for_hold(db, copy=copy, now=now)  # the next reader in the queue, if any
    db.commit()
    return hold


def hold_queue(db: Session, *, status: str | None = None, limit: int = 100, offset: int = 0
               ) -> list[Hold]:
    query = select(Hold).options(selectinload(Hold.book), selectinload(Hold.copy),
                                 selectinload(Hold.patron).selectinload(Patron.resident))
    if status is not None:
        query = query.where(Hold.status == status)
    return list(db.scalars(query.order_by(Hold.placed_at, Hold.id).limit(limit).offset(offset)))


