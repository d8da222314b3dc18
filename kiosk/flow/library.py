"""The library journey (the 图书借阅 tile, shaped like a self-check station; see kiosk.lending).

    HOME -> LIBRARY -> LIB_IDENTIFY (scan the card) | LIB_PHONE -> LIB_PIN
                    -> LIB_BORROW (scan books; LIB_COPY types one) -> LIB_RECEIPT
                    -> LIB_LOANS (renew)
                    -> LIB_RETURN (scan books; no reader needed)
                    -> the "bring books to my home" request (kiosk.flow.Flow.library_deliver)

Actions that need the server return a :class:`LibraryCall`; the app makes it off the UI thread
and hands the answer back with :meth:`LibraryJourney.library_answered` or
:meth:`LibraryJourney.library_refused`. Leaving the library (home, the idle timeout) forgets the
reader; their server session is then in :meth:`LibraryJourney.take_sessions_to_end`. Pure; one of
the journeys of :class:`kiosk.flow.Flow` over :class:`~kiosk.flow.navigation.Navigation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from kiosk.flow.navigation import Keypad, Navigation
from kiosk.flow.steps import PHONE_DIGITS, Step, valid_phone
from kiosk.lending import (
    CheckIn,
    Loan,
    Outcome,
    OutcomeKind,
    Patron,
    Purpose,
    Reader,
    Refusal,
    Visit,
    looks_like_card,
    typed_copy_id,
)

__all__ = ["COPY_MAX_DIGITS", "LIBRARY_CATEGORY", "PIN_MAX", "PIN_MIN", "LibraryCall",
           "LibraryJourney"]

PIN_MIN, PIN_MAX = 4, 6
COPY_MAX_DIGITS = 8
# The home tile of this category opens the library; "bring books to my home" stays a request.
LIBRARY_CATEGORY = "books"

# The library's keypads: which field of the visit each one types into, and how many digits.
_LIBRARY_KEYPADS = {Step.LIB_PHONE: ("phone", PHONE_DIGITS), Step.LIB_PIN: ("pin", PIN_MAX),
                    Step.LIB_COPY: ("copy_digits", COPY_MAX_DIGITS)}

CallKind = Literal["identify", "borrow", "renew", "give_back", "loans"]


@dataclass(frozen=True)
class LibraryCall:
    """A library request for the server, made by the app off the UI thread.

    ``kind``: identify (body ``card_id`` or ``phone`` + ``pin``), borrow (``copy_id``,
    ``client_id``), renew (``copy_id``), give_back (``client_id``, ``copy_id``; kept in the
    outbox first) or loans (no body). ``visit`` says which visit asked, so an answer that
    arrives after the reader has gone is dropped.
    """

    kind: CallKind
    visit: int
    body: dict[str, str] = field(default_factory=dict)
    session: str = ""


class LibraryJourney(Navigation):
    """A reader's visit: who they are, what they borrow, renew and return."""

    def __init__(self, **shared: Any) -> None:
        super().__init__(**shared)
        self.visit: Visit | None = None
        self._visits = 0
        self._sessions_to_end: list[str] = []
        self._copy_for = Step.LIB_BORROW

    # --- the journey's part in the shared navigation ------------------------------------------

    def _forget(self) -> None:
        self._end_visit()
        super()._forget()

    def _step_back(self) -> bool:
        if self.step is not Step.LIB_COPY:
            return super()._step_back()
        self._go(self._copy_for)
        return True

    def _keypad(self) -> Keypad | None:
        visit = self.visit
        if self.step not in _LIBRARY_KEYPADS or visit is None:
            return super()._keypad()
        name, limit = _LIBRARY_KEYPADS[self.step]

        def store(digits: str) -> None:
            setattr(visit, name, digits)

        return Keypad(getattr(visit, name), limit, store)

    def _keeps_awake(self) -> bool:
        # A reader waiting for the server's answer is not idle.
        return (self.visit is not None and self.visit.in_flight > 0) or super()._keeps_awake()

    # --- the visit ----------------------------------------------------------------------------

    def _library(self, *steps: Step) -> Visit:
        if self.step not in steps or self.visit is None:
            raise RuntimeError(f"not possible at step {self.step}")
        return self.visit

    def _call(self, kind: CallKind, body: dict[str, str] | None = None) -> LibraryCall:
        visit = self.visit
        assert visit is not None
        visit.in_flight += 1
        return LibraryCall(kind=kind, visit=visit.serial, body=body or {},
                           session=visit.reader.session if visit.reader else "")

    def _end_visit(self) -> None:
        visit, self.visit = self.visit, None
        if visit is not None and visit.reader is not None:
            self._sessions_to_end.append(visit.reader.session)

    def take_sessions_to_end(self) -> list[str]:
        """Server sessions of readers who have gone (the app ends them on the server)."""
        sessions, self._sessions_to_end = self._sessions_to_end, []
        return sessions

    @property
    def library_busy(self) -> bool:
        return self.visit is not None and self.visit.in_flight > 0

    def open_library(self) -> None:
        """The 图书借阅 tile: the library's menu."""
        self._begin()
        self._visits += 1
        self.visit = Visit(serial=self._visits)
        self._go(Step.LIBRARY)

    def library_choose(self, purpose: str) -> LibraryCall | None:
        """A tap on the menu: ``borrow``, ``loans`` or ``return``."""
        visit = self._library(Step.LIBRARY)
        if purpose == "return":
            self._go(Step.LIB_RETURN)
            return None
        visit.purpose = Purpose(purpose)
        if visit.reader is None:
            visit.phone = visit.pin = ""
            self._go(Step.LIB_IDENTIFY)
            return None
        if visit.purpose is Purpose.BORROW:
            self._go(Step.LIB_BORROW)
            return None
        self._go(Step.LIB_LOANS)
        return self._call("loans")

    # --- who the reader is --------------------------------------------------------------------

    def library_use_phone(self) -> None:
        visit = self._library(Step.LIB_IDENTIFY)
        visit.phone = visit.pin = ""
        self._go(Step.LIB_PHONE)

    def confirm_library_phone(self) -> bool:
        visit = self._library(Step.LIB_PHONE)
        if not valid_phone(visit.phone):
            self.problem = "phone_invalid"
            return False
        visit.pin = ""
        self._go(Step.LIB_PIN)
        return True

    def confirm_library_pin(self) -> LibraryCall | None:
        visit = self._library(Step.LIB_PIN)
        if not PIN_MIN <= len(visit.pin) <= PIN_MAX:
            self.problem = "lib_pin_short"
            return None
        self.problem = ""
        visit.last = None
        return self._call("identify", {"phone": visit.phone, "pin": visit.pin})

    # --- books --------------------------------------------------------------------------------

    def library_type_copy(self) -> None:
        """The reader types the book's number instead of scanning it."""
        visit = self._library(Step.LIB_BORROW, Step.LIB_RETURN)
        self._copy_for = self.step
        visit.copy_digits = ""
        self._go(Step.LIB_COPY)

    def confirm_copy(self) -> LibraryCall | None:
        visit = self._library(Step.LIB_COPY)
        if not visit.copy_digits:
            self.problem = "lib_copy_empty"
            return None
        copy_id = typed_copy_id(visit.copy_digits)
        self._go(self._copy_for)
        return self._book(visit, copy_id)

    def _book(self, visit: Visit, copy_id: str) -> LibraryCall:
        visit.last = None
        if self.step is Step.LIB_BORROW:
            return self._call("borrow", {"copy_id": copy_id, "client_id": self._client_id("b")})
        return self._call("give_back", {"copy_id": copy_id, "client_id": self._client_id("r")})

    def _client_id(self, kind: str) -> str:
        # 8-64 of [A-Za-z0-9_-] (docs/LIBRARY.md); unique per scan, so a retry is applied once.
        return f"kiosk-{kind}-{self._new_id().replace('-', '')}"[:64]

    def scan(self, text: str) -> LibraryCall | None:
        """A whole scan from the keyboard-like scanner, wherever the kiosk is."""
        text = text.strip()
        if not text:
            return None
        if self.step is Step.HOME and looks_like_card(text):
            # A reader who scans their card at the home screen has come to borrow.
            self.open_library()
        if self.step is Step.LIBRARY:
            if not looks_like_card(text):
                self.problem = "lib_choose_first"
                return None
            assert self.visit is not None
            self.visit.purpose = Purpose.BORROW
            self._go(Step.LIB_IDENTIFY)
        visit = self.visit
        if visit is None or visit.in_flight and self.step is Step.LIB_IDENTIFY:
            return None
        self.touched()
        # A scan on the keypad for the book's number, or on the receipt, is one more book.
        if self.step is Step.LIB_COPY:
            self._go(self._copy_for)
        elif self.step is Step.LIB_RECEIPT:
            self._go(Step.LIB_BORROW)
        if self.step in (Step.LIB_IDENTIFY, Step.LIB_PHONE, Step.LIB_PIN):
            if self.step is not Step.LIB_IDENTIFY:
                self._go(Step.LIB_IDENTIFY)
            visit.last = None
            return self._call("identify", {"card_id": text})
        if self.step is Step.LIB_BORROW and looks_like_card(text):
            self.problem = "lib_card_again"
            return None
        if self.step in (Step.LIB_BORROW, Step.LIB_RETURN):
            self.problem = ""
            return self._book(visit, text)
        return None

    def library_done(self) -> None:
        """The reader has scanned all their books: the receipt with the due dates."""
        self._library(Step.LIB_BORROW)
        self._go(Step.LIB_RECEIPT)

    def renew(self, copy_id: str) -> LibraryCall | None:
        visit = self._library(Step.LIB_LOANS)
        if visit.reader is None or all(x.copy_id != copy_id for x in visit.loans):
            raise ValueError(f"{copy_id!r} is not on this reader's loans")
        visit.last = None
        return self._call("renew", {"copy_id": copy_id})

    # --- the server's answers -----------------------------------------------------------------

    def _answer_for(self, call: LibraryCall) -> Visit | None:
        visit = self.visit
        if visit is None or visit.serial != call.visit:
            return None
        visit.in_flight = max(0, visit.in_flight - 1)
        self.touched()
        return visit

    def library_answered(self, call: LibraryCall, result: object) -> None:
        """The server's answer to ``call``: a Reader, a Loan, (Patron, loans) or a CheckIn."""
        visit = self._answer_for(call)
        if visit is None:
            if isinstance(result, Reader):
                self._sessions_to_end.append(result.session)  # the reader left meanwhile
            return
        if call.kind == "identify" and isinstance(result, Reader):
            before = visit.reader
            if before is not None and before.session != result.session:
                self._sessions_to_end.append(before.session)
            if before is not None and before.patron.card_id != result.patron.card_id:
                # Another reader's card at the menu: the last reader's books are not theirs.
                visit.borrowed.clear()
                visit.returned.clear()
                visit.last = None
            visit.reader = result
            visit.phone = visit.pin = ""
            if self.step in (Step.LIB_IDENTIFY, Step.LIB_PHONE, Step.LIB_PIN):
                self._go(Step.LIB_BORROW if visit.purpose is Purpose.BORROW else Step.LIB_LOANS)
        elif call.kind == "borrow" and isinstance(result, Loan):
            visit.borrowed.append(result)
            visit.replace_loan(result)
            visit.last = Outcome(OutcomeKind.BORROWED, loan=result)
        elif call.kind == "renew" and isinstance(result, Loan):
            visit.replace_loan(result)
            visit.last = Outcome(OutcomeKind.RENEWED, loan=result)
        elif call.kind == "give_back" and isinstance(result, CheckIn):
            visit.returned.append(result)
            visit.last = Outcome(OutcomeKind.RETURNED, check_in=result)
        elif call.kind == "loans" and isinstance(result, tuple) and len(result) == 2:
            patron, loans = result
            if isinstance(patron, Patron):
                visit.set_loans(patron, tuple(x for x in loans if isinstance(x, Loan)))
        else:
            raise ValueError(f"unexpected answer to {call.kind}: {type(result).__name__}")

    def library_refused(self, call: LibraryCall, refusal: Refusal) -> None:
        """The server said no (or could not be reached): say why, in words."""
        visit = self._answer_for(call)
        if visit is None:
            return
        if refusal.code == "session_expired" and call.kind != "identify":
            # The server forgot the reader (a long pause, a restart): identify again.
            visit.reader = None
            self._go(Step.LIB_IDENTIFY)
        elif call.kind == "identify":
            visit.pin = ""
        visit.last = Outcome(OutcomeKind.REFUSED, refusal=refusal)
