"""The kiosk's flow: which step a resident is on, what they have entered, and when to give up.

This is the whole behaviour of the touchscreen with the screen taken away. The Kivy layer shows
``flow.step`` and calls one method per tap; everything here is plain Python (no Kivy, no HTTP,
no files) so it is tested fast and checked with ``mypy --strict``::

    flow = Flow(idle_seconds=90, warning_seconds=30, staff_pin="2468", now=clock)
    flow.set_catalog(categories=cats, compounds=places)
    flow.choose_category("water_electric"); flow.answer("leak")
    ...
    body = flow.submit()          # the RequestCreate body; the step is now SENDING

The steps of filing a request, in order::

    HOME -> QUESTION (one per category question) -> COMPOUND -> BUILDING -> UNIT
         -> CONTACT -> [PHONE] -> REVIEW -> SENDING -> DONE (or FAILED)

Staff mode is HOME -> STAFF_PIN -> STAFF. Every step has Back (one step up) and Home (drop the
draft).

The library (the 图书借阅 tile, shaped like a self-check station; see kiosk.lending)::

    HOME -> LIBRARY -> LIB_IDENTIFY (scan the card) | LIB_PHONE -> LIB_PIN
                    -> LIB_BORROW (scan books; LIB_COPY types one) -> LIB_RECEIPT
                    -> LIB_LOANS (renew)
                    -> LIB_RETURN (scan books; no reader needed)
                    -> the "bring books to my home" request (QUESTION ...)

Library actions that need the server return a :class:`LibraryCall`; the app makes it off the UI
thread and hands the answer back with :meth:`Flow.library_answered` or
:meth:`Flow.library_refused`. Leaving the library (home, the idle timeout) forgets the reader; their
server session is then in :meth:`Flow.take_sessions_to_end`.

Idle handling: after ``idle_seconds`` with no touch the app warns; ``warning_seconds``
later the draft is dropped and the kiosk goes home.

The draft survives a restart: :meth:`Flow.snapshot` gives a JSON-able dict after each step and
:meth:`Flow.restore` takes it back (the app writes it to disk).
"""

from __future__ import annotations

import hmac
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from kiosk.catalog import (
    Building,
    Category,
    Compound,
    Question,
    Unit,
    find_category,
    find_compound,
)
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

__all__ = [
    "DRAFT_STEPS",
    "Draft",
    "Flow",
    "IdlePhase",
    "LIBRARY_CATEGORY",
    "LIBRARY_STEPS",
    "LibraryCall",
    "Receipt",
    "Step",
    "valid_phone",
]

PHONE_DIGITS = 11
PIN_MIN, PIN_MAX = 4, 6
COPY_MAX_DIGITS = 8
# The home tile of this category opens the library; "bring books to my home" stays a request.
LIBRARY_CATEGORY = "books"
_PHONE = re.compile(r"^1\d{10}$")
_DRAFT_VERSION = 1


class Step(StrEnum):
    HOME = "home"
    QUESTION = "question"
    COMPOUND = "compound"
    BUILDING = "building"
    UNIT = "unit"
    CONTACT = "contact"
    PHONE = "phone"
    REVIEW = "review"
    SENDING = "sending"
    DONE = "done"
    FAILED = "failed"
    STAFF_PIN = "staff_pin"
    STAFF = "staff"
    LIBRARY = "library"
    LIB_IDENTIFY = "lib_identify"
    LIB_PHONE = "lib_phone"
    LIB_PIN = "lib_pin"
    LIB_BORROW = "lib_borrow"
    LIB_COPY = "lib_copy"
    LIB_RECEIPT = "lib_receipt"
    LIB_RETURN = "lib_return"
    LIB_LOANS = "lib_loans"


LIBRARY_STEPS = frozenset({Step.LIBRARY, Step.LIB_IDENTIFY, Step.LIB_PHONE, Step.LIB_PIN,
                           Step.LIB_BORROW, Step.LIB_COPY, Step.LIB_RECEIPT, Step.LIB_RETURN,
                           Step.LIB_LOANS})

# Steps at which a half-entered request exists and must survive a restart.
DRAFT_STEPS = frozenset({Step.QUESTION, Step.COMPOUND, Step.BUILDING, Step.UNIT, Step.CONTACT,
                         Step.PHONE, Step.REVIEW, Step.SENDING, Step.FAILED})

# Where Back leads from steps whose answer does not depend on the draft.
_BACK = {
    Step.BUILDING: Step.COMPOUND,
    Step.UNIT: Step.BUILDING,
    Step.CONTACT: Step.UNIT,
    Step.PHONE: Step.CONTACT,
    Step.FAILED: Step.REVIEW,
    Step.DONE: Step.HOME,
    Step.STAFF_PIN: Step.HOME,
    Step.STAFF: Step.HOME,
    Step.LIBRARY: Step.HOME,
    Step.LIB_IDENTIFY: Step.LIBRARY,
    Step.LIB_PHONE: Step.LIB_IDENTIFY,
    Step.LIB_PIN: Step.LIB_PHONE,
    Step.LIB_BORROW: Step.LIBRARY,
    Step.LIB_RECEIPT: Step.LIB_BORROW,
    Step.LIB_RETURN: Step.LIBRARY,
    Step.LIB_LOANS: Step.LIBRARY,
}

# (step of 5) shown to the resident as "step 2 of 5".
_PROGRESS = {Step.QUESTION: 2, Step.COMPOUND: 3, Step.BUILDING: 3, Step.UNIT: 3,
             Step.CONTACT: 4, Step.PHONE: 4, Step.REVIEW: 5}
PROGRESS_TOTAL = 5

# The library's keypads: which field of the visit each one types into, and how many digits.
_LIBRARY_KEYPADS = {Step.LIB_PHONE: ("phone", PHONE_DIGITS), Step.LIB_PIN: ("pin", PIN_MAX),
                    Step.LIB_COPY: ("copy_digits", COPY_MAX_DIGITS)}


class IdlePhase(StrEnum):
    ACTIVE = "active"
    WARNING = "warning"
    EXPIRED = "expired"


def valid_phone(digits: str) -> bool:
    """A mainland mobile number: 11 digits starting with 1."""
    return bool(_PHONE.match(digits))


@dataclass
class Draft:
    """What the resident has entered so far."""

    client_id: str
    category: str
    step: Step
    question: int = 0
    answers: dict[str, str] = field(default_factory=dict)
    compound: str | None = None
    building: str | None = None
    unit: str | None = None
    contact: Literal["phone", "come_back"] | None = None
    phone: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "version": _DRAFT_VERSION,
            "client_id": self.client_id,
            "category": self.category,
            "step": self.step.value,
            "question": self.question,
            "answers": dict(self.answers),
            "compound": self.compound,
            "building": self.building,
            "unit": self.unit,
            "contact": self.contact,
            "phone": self.phone,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Draft:
        """Rebuild a draft; raise ValueError when the data is not a draft this version wrote."""
        if data.get("version") != _DRAFT_VERSION:
            raise ValueError("unknown draft version")
        answers = data.get("answers", {})
        if not isinstance(answers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in answers.items()
        ):
            raise ValueError("answers must map strings to strings")
        contact = data.get("contact")
        if contact not in (None, "phone", "come_back"):
            raise ValueError("bad contact")
        texts = {}
        for key in ("client_id", "category"):
            value = data.get(key)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{key} missing")
            texts[key] = value
        optional: dict[str, str | None] = {}
        for key in ("compound", "building", "unit"):
            value = data.get(key)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{key} must be a string")
            optional[key] = value
        question = data.get("question", 0)
        phone = data.get("phone", "")
        if not isinstance(question, int) or not isinstance(phone, str):
            raise ValueError("bad question index or phone")
        return cls(
            client_id=texts["client_id"],
            category=texts["category"],
            step=Step(str(data.get("step"))),
            question=question,
            answers=dict(answers),
            compound=optional["compound"],
            building=optional["building"],
            unit=optional["unit"],
            contact=contact,
            phone=phone,
        )


@dataclass(frozen=True)
class LibraryCall:
    """A library request for the server, made by the app off the UI thread.

    ``kind``: identify (body ``card_id`` or ``phone`` + ``pin``), borrow (``copy_id``,
    ``client_id``), renew (``copy_id``), give_back (``client_id``, ``copy_id``; kept in the
    outbox first) or loans (no body). ``visit`` says which visit asked, so an answer that
    arrives after the reader has gone is dropped.
    """

    kind: Literal["identify", "borrow", "renew", "give_back", "loans"]
    visit: int
    body: dict[str, str] = field(default_factory=dict)
    session: str = ""


@dataclass(frozen=True)
class Receipt:
    """What the resident takes away: a ticket number and the link behind the QR code."""

    number: str
    status_url: str
    offline: bool = False


class Flow:
    """The state of one kiosk screen session. Every public method is one resident action."""

    def __init__(
        self,
        *,
        idle_seconds: float,
        warning_seconds: float,
        staff_pin: str,
        now: Callable[[], float] = time.monotonic,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        pin_attempts: int = 5,
        pin_lockout_s: float = 60.0,
    ) -> None:
        self.idle_seconds = idle_seconds
        self.warning_seconds = warning_seconds
        self._staff_pin = staff_pin
        self._now = now
        self._new_id = new_id
        self._pin_attempts = pin_attempts
        self._pin_lockout_s = pin_lockout_s
        self._pin_failures = 0
        self._pin_locked_until = 0.0
        self.categories: tuple[Category, ...] = ()
        self.compounds: tuple[Compound, ...] = ()
        self.step = Step.HOME
        self.draft: Draft | None = None
        self.receipt: Receipt | None = None
        # A message key (see kiosk.i18n) telling the resident why the last tap did nothing.
        self.problem = ""
        self.pin = ""
        self.visit: Visit | None = None
        self._visits = 0
        self._sessions_to_end: list[str] = []
        self._copy_for = Step.LIB_BORROW
        self._last_touch = now()

    # --- catalog -------------------------------------------------------------------------

    def set_catalog(
        self,
        *,
        categories: tuple[Category, ...] | None = None,
        compounds: tuple[Compound, ...] | None = None,
    ) -> None:
        if categories is not None:
            self.categories = categories
        if compounds is not None:
            self.compounds = compounds

    @property
    def category(self) -> Category | None:
        return find_category(self.categories, self.draft.category if self.draft else None)

    @property
    def question(self) -> Question | None:
        category = self.category
        if self.draft is None or category is None:
            return None
        if 0 <= self.draft.question < len(category.questions):
            return category.questions[self.draft.question]
        return None

    @property
    def compound(self) -> Compound | None:
        return find_compound(self.compounds, self.draft.compound if self.draft else None)

    @property
    def building(self) -> Building | None:
        compound = self.compound
        if compound is None or self.draft is None or self.draft.building is None:
            return None
        return compound.building(self.draft.building)

    @property
    def unit(self) -> Unit | None:
        building = self.building
        if building is None or self.draft is None or self.draft.unit is None:
            return None
        return building.unit(self.draft.unit)

    def progress(self) -> tuple[int, int] | None:
        """(this step, of how many) while filing a request, else None."""
        at = _PROGRESS.get(self.step)
        return None if at is None else (at, PROGRESS_TOTAL)

    # --- filing a request ----------------------------------------------------------------

    def _go(self, step: Step) -> None:
        self.step = step
        self.problem = ""
        if self.draft is not None:
            self.draft.step = step

    def _require(self, *steps: Step) -> Draft:
        if self.step not in steps or self.draft is None:
            raise RuntimeError(f"not possible at step {self.step}")
        return self.draft

    def choose_category(self, code: str) -> None:
        if self.step is not Step.HOME:
            raise RuntimeError(f"not possible at step {self.step}")
        category = find_category(self.categories, code)
        if category is None:
            raise ValueError(f"no kiosk category {code!r}")
        self.receipt = None
        self.draft = Draft(client_id=self._new_id(), category=code, step=Step.QUESTION)
        self._go(Step.QUESTION if category.questions else Step.COMPOUND)

    def answer(self, key: str) -> None:
        draft = self._require(Step.QUESTION)
        question = self.question
        if question is None or question.choice(key) is None:
            raise ValueError(f"{key!r} is not a choice here")
        draft.answers[question.code] = key
        self._next_question(draft)

    def skip_question(self) -> None:
        draft = self._require(Step.QUESTION)
        question = self.question
        if question is None:
            raise RuntimeError("no question on screen")
        if question.required:
            self.problem = "answer_required"
            return
        draft.answers.pop(question.code, None)
        self._next_question(draft)

    def _next_question(self, draft: Draft) -> None:
        category = self.category
        if category is not None and draft.question + 1 < len(category.questions):
            draft.question += 1
            self._go(Step.QUESTION)
        else:
            self._go(Step.COMPOUND)

    def choose_compound(self, code: str) -> None:
        draft = self._require(Step.COMPOUND)
        if find_compound(self.compounds, code) is None:
            raise ValueError(f"no compound {code!r}")
        if draft.compound != code:
            draft.building = draft.unit = None
        draft.compound = code
        self._go(Step.BUILDING)

    def choose_building(self, code: str) -> None:
        draft = self._require(Step.BUILDING)
        compound = self.compound
        if compound is None or compound.building(code) is None:
            raise ValueError(f"no building {code!r} here")
        if draft.building != code:
            draft.unit = None
        draft.building = code
        self._go(Step.UNIT)

    def choose_unit(self, code: str) -> None:
        draft = self._require(Step.UNIT)
        building = self.building
        if building is None or building.unit(code) is None:
            raise ValueError(f"no unit {code!r} here")
        draft.unit = code
        self._go(Step.CONTACT)

    def leave_phone(self) -> None:
        self._require(Step.CONTACT)
        self._go(Step.PHONE)

    def come_back(self) -> None:
        """The resident leaves no number and will come back (or scan the QR code)."""
        draft = self._require(Step.CONTACT)
        draft.contact = "come_back"
        draft.phone = ""
        self._go(Step.REVIEW)

    def press_digit(self, digit: str) -> None:
        if len(digit) != 1 or not digit.isdigit():
            raise ValueError(f"{digit!r} is not a digit")
        self.problem = ""
        if self.step is Step.PHONE and self.draft is not None:
            if len(self.draft.phone) < PHONE_DIGITS:
                self.draft.phone += digit
        elif self.step is Step.STAFF_PIN:
            if len(self.pin) < 8:
                self.pin += digit
        elif self.step in _LIBRARY_KEYPADS and self.visit is not None:
            name, limit = _LIBRARY_KEYPADS[self.step]
            value = getattr(self.visit, name)
            if len(value) < limit:
                setattr(self.visit, name, value + digit)
        else:
            raise RuntimeError(f"no keypad at step {self.step}")

    def delete_digit(self) -> None:
        self.problem = ""
        if self.step is Step.PHONE and self.draft is not None:
            self.draft.phone = self.draft.phone[:-1]
        elif self.step is Step.STAFF_PIN:
            self.pin = self.pin[:-1]
        elif self.step in _LIBRARY_KEYPADS and self.visit is not None:
            name = _LIBRARY_KEYPADS[self.step][0]
            setattr(self.visit, name, getattr(self.visit, name)[:-1])

    def clear_digits(self) -> None:
        self.problem = ""
        if self.step is Step.PHONE and self.draft is not None:
            self.draft.phone = ""
        elif self.step is Step.STAFF_PIN:
            self.pin = ""
        elif self.step in _LIBRARY_KEYPADS and self.visit is not None:
            setattr(self.visit, _LIBRARY_KEYPADS[self.step][0], "")

    def confirm_phone(self) -> bool:
        draft = self._require(Step.PHONE)
        if not valid_phone(draft.phone):
            self.problem = "phone_invalid"
            return False
        draft.contact = "phone"
        self._go(Step.REVIEW)
        return True

    def request_body(self) -> dict[str, Any]:
        """The RequestCreate body (docs/API.md) for the draft; ``number`` and ``phone_token``
        are added by whoever delivers it."""
        draft = self.draft
        if draft is None or draft.unit is None:
            raise RuntimeError("the draft is not complete")
        body: dict[str, Any] = {
            "client_id": draft.client_id,
            "category": draft.category,
            "unit_code": draft.unit,
            "answers": dict(draft.answers),
            "description": "",
            "channel": "kiosk",
        }
        if draft.contact == "phone" and draft.phone:
            body["contact_phone"] = draft.phone
        return body

    def submit(self) -> dict[str, Any]:
        """Send it: the step becomes SENDING and the body to deliver is returned."""
        self._require(Step.REVIEW, Step.FAILED)
        body = self.request_body()
        self._go(Step.SENDING)
        return body

    def filed(self, receipt: Receipt) -> None:
        """The request is safe (on the server, or in the kiosk's outbox): show the ticket."""
        self._require(Step.SENDING)
        self.receipt = receipt
        self.draft = None
        self.step = Step.DONE
        self.problem = ""
        self.touched()

    def refused(self, problem: str = "refused") -> None:
        """The server would not take the request; the draft stays so it can be fixed or retried."""
        self._require(Step.SENDING)
        self._go(Step.FAILED)
        self.problem = problem
        self.touched()

    # --- navigation ------------------------------------------------------------------------

    @property
    def can_go_back(self) -> bool:
        return self.step not in (Step.HOME, Step.SENDING)

    def back(self) -> None:
        step = self.step
        draft = self.draft
        if step in (Step.HOME, Step.SENDING):
            return
        if step is Step.LIB_COPY:
            self._go(self._copy_for)
            return
        if step in _BACK:
            target = _BACK[step]
            if target is Step.HOME:
                self.home()
            else:
                self._go(target)
            return
        if draft is None:
            self.home()
            return
        if step is Step.QUESTION:
            if draft.question > 0:
                draft.question -= 1
                self._go(Step.QUESTION)
            else:
                self.home()
        elif step is Step.COMPOUND:
            category = self.category
            if category is not None and category.questions:
                draft.question = len(category.questions) - 1
                self._go(Step.QUESTION)
            else:
                self.home()
        elif step is Step.REVIEW:
            self._go(Step.PHONE if draft.contact == "phone" else Step.CONTACT)

    def home(self) -> None:
        """Drop whatever was entered and show the home screen."""
        self._end_visit()
        self.draft = None
        self.receipt = None
        self.pin = ""
        self.step = Step.HOME
        self.problem = ""

    # --- staff mode -----------------------------------------------------------------------

    def open_staff(self) -> None:
        if self.step is not Step.HOME:
            raise RuntimeError(f"not possible at step {self.step}")
        self.draft = None
        self.pin = ""
        self._go(Step.STAFF_PIN)

    def confirm_pin(self) -> bool:
        if self.step is not Step.STAFF_PIN:
            raise RuntimeError(f"not possible at step {self.step}")
        now = self._now()
        if now < self._pin_locked_until:
            self.pin = ""
            self.problem = "pin_locked"
            return False
        # compare_digest: the time taken does not tell a watcher how many digits were right.
        if hmac.compare_digest(self.pin.encode(), self._staff_pin.encode()):
            self._pin_failures = 0
            self.pin = ""
            self._go(Step.STAFF)
            return True
        self._pin_failures += 1
        self.pin = ""
        if self._pin_failures >= self._pin_attempts:
            self._pin_failures = 0
            self._pin_locked_until = now + self._pin_lockout_s
            self.problem = "pin_locked"
        else:
            self.problem = "pin_wrong"
        return False

    # --- library ----------------------------------------------------------------------------

    def _library(self, *steps: Step) -> Visit:
        if self.step not in steps or self.visit is None:
            raise RuntimeError(f"not possible at step {self.step}")
        return self.visit

    def _call(self, kind: Literal["identify", "borrow", "renew", "give_back", "loans"],
              body: dict[str, str] | None = None) -> LibraryCall:
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
        if self.step is not Step.HOME:
            raise RuntimeError(f"not possible at step {self.step}")
        self.draft = None
        self.receipt = None
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

    def library_deliver(self) -> None:
        """"Bring books to my home": the request for it, as the tile filed it before."""
        self._library(Step.LIBRARY)
        self._end_visit()
        self.step = Step.HOME
        self.choose_category(LIBRARY_CATEGORY)

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

    # --- idle -----------------------------------------------------------------------------

    def touched(self) -> None:
        """Any touch on the screen: the resident is still here."""
        self._last_touch = self._now()

    def idle_phase(self) -> IdlePhase:
        # Nothing to lose on an empty home screen, and while sending we wait for the server.
        if (self.step is Step.HOME and self.draft is None) or self.step is Step.SENDING:
            return IdlePhase.ACTIVE
        if self.visit is not None and self.visit.in_flight:
            return IdlePhase.ACTIVE
        idle = self._now() - self._last_touch
        if idle < self.idle_seconds:
            return IdlePhase.ACTIVE
        if idle < self.idle_seconds + self.warning_seconds:
            return IdlePhase.WARNING
        return IdlePhase.EXPIRED

    def seconds_left(self) -> int:
        """Whole seconds until the idle timeout clears the screen (for the warning's countdown)."""
        left = self.idle_seconds + self.warning_seconds - (self._now() - self._last_touch)
        return max(0, int(left + 0.999))

    # --- persistence ----------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any] | None:
        """The draft to keep on disk, or None when there is nothing to keep."""
        if self.draft is None or self.step not in DRAFT_STEPS:
            return None
        return self.draft.to_json()

    def restore(self, data: Mapping[str, Any]) -> bool:
        """Continue a draft saved by :meth:`snapshot`; False (and stay home) if it no longer fits
        the catalog, for example because its category was withdrawn."""
        try:
            draft = Draft.from_json(data)
        except (ValueError, KeyError):
            return False
        if draft.step not in DRAFT_STEPS or find_category(self.categories, draft.category) is None:
            return False
        self.draft = draft
        # A power cut while sending: the body is already in the outbox; show the review again
        # and let the resident send it (the same client_id is delivered once).
        step = Step.REVIEW if draft.step in (Step.SENDING, Step.FAILED) else draft.step
        if not self._reachable(step):
            self.draft = None
            return False
        self._go(step)
        self.touched()
        return True

    def _reachable(self, step: Step) -> bool:
        """Whether everything the step relies on is present in the draft and the catalog."""
        draft = self.draft
        if draft is None:
            return False
        needs: dict[Step, bool] = {
            Step.QUESTION: self.question is not None,
            Step.COMPOUND: True,
            Step.BUILDING: self.compound is not None,
            Step.UNIT: self.building is not None,
            Step.CONTACT: self.unit is not None,
            Step.PHONE: self.unit is not None,
            Step.REVIEW: self.unit is not None and (
                draft.contact == "come_back" or valid_phone(draft.phone)),
        }
        return needs.get(step, False)
