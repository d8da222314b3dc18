"""Library lending at the kiosk, without the screen: what the server says, and what a scanner types.

Pure Python (no Kivy, no HTTP, no files), checked with ``mypy --strict``. The server's JSON
(docs/LIBRARY.md) is parsed here into frozen dataclasses, so nothing inward sees raw JSON::

    reader = parse_session(reply)            # Reader: session token, patron, loans, phone link
    loan = parse_loan(reply)                 # Loan: title, due date, renewals left
    checked_in = parse_return(reply)         # CheckIn: title, "hand to staff"
    refusal = Refusal.from_error(code, zh, en)
    refusal.text("en")                       # plain words, never the code

A USB barcode/QR scanner is a keyboard: it types the code and presses Enter. :class:`ScanBuffer`
turns those keystrokes into one scan (the window's key events feed it; no text field needs
focus)::

    buffer = ScanBuffer()
    for ch in "LB-0001": buffer.feed(ch, at=t)
    buffer.enter(at=t)                       # "LB-0001"

:class:`Visit` is one reader's stay at the library screens: who they are, what they borrowed and
returned, and the answer to the last scan. ``kiosk.flow`` moves between the screens.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from foundation.catalogs import SOURCE_LANGUAGE
from kiosk.errors import BadReply
from kiosk.i18n import SOURCE, tr

__all__ = [
    "CARD_PATTERN",
    "CheckIn",
    "Loan",
    "Outcome",
    "OutcomeKind",
    "Patron",
    "Purpose",
    "Reader",
    "Refusal",
    "ScanBuffer",
    "Visit",
    "looks_like_card",
    "parse_loan",
    "parse_loans",
    "parse_return",
    "parse_session",
    "typed_copy_id",
]

# A library card's QR code: P and ten digits (the last a Luhn check digit; the server checks it).
CARD_PATTERN = re.compile(r"^[Pp]\d{10}$")
# The printed labels read LB-0001; on the keypad a reader types the number only.
COPY_PREFIX = "LB-"
COPY_DIGITS = 4
MAX_SCAN = 64


def looks_like_card(scan: str) -> bool:
    return bool(CARD_PATTERN.match(scan.strip()))


def typed_copy_id(digits: str, prefix: str = COPY_PREFIX) -> str:
    """The copy id for the number typed on the keypad: ``12`` is ``LB-0012`` as on the label."""
    return f"{prefix}{digits.zfill(COPY_DIGITS)}"


class ScanBuffer:
    """Keystrokes from a keyboard-like scanner, gathered into whole scans.

    A scanner types a code in a few milliseconds and ends it with Enter (some with Tab). A code
    left unfinished for ``gap_s`` (a half-read label, a key knocked by a sleeve) is dropped
    rather than glued to the front of the next scan.
    """

    def __init__(self, *, gap_s: float = 1.0) -> None:
        self.gap_s = gap_s
        self._chars: list[str] = []
        self._last = 0.0

    def feed(self, text: str, *, at: float) -> None:
        if self._chars and at - self._last > self.gap_s:
            self._chars.clear()
        self._last = at
        for ch in text:
            if ch in "\r\n\t":
                continue
            if ch.isprintable() and len(self._chars) < MAX_SCAN:
                self._chars.append(ch)

    def enter(self, *, at: float) -> str | None:
        """Enter was pressed: the scan, or None when nothing (recent) was typed."""
        stale = at - self._last > self.gap_s
        text = "".join(self._chars).strip()
        self._chars.clear()
        return None if stale or not text else text

    def clear(self) -> None:
        self._chars.clear()


# --- what the server says -------------------------------------------------------------------


@dataclass(frozen=True)
class Patron:
    card_id: str
    address_as: str
    loans: int
    max_items: int
    can_borrow: int
    blocked: bool


@dataclass(frozen=True)
class Loan:
    copy_id: str
    title: str
    due_on: date
    renewals_left: int
    overdue_days: int
    author: str = ""


@dataclass(frozen=True)
class Reader:
    """An identified reader: the session token the server gave, and their loans."""

    session: str
    patron: Patron
    loans: tuple[Loan, ...]
    phone_url: str


@dataclass(frozen=True)
class CheckIn:
    """A scanned return. ``queued``: the server was away; the kiosk keeps it and sends it later."""

    client_id: str
    copy_id: str
    title: str = ""
    hand_to_staff: bool = False
    overdue_days: int = 0
    queued: bool = False



@dataclass(frozen=True)
class Refusal:
    """Why the server (or the network) said no, in both languages."""

    code: str
    message_zh: str = ""
    message_en: str = ""

    @classmethod
    def from_error(cls, code: str, message_zh: str = "", message_en: str = "") -> Refusal:
        # The server's words are preferred: they carry the configured numbers ("5 本"). Without
        # them (an older server, an odd answer, no network), the kiosk catalog's refusal_<code>.
        key = f"refusal_{code}" if f"refusal_{code}" in SOURCE else "refusal_other"
        return cls(code=code, message_zh=message_zh or tr(SOURCE_LANGUAGE, key),
                   message_en=message_en or tr("en", key))

    def text(self, language: str) -> str:
        return self.message_en if language == "en" else self.message_zh


def _obj(payload: object, what: str) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise BadReply(f"{what}: expected an object")
    return payload


def _str(data: Mapping[str, Any], key: str, what: str, *, required: bool = True) -> str:
    value = data.get(key)
    if isinstance(value, str) and (value or not required):
        return value
    if value is None and not required:
        return ""
    raise BadReply(f"{what}: {key} must be a string")


def _int(data: Mapping[str, Any], key: str, what: str) -> int:
    value = data.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadReply(f"{what}: {key} must be a number")
    return value


def parse_loan(payload: object) -> Loan:
    data = _obj(payload, "loan")
    try:
        due = date.fromisoformat(_str(data, "due_on", "loan"))
    except ValueError:
        raise BadReply("loan: due_on must be a date") from None
    return Loan(copy_id=_str(data, "copy_id", "loan"), title=_str(data, "title", "loan"),
                author=_str(data, "author", "loan", required=False), due_on=due,
                renewals_left=_int(data, "renewals_left", "loan"),
                overdue_days=_int(data, "overdue_days", "loan"))


def _patron(payload: object) -> Patron:
    data = _obj(payload, "patron")
    return Patron(card_id=_str(data, "card_id", "patron"),
                  address_as=_str(data, "address_as", "patron", required=False),
                  loans=_int(data, "loans", "patron"), max_items=_int(data, "max_items", "patron"),
                  can_borrow=_int(data, "can_borrow", "patron"),
                  blocked=data.get("blocked") is True)


def _loan_list(data: Mapping[str, Any], what: str) -> tuple[Loan, ...]:
    loans = data.get("loans")
    if not isinstance(loans, list):
        raise BadReply(f"{what}: loans must be a list")
    return tuple(parse_loan(item) for item in loans)


def parse_session(payload: object) -> Reader:
    """``POST /sessions``."""
    data = _obj(payload, "session")
    return Reader(session=_str(data, "session", "session"), patron=_patron(data.get("patron")),
                  loans=_loan_list(data, "session"),
                  phone_url=_str(data, "phone_url", "session", required=False))


def parse_loans(payload: object) -> tuple[Patron, tuple[Loan, ...]]:
    """``GET /session/loans``."""
    data = _obj(payload, "loans")
    return _patron(data.get("patron")), _loan_list(data, "loans")


def parse_return(payload: object) -> CheckIn:
    """``POST /returns``."""
    data = _obj(payload, "return")
    return CheckIn(client_id=_str(data, "client_id", "return"),
                   copy_id=_str(data, "copy_id", "return"),
                   title=_str(data, "title", "return", required=False),
                   hand_to_staff=data.get("hand_to_staff") is True,
                   overdue_days=_int(data, "overdue_days", "return"))


# --- one reader's visit ---------------------------------------------------------------------


class Purpose(StrEnum):
    """What the reader came for; identifying leads on to it."""

    BORROW = "borrow"
    LOANS = "loans"


class OutcomeKind(StrEnum):
    BORROWED = "borrowed"
    RENEWED = "renewed"
    RETURNED = "returned"
    REFUSED = "refused"


@dataclass(frozen=True)
class Outcome:
    """The answer to the last scan or tap, for the big line on the screen."""

    kind: OutcomeKind
    loan: Loan | None = None
    check_in: CheckIn | None = None
    refusal: Refusal | None = None


@dataclass
class Visit:
    """A stay at the library screens, from the menu until home (or the idle timeout)."""

    serial: int
    purpose: Purpose = Purpose.BORROW
    reader: Reader | None = None
    borrowed: list[Loan] = field(default_factory=list)
    returned: list[CheckIn] = field(default_factory=list)
    last: Outcome | None = None
    phone: str = ""
    pin: str = ""
    copy_digits: str = ""
    in_flight: int = 0

    @property
    def loans(self) -> tuple[Loan, ...]:
        return self.reader.loans if self.reader else ()

    def replace_loan(self, loan: Loan) -> None:
        """A renewed or new loan takes the place of the old one (by copy) in the reader's list."""
        if self.reader is None:
            return
        others = [x for x in self.reader.loans if x.copy_id != loan.copy_id]
        loans = tuple(sorted([*others, loan], key=lambda x: (x.due_on, x.title)))
        patron = self.reader.patron
        count = len(loans)
        self.reader = Reader(
            session=self.reader.session,
            patron=Patron(card_id=patron.card_id, address_as=patron.address_as, loans=count,
                          max_items=patron.max_items,
                          can_borrow=max(0, patron.max_items - count), blocked=patron.blocked),
            loans=loans, phone_url=self.reader.phone_url)

    def set_loans(self, patron: Patron, loans: tuple[Loan, ...]) -> None:
        if self.reader is not None:
            self.reader = Reader(session=self.reader.session, patron=patron, loans=loans,
                                 phone_url=self.reader.phone_url)
