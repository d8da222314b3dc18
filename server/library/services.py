"""Library services: the pure rules in ``rules`` applied to the tables in ``models``.

Routes and commands call these; nothing here knows about HTTP. Every function takes keyword-only
arguments, is handed ``now`` (never reads the clock) and commits its own work. A rule's "no"
becomes :class:`LendingRefused`, a server error whose ``code`` is the rule's reason code, so the
API layer answers it as a 4xx JSON error and the kiosk can show the Chinese or English words.

Errors::

    ServerError (server.errors)
    └── LendingRefused                       code = rules.Reason value
        ├── PatronOrCopyNotFound(LookupError)   404  unknown_copy, unknown_patron, not_your_loan
        ├── LendingConflict(ValueError)         409  on_loan, limit_reached, overdue_block, …
        ├── PinRefused(PermissionError)         401  wrong_pin
        └── PinThrottled(RuntimeError)          429  pin_throttled
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from server.errors import Invalid, NotAuthenticated, NotFound, ServerError
from server.library import rules
from server.library.models import (
    Book,
    Copy,
    Hold,
    KioskSession,
    Loan,
    Patron,
    PinFailure,
    Reminder,
    ReturnReceipt,
)
from server.library.rules import LendingPolicy, Reason, Refusal
from server.models import Building, Resident, Unit
from server.security import new_phone_token

__all__ = [
    "DEFAULT_TZ",
    "ImportReport",
    "LendingConflict",
    "LendingRefused",
    "PatronOrCopyNotFound",
    "PinRefused",
    "PinThrottled",
    "ReminderSummary",
    "ReturnResult",
    "SESSION_EXPIRED",
    "borrow",
    "cancel_hold",
    "catalog",
    "copies_to_label",
    "end_session",
    "enrol_patron",
    "enrol_walk_in",
    "hold_queue",
    "identify",
    "import_catalog",
    "loan_history",
    "local_today",
    "mark_cards_printed",
    "mark_labelled",
    "copies_on_loan",
    "open_loans",
    "overdue_loans",
    "patron_by_card",
    "patron_by_phone_token",
    "patron_holds",
    "patron_reminders",
    "patrons_for_cards",
    "refuse",
    "place_hold",
    "reminder_counts",
    "renew",
    "return_copy",
    "run_daily_reminders",
    "session_patron",
    "set_pin",
]

log = logging.getLogger(__name__)
DEFAULT_TZ = "Asia/Shanghai"
SESSION_EXPIRED = "session_expired"
# A 4-6 digit PIN has at most a million values, so no hash cost makes a stolen hash safe; what
# protects PINs is the throttle and the database staying private. So PINs get OWASP's minimum
# Argon2id cost (about 0.1 s on a Pi) rather than the passwords' heavier one, which would make
# every kiosk sign-in by phone slow.
_pin_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified against when no patron has the phone number, so timing does not reveal which do.
_DUMMY_PIN_HASH = _pin_hasher.hash("000000")


def hash_pin(pin: str) -> str:
    return _pin_hasher.hash(pin)


def verify_pin(pin_hash: str, pin: str) -> bool:
    try:
        return _pin_hasher.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


# --- errors ---------------------------------------------------------------------------------

class LendingRefused(ServerError):
    """A lending rule said no. ``refusal`` carries the reason and both languages' words."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(f"{refusal.message_zh} {refusal.message_en}", code=refusal.reason.value)
        self.refusal = refusal


class PatronOrCopyNotFound(LendingRefused, LookupError):
    status_code = 404


class LendingConflict(LendingRefused, ValueError):
    status_code = 409


class PinRefused(LendingRefused, PermissionError):
    status_code = 401


class PinThrottled(LendingRefused, RuntimeError):
    status_code = 429


_NOT_FOUND = {Reason.UNKNOWN_COPY, Reason.UNKNOWN_PATRON, Reason.NOT_YOUR_LOAN}


def refuse(refusal: Refusal) -> LendingRefused:
    """The error to raise for a refusal, of the class that gives it the right HTTP status."""
    if refusal.reason in _NOT_FOUND:
        return PatronOrCopyNotFound(refusal)
    if refusal.reason is Reason.WRONG_PIN:
        return PinRefused(refusal)
    if refusal.reason is Reason.PIN_THROTTLED:
        return PinThrottled(refusal)
    return LendingConflict(refusal)


# --- small helpers --------------------------------------------------------------------------

def local_today(now: datetime, tz: str = DEFAULT_TZ) -> date:
    """The date at the service point: a loan due "on the 25th" is due in Changsha's day."""
    return now.astimezone(ZoneInfo(tz)).date()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _copy_by_label(db: Session, raw: str) -> Copy | None:
    label = rules.normalise_copy_id(raw)
    if label is None:
        return None
    return db.scalar(select(Copy).where(Copy.label == label))


def _open_loan_of(db: Session, copy: Copy) -> Loan | None:
    return db.scalar(select(Loan).where(Loan.open_key == copy.id))


def _ready_hold_of(db: Session, copy: Copy) -> Hold | None:
    return db.scalar(select(Hold).where(Hold.ready_key == copy.id))


def open_loans(db: Session, *, patron: Patron) -> list[Loan]:
    return list(db.scalars(
        select(Loan).where(Loan.patron_id == patron.id, Loan.returned_at.is_(None))
        .options(selectinload(Loan.copy).selectinload(Copy.book))
        .order_by(Loan.due_on, Loan.id)))


def _patron_state(db: Session, patron: Patron) -> rules.PatronState:
    return rules.PatronState(
        patron_id=patron.id, active=patron.active,
        loans=[rules.LoanState(copy_id=loan.copy.label, due_on=loan.due_on,
                               renewals=loan.renewals) for loan in open_loans(db, patron=patron)])


def _copy_state(db: Session, copy: Copy) -> rules.CopyState:
    loan = _open_loan_of(db, copy)
    hold = _ready_hold_of(db, copy)
    return rules.CopyState(copy_id=copy.label, lendable=copy.status == "available",
                           on_loan_to=loan.patron_id if loan else None,
                           held_for=hold.patron_id if hold else None)


# --- patrons --------------------------------------------------------------------------------

def _new_card_id(db: Session) -> str:
    while True:
        body = "".join(secrets.choice("0123456789") for _ in range(9))
        card_id = f"P{body}{rules.luhn_digit(body)}"
        if db.scalar(select(Patron.id).where(Patron.card_id == card_id)) is None:
            return card_id


def enrol_patron(db: Session, *, resident_id: int, now: datetime, pin: str | None = None
                 ) -> tuple[Patron, bool]:
    """Make a resident a library patron (or find them one); return it and whether it is new."""
    resident = db.get(Resident, resident_id)
    if resident is None:
        raise NotFound(f"no resident {resident_id}")
    patron = db.scalar(select(Patron).where(Patron.resident_id == resident_id))
    created = patron is None
    if patron is None:
        patron = Patron(resident=resident, card_id=_new_card_id(db),
                        phone_token=new_phone_token(), created_at=now)
        db.add(patron)
    if pin is not None:
        _set_pin(patron, pin)
    db.commit()
    if created:
        log.info("library patron %s enrolled (resident %s)", patron.card_id, resident_id)
    return patron, created


def enrol_walk_in(db: Session, *, address_as: str, phone: str, now: datetime,
                  unit_code: str | None = None, pin: str | None = None) -> tuple[Patron, bool]:
    """Enrol a resident who comes to the desk: found by phone number if the service point
    already knows them (a request they filed), else added; then made a reader as
    :func:`enrol_patron` does. Returns the patron and whether they are a new reader."""
    number = rules.normalise_phone(phone)
    if number is None:
        raise Invalid("phone: a mainland mobile number of 11 digits")
    address_as = address_as.strip()
    if not 1 <= len(address_as) <= 40:
        raise Invalid("name: how to address them, 1 to 40 characters")
    if pin is not None and not rules.pin_valid(pin):
        raise Invalid("pin: must be 4 to 6 digits")
    unit = None
    if unit_code:
        unit = db.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None and db.scalar(select(Building.id).where(Building.code == unit_code)) \
                is None:
            raise Invalid(f"unit: no unit or building {unit_code!r}")
    resident = db.scalar(select(Resident).where(Resident.phone == number).limit(1))
    if resident is None:
        resident = Resident(address_as=address_as, phone=number,
                            unit_id=unit.id if unit else None, created_at=now)
        db.add(resident)
        db.flush()
    return enrol_patron(db, resident_id=resident.id, now=now, pin=pin)


def _set_pin(patron: Patron, pin: str) -> None:
    if not rules.pin_valid(pin):
        raise Invalid("pin: must be 4 to 6 digits")
    patron.pin_hash = hash_pin(pin)


def set_pin(db: Session, *, patron: Patron, pin: str) -> Patron:
    _set_pin(patron, pin)
    db.commit()
    log.info("library patron %s has a new PIN", patron.card_id)
    return patron


def patron_by_card(db: Session, *, card_id: str) -> Patron:
    card = rules.normalise_copy_id(card_id)  # the same scanner noise; card ids are upper case
    patron = None
    if card is not None and rules.card_id_valid(card):
        patron = db.scalar(select(Patron).where(Patron.card_id == card))
    if patron is None:
        raise refuse(Refusal(Reason.UNKNOWN_PATRON))
    return patron


def patron_by_phone_token(db: Session, *, token: str) -> Patron:
    patron = db.scalar(select(Patron).where(Patron.phone_token == token))
    if patron is None:
        raise NotFound("no library card with this link")
    return patron


def _patron_by_pin(db: Session, *, phone: str, pin: str, now: datetime,
                   policy: LendingPolicy) -> Patron:
    number = rules.normalise_phone(phone)
    if number is None:
        raise refuse(Refusal(Reason.WRONG_PIN, policy))
    since = now - timedelta(minutes=policy.pin_window_minutes)
    failures = db.scalar(select(func.count()).select_from(PinFailure)
                         .where(PinFailure.phone == number, PinFailure.at > since)) or 0
    if rules.pin_throttled(failures, policy):
        raise refuse(Refusal(Reason.PIN_THROTTLED, policy))
    candidates = list(db.scalars(
        select(Patron).join(Resident).where(Resident.phone == number)
        .where(Patron.pin_hash.is_not(None)).order_by(Patron.id)))
    for patron in candidates:
        if patron.pin_hash and verify_pin(patron.pin_hash, pin):
            db.execute(delete(PinFailure).where(PinFailure.phone == number))
            return patron
    if not candidates:
        verify_pin(_DUMMY_PIN_HASH, pin)
    db.add(PinFailure(phone=number, at=now))
    db.commit()
    log.info("wrong library PIN for phone ending %s", number[-4:])
    raise refuse(Refusal(Reason.WRONG_PIN, policy))


def identify(db: Session, *, now: datetime, policy: LendingPolicy, card_id: str | None = None,
             phone: str | None = None, pin: str | None = None) -> tuple[Patron, str]:
    """Identify a patron by card, or by phone number and PIN; open a kiosk session for them.
    Returns the patron and the session token (given out once; only its hash is kept)."""
    if card_id is not None:
        patron = patron_by_card(db, card_id=card_id)
    elif phone is not None and pin is not None:
        patron = _patron_by_pin(db, phone=phone, pin=pin, now=now, policy=policy)
    else:
        raise Invalid("give card_id, or phone and pin")
    if not patron.active:
        raise refuse(Refusal(Reason.PATRON_INACTIVE, policy))
    token = secrets.token_urlsafe(32)
    db.execute(delete(KioskSession).where(KioskSession.expires_at <= now))
    db.add(KioskSession(token_hash=_digest(token), patron=patron, created_at=now,
                        expires_at=now + timedelta(minutes=policy.session_minutes)))
    db.commit()
    log.info("library patron %s identified at the kiosk", patron.card_id)
    return patron, token


def session_patron(db: Session, *, token: str, now: datetime, policy: LendingPolicy) -> Patron:
    """The patron of a live kiosk session; each use keeps it alive for another period."""
    session = db.scalar(select(KioskSession).where(KioskSession.token_hash == _digest(token)))
    if session is None or session.expires_at <= now:
        raise NotAuthenticated("the reader's session has ended; scan the card again",
                               code=SESSION_EXPIRED)
    session.expires_at = now + timedelta(minutes=policy.session_minutes)
    db.commit()
    return session.patron


def end_session(db: Session, *, token: str) -> None:
    db.execute(delete(KioskSession).where(KioskSession.token_hash == _digest(token)))
    db.commit()


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
    copy = _copy_by_label(db, copy_id)
    refusal = rules.check_borrow(patron=_patron_state(db, patron),
                                 copy=_copy_state(db, copy) if copy else None,
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
    copy = _copy_by_label(db, copy_id)
    if copy is None:
        raise refuse(Refusal(Reason.UNKNOWN_COPY, policy))
    loan = _open_loan_of(db, copy)
    if loan is not None and loan.patron_id != patron.id:
        loan = None
    waiting = loan is not None and db.scalar(select(Hold.id).where(
        Hold.book_id == copy.book_id, Hold.status == "waiting",
        Hold.patron_id != patron.id).limit(1)) is not None
    refusal = rules.check_renew(
        patron=_patron_state(db, patron),
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
    copy = _copy_by_label(db, copy_id)
    loan = _open_loan_of(db, copy) if copy else None
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
    if copy.status != "available" or _ready_hold_of(db, copy) is not None:
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
        if copy.status == "available" and _open_loan_of(db, copy) is None \
                and _ready_hold_of(db, copy) is None:
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


# --- lists for staff and the phone page -----------------------------------------------------

def catalog(db: Session, *, query: str | None = None, limit: int = 50, offset: int = 0
            ) -> list[Book]:
    stmt = select(Book).options(selectinload(Book.copies))
    if query:
        like = f"%{query}%"
        stmt = stmt.where(or_(Book.title.like(like), Book.author.like(like),
                              Book.isbn == query, Book.category == query,
                              Book.copies.any(Copy.label == query.upper())))
    return list(db.scalars(stmt.order_by(Book.title, Book.id).limit(limit).offset(offset)))


def copies_on_loan(db: Session, *, copy_ids: Sequence[int]) -> set[int]:
    """Which of these copies are out (for showing a catalog's shelf status)."""
    if not copy_ids:
        return set()
    return set(db.scalars(select(Loan.copy_id).where(Loan.open_key.in_(copy_ids))))


def loan_history(db: Session, *, card_id: str | None = None, copy_id: str | None = None,
                 open_only: bool = False, limit: int = 100, offset: int = 0) -> list[Loan]:
    stmt = select(Loan).options(selectinload(Loan.copy).selectinload(Copy.book),
                                selectinload(Loan.patron).selectinload(Patron.resident))
    if card_id is not None:
        stmt = stmt.join(Patron, Loan.patron_id == Patron.id).where(
            Patron.card_id == card_id.strip().upper())
    if copy_id is not None:
        stmt = stmt.join(Copy, Loan.copy_id == Copy.id).where(
            Copy.label == (rules.normalise_copy_id(copy_id) or ""))
    if open_only:
        stmt = stmt.where(Loan.returned_at.is_(None))
    return list(db.scalars(stmt.order_by(Loan.borrowed_at.desc(), Loan.id.desc())
                           .limit(limit).offset(offset)))


def overdue_loans(db: Session, *, today: date) -> list[tuple[Loan, Reminder | None]]:
    """Open loans past their due date, most overdue first, each with its latest reminder."""
    loans = list(db.scalars(
        select(Loan).where(Loan.returned_at.is_(None), Loan.due_on < today)
        .options(selectinload(Loan.copy).selectinload(Copy.book),
                 selectinload(Loan.patron).selectinload(Patron.resident))
        .order_by(Loan.due_on, Loan.id)))
    latest: dict[int, Reminder] = {}
    if loans:
        for reminder in db.scalars(select(Reminder).where(
                Reminder.loan_id.in_([loan.id for loan in loans])).order_by(Reminder.id)):
            latest[reminder.loan_id] = reminder
    return [(loan, latest.get(loan.id)) for loan in loans]


def reminder_counts(db: Session, *, loan_ids: Sequence[int]) -> dict[int, int]:
    if not loan_ids:
        return {}
    rows = db.execute(select(Reminder.loan_id, func.count()).where(Reminder.loan_id.in_(loan_ids))
                      .group_by(Reminder.loan_id))
    return {loan_id: count for loan_id, count in rows}


def patron_reminders(db: Session, *, patron: Patron, limit: int = 20) -> list[Reminder]:
    return list(db.scalars(
        select(Reminder).join(Loan).where(Loan.patron_id == patron.id)
        .options(selectinload(Reminder.loan).selectinload(Loan.copy).selectinload(Copy.book))
        .order_by(Reminder.created_at.desc(), Reminder.id.desc()).limit(limit)))


def patron_holds(db: Session, *, patron: Patron) -> list[Hold]:
    return list(db.scalars(select(Hold).where(Hold.patron_id == patron.id,
                                              Hold.status.in_(("waiting", "ready")))
                           .options(selectinload(Hold.book)).order_by(Hold.placed_at)))


# --- the daily reminder job -----------------------------------------------------------------

@dataclass(frozen=True)
class ReminderSummary:
    day: date
    open_loans: int
    due_soon: int
    overdue: int

    @property
    def recorded(self) -> int:
        return self.due_soon + self.overdue


def run_daily_reminders(db: Session, *, now: datetime, policy: LendingPolicy | None = None,
                        tz: str = DEFAULT_TZ) -> ReminderSummary:
    """Record the reminders open loans are owed today. Idempotent: the keys of
    :func:`rules.reminder_due` are the same all day, and (loan, key) is UNIQUE, so a second run
    on one day records nothing new (and two replicas running it at once cannot double up)."""
    policy = policy or LendingPolicy()
    today = local_today(now, tz)
    loans = list(db.scalars(select(Loan).where(Loan.returned_at.is_(None)).order_by(Loan.id)))
    have = set(db.execute(select(Reminder.loan_id, Reminder.key).join(Loan)
                          .where(Loan.returned_at.is_(None))))
    counts = {"due_soon": 0, "overdue": 0}
    for loan in loans:
        due = rules.reminder_due(loan.due_on, today, policy)
        if due is None or (loan.id, due.key) in have:
            continue
        try:
            with db.begin_nested():
                db.add(Reminder(loan=loan, kind=due.kind, key=due.key, due_on=loan.due_on,
                                days=due.days, created_at=now))
        except IntegrityError:
            continue  # another replica recorded it a moment ago
        counts[due.kind] += 1
    db.commit()
    summary = ReminderSummary(day=today, open_loans=len(loans), due_soon=counts["due_soon"],
                              overdue=counts["overdue"])
    log.info("library reminders for %s: %s due soon, %s overdue (of %s open loans)", today,
             summary.due_soon, summary.overdue, summary.open_loans)
    return summary


# --- the catalog import and labels ----------------------------------------------------------

@dataclass
class ImportReport:
    books_added: int = 0
    copies_added: int = 0
    rejected: list[rules.RejectedRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected


REQUIRED_COLUMNS = ("copy_id", "title")
KNOWN_COLUMNS = ("copy_id", "title", "author", "isbn", "category", "shelf")


def decode_catalog(data: bytes) -> str:
    """CSV from Excel on a Chinese Windows is often GB18030; elsewhere UTF-8 with or without a
    byte-order mark. Try UTF-8 first: GB18030 would decode UTF-8 bytes into nonsense."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _csv_rows(text: str) -> Iterable[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise Invalid(f"the CSV header needs the columns {', '.join(REQUIRED_COLUMNS)} "
                      f"(missing: {', '.join(missing)})")
    for row in reader:
        # reader.line_num is the physical line the row ended on: right for the line the
        # librarian sees in a text editor, even with quoted line breaks before it.
        yield reader.line_num, {k: (v or "") for k, v in row.items() if isinstance(k, str)}


def import_catalog(db: Session, *, text: str, now: datetime, dry_run: bool = False
                   ) -> ImportReport:
    """Add the books and copies in a CSV file; report each rejected row with its line number.
    Good rows are imported even when others are rejected (fix those and import again: the
    copies already in are then reported as duplicates, never doubled)."""
    existing = set(db.scalars(select(Copy.label)))
    titles = {isbn: title for isbn, title in db.execute(
        select(Book.isbn, Book.title).where(Book.isbn.is_not(None))) if isbn}
    accepted, rejected = rules.validate_catalog_rows(_csv_rows(text), existing_copy_ids=existing,
                                                     existing_titles=titles)
    report = ImportReport(rejected=rejected)
    books: dict[tuple[str | None, str, str], Book] = {}
    for row in accepted:
        key = (row.isbn, "", "") if row.isbn else (None, row.title, row.author)
        book = books.get(key)
        if book is None:
            query = (select(Book).where(Book.isbn == row.isbn) if row.isbn else
                     select(Book).where(Book.isbn.is_(None), Book.title == row.title,
                                        Book.author == row.author))
            book = db.scalars(query.limit(1)).first()
            if book is None:
                book = Book(isbn=row.isbn, title=row.title, author=row.author,
                            category=row.category, created_at=now)
                db.add(book)
                report.books_added += 1
            books[key] = book
        db.add(Copy(label=row.copy_id, book=book, shelf=row.shelf, created_at=now))
        report.copies_added += 1
    if dry_run:
        db.rollback()
    else:
        db.commit()
    log.info("library import: %s books and %s copies added, %s rows rejected%s",
             report.books_added, report.copies_added, len(rejected),
             " (dry run)" if dry_run else "")
    return report


def copies_to_label(db: Session, *, labels: Sequence[str] = (), all_copies: bool = False
                    ) -> list[Copy]:
    """The copies to print: those named, or every copy (``all_copies``), or else the new ones
    that have never had a label printed."""
    stmt = select(Copy).options(selectinload(Copy.book)).order_by(Copy.label)
    if labels:
        wanted = [rules.normalise_copy_id(label) or label for label in labels]
        stmt = stmt.where(Copy.label.in_(wanted))
    elif not all_copies:
        stmt = stmt.where(Copy.labelled_at.is_(None))
    return list(db.scalars(stmt))


def mark_labelled(db: Session, *, copies: Sequence[Copy], now: datetime) -> None:
    for copy in copies:
        copy.labelled_at = now
    db.commit()


def patrons_for_cards(db: Session, *, resident_ids: Sequence[int] = (), new_only: bool = False,
                      now: datetime) -> list[Patron]:
    """Patrons to print cards for: these residents (enrolled now if they are not yet), or
    every patron, or (``new_only``) those whose card was never printed."""
    if resident_ids:
        return [enrol_patron(db, resident_id=rid, now=now)[0] for rid in resident_ids]
    stmt = select(Patron).options(selectinload(Patron.resident)).order_by(Patron.card_id)
    if new_only:
        stmt = stmt.where(Patron.card_printed_at.is_(None))
    return list(db.scalars(stmt))


def mark_cards_printed(db: Session, *, patrons: Sequence[Patron], now: datetime) -> None:
    for patron in patrons:
        patron.card_printed_at = now
    db.commit()
