"""Readers: enrolling residents and walk-ins, PINs, and identifying a reader at the kiosk by
card or by phone and PIN (throttled), with the kiosk session that follows.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from server.errors import Invalid, NotAuthenticated, NotFound
from server.library import rules
from server.library.models import (
    KioskSession,
    Patron,
    PinFailure,
)
from server.library.rules import LendingPolicy, Reason, Refusal
from server.library.services.common import (
    SESSION_EXPIRED,
    digest,
    hash_pin,
    refuse,
    verify_pin,
)
from server.models import Building, Resident, Unit
from server.security import new_phone_token

log = logging.getLogger(__name__)
# Verified against when no reader has the phone number, so timing does not reveal which do.
_DUMMY_PIN_HASH = hash_pin("000000")


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
    db.add(KioskSession(token_hash=digest(token), patron=patron, created_at=now,
                        expires_at=now + timedelta(minutes=policy.session_minutes)))
    db.commit()
    log.info("library patron %s identified at the kiosk", patron.card_id)
    return patron, token


def session_patron(db: Session, *, token: str, now: datetime, policy: LendingPolicy) -> Patron:
    """The patron of a live kiosk session; each use keeps it alive for another period."""
    session = db.scalar(select(KioskSession).where(KioskSession.token_hash == digest(token)))
    if session is None or session.expires_at <= now:
        raise NotAuthenticated("the reader's session has ended; scan the card again",
                               code=SESSION_EXPIRED)
    session.expires_at = now + timedelta(minutes=policy.session_minutes)
    db.commit()
    return session.patron


def end_session(db: Session, *, token: str) -> None:
    db.execute(delete(KioskSession).where(KioskSession.token_hash == digest(token)))
    db.commit()


