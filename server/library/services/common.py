"""What every library service shares: the lending errors (a rule's "no" as an HTTP-ready
error), PIN hashing, the service point's day, and the lookups of a copy's loan and hold.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from foundation.settings import SITE_TIMEZONE
from server.errors import ServerError
from server.library import rules
from server.library.models import (
    Copy,
    Hold,
    Loan,
    Patron,
)
from server.library.rules import Reason, Refusal

log = logging.getLogger(__name__)
DEFAULT_TZ = SITE_TIMEZONE  # one owner: foundation.settings
SESSION_EXPIRED = "session_expired"
# A 4-6 digit PIN has at most a million values, so no hash cost makes a stolen hash safe; what
# protects PINs is the throttle and the database staying private. So PINs get OWASP's minimum
# Argon2id cost (about 0.1 s on a Pi) rather than the passwords' heavier one, which would make
# every kiosk sign-in by phone slow.
_pin_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


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


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def copy_by_label(db: Session, raw: str) -> Copy | None:
    label = rules.normalise_copy_id(raw)
    if label is None:
        return None
    return db.scalar(select(Copy).where(Copy.label == label))


def open_loan_of(db: Session, copy: Copy) -> Loan | None:
    return db.scalar(select(Loan).where(Loan.open_key == copy.id))


def ready_hold_of(db: Session, copy: Copy) -> Hold | None:
    return db.scalar(select(Hold).where(Hold.ready_key == copy.id))


def open_loans(db: Session, *, patron: Patron) -> list[Loan]:
    return list(db.scalars(
        select(Loan).where(Loan.patron_id == patron.id, Loan.returned_at.is_(None))
        .options(selectinload(Loan.copy).selectinload(Copy.book))
        .order_by(Loan.due_on, Loan.id)))


def patron_state(db: Session, patron: Patron) -> rules.PatronState:
    return rules.PatronState(
        patron_id=patron.id, active=patron.active,
        loans=[rules.LoanState(copy_id=loan.copy.label, due_on=loan.due_on,
                               renewals=loan.renewals) for loan in open_loans(db, patron=patron)])


def copy_state(db: Session, copy: Copy) -> rules.CopyState:
    loan = open_loan_of(db, copy)
    hold = ready_hold_of(db, copy)
    return rules.CopyState(copy_id=copy.label, lendable=copy.status == "available",
                           on_loan_to=loan.patron_id if loan else None,
                           held_for=hold.patron_id if hold else None)


