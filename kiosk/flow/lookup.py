"""The 查进度 journey: a resident looks a request up again by its number and phone.

    HOME -> LOOKUP (the number's digits) -> LOOKUP_PHONE (the phone's last four, or "I left no
         phone") -> LOOKUP_RESULT (searching, then the status; not found; or the server away)

The number's letters and dash are this kiosk's (``K1-``), so the resident types digits only, as
printed on the slip (``K1-0007``: 7 or 0007). :meth:`LookupJourney.confirm_lookup_phone` and
:meth:`~LookupJourney.lookup_without_phone` return the :class:`LookupQuery` the app sends
(``POST /api/v1/requests/lookup``); the answer comes back through :meth:`lookup_found`,
:meth:`lookup_missed` or :meth:`lookup_unreachable`, and an answer for an earlier query (the
resident went Back and asked again) is dropped. A wrong pair says "not found" without saying
which half was wrong; the resident retries with the number still there.

Pure (no Kivy, no HTTP); one of the journeys of :class:`kiosk.flow.Flow`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from kiosk.flow.navigation import Keypad, Navigation
from kiosk.flow.steps import Step

__all__ = ["LAST4_DIGITS", "LOOKUP_DIGITS", "LookupJourney", "LookupOutcome", "LookupQuery",
           "LookupResult", "lookup_number", "parse_lookup"]

# A kiosk numbers its requests K1-0001 upwards; six digits is a lifetime of a service point.
LOOKUP_DIGITS = 6
LAST4_DIGITS = 4


def lookup_number(prefix: str, digits: str) -> str:
    """The request number the digits name at this kiosk: ``("K1", "7")`` is ``K1-0007``."""
    significant = digits.lstrip("0") or "0"
    return f"{prefix}-{significant.zfill(4)}"


class LookupOutcome(StrEnum):
    SEARCHING = "searching"
    FOUND = "found"
    NOT_FOUND = "not_found"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class LookupQuery:
    """One lookup to send; ``serial`` tells its answer from a stale one."""

    serial: int
    number: str
    phone_last4: str | None


@dataclass(frozen=True)
class LookupResult:
    """What the server said about the request (docs/API.md, the lookup's answer)."""

    number: str
    status: str
    status_zh: str
    status_en: str
    category_zh: str
    category_en: str
    volunteer: str | None
    filed_on: str  # YYYY-MM-DD, the day it was filed
    status_url: str
    # The booked visit of a service by appointment (aware, UTC as sent); None for others.
    appointment_at: datetime | None = None

    def status_label(self, lang: str) -> str:
        return (self.status_en if lang == "en" else self.status_zh) or self.status

    def category(self, lang: str) -> str:
        return (self.category_en if lang == "en" else self.category_zh) or self.category_zh


def parse_lookup(payload: object) -> LookupResult:
    """The lookup's JSON answer; ValueError if it is not the documented shape."""
    if not isinstance(payload, dict) or not isinstance(payload.get("number"), str):
        raise ValueError("lookup: the answer has no number")

    def text(key: str) -> str:
        value = payload.get(key)
        return value if isinstance(value, str) else ""

    volunteer = payload.get("volunteer_given_name")
    return LookupResult(
        appointment_at=_moment(payload.get("appointment_at")),
        number=text("number"), status=text("status"), status_zh=text("status_label_zh"),
        status_en=text("status_label_en"), category_zh=text("category_name_zh"),
        category_en=text("category_name_en"),
        volunteer=volunteer if isinstance(volunteer, str) and volunteer else None,
        filed_on=text("filed_at")[:10], status_url=text("status_url"))


def _moment(value: object) -> datetime | None:
    """An ISO time from the server; None when absent or not a time with its zone (a lookup
    answer without the booked time is still worth showing)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


class LookupJourney(Navigation):
    """查进度: the digits typed, the query in flight, and what came back."""

    def __init__(self, **shared: Any) -> None:
        super().__init__(**shared)
        # The kiosk's id, set by the app from kiosk.kiosk_id: its requests' numbers start so.
        self.lookup_prefix = "K1"
        self.lookup_digits = ""
        self.lookup_last4 = ""
        self.lookup_outcome = LookupOutcome.SEARCHING
        self.lookup_result: LookupResult | None = None
        self._lookup_serial = 0

    @property
    def lookup_shown_number(self) -> str:
        """The number as the resident is typing it, with the kiosk's letters in front."""
        return f"{self.lookup_prefix}-{self.lookup_digits}"

    # --- the journey's part in the shared navigation ------------------------------------------

    def _forget(self) -> None:
        self.lookup_digits = self.lookup_last4 = ""
        self.lookup_result = None
        self.lookup_outcome = LookupOutcome.SEARCHING
        self._lookup_serial += 1  # an answer still on its way is for nobody now
        super()._forget()

    def _step_back(self) -> bool:
        if self.step is Step.LOOKUP_PHONE:
            self._go(Step.LOOKUP)
            return True
        if self.step is Step.LOOKUP_RESULT:
            self._lookup_serial += 1
            self._go(Step.LOOKUP_PHONE)
            return True
        return super()._step_back()

    def _keypad(self) -> Keypad | None:
        if self.step is Step.LOOKUP:
            def store_number(digits: str) -> None:
                self.lookup_digits = digits

            return Keypad(self.lookup_digits, LOOKUP_DIGITS, store_number)
        if self.step is Step.LOOKUP_PHONE:
            def store_last4(digits: str) -> None:
                self.lookup_last4 = digits

            return Keypad(self.lookup_last4, LAST4_DIGITS, store_last4)
        return super()._keypad()

    def _keeps_awake(self) -> bool:
        return ((self.step is Step.LOOKUP_RESULT
                 and self.lookup_outcome is LookupOutcome.SEARCHING) or super()._keeps_awake())

    # --- the resident's moves -----------------------------------------------------------------

    def open_lookup(self) -> None:
        self._begin()
        self._go(Step.LOOKUP)

    def confirm_lookup_number(self) -> bool:
        self._only_at(Step.LOOKUP)
        if not self.lookup_digits:
            self.problem = "lookup_number_empty"
            return False
        self._go(Step.LOOKUP_PHONE)
        return True

    def confirm_lookup_phone(self) -> LookupQuery | None:
        """The last four digits typed: the query to send (None, with a problem, if short)."""
        self._only_at(Step.LOOKUP_PHONE)
        if len(self.lookup_last4) != LAST4_DIGITS:
            self.problem = "lookup_phone_short"
            return None
        return self._ask(self.lookup_last4)

    def lookup_without_phone(self) -> LookupQuery:
        """"I left no phone": the query by the number alone."""
        self._only_at(Step.LOOKUP_PHONE)
        self.lookup_last4 = ""
        return self._ask(None)

    def _ask(self, last4: str | None) -> LookupQuery:
        self._lookup_serial += 1
        self.lookup_result = None
        self.lookup_outcome = LookupOutcome.SEARCHING
        self._go(Step.LOOKUP_RESULT)
        return LookupQuery(serial=self._lookup_serial,
                           number=lookup_number(self.lookup_prefix, self.lookup_digits),
                           phone_last4=last4)

    def retry_lookup(self) -> None:
        """Type again: back to the number, which stays for the resident to check."""
        self._only_at(Step.LOOKUP_RESULT)
        self._lookup_serial += 1
        self.lookup_last4 = ""
        self._go(Step.LOOKUP)

    # --- the server's answers -----------------------------------------------------------------

    def _current(self, query: LookupQuery) -> bool:
        return self.step is Step.LOOKUP_RESULT and query.serial == self._lookup_serial

    def lookup_found(self, query: LookupQuery, result: LookupResult) -> bool:
        """False if the answer came too late (the resident has moved on)."""
        if not self._current(query):
            return False
        self.lookup_result, self.lookup_outcome = result, LookupOutcome.FOUND
        self.touched()
        return True

    def lookup_missed(self, query: LookupQuery) -> bool:
        if not self._current(query):
            return False
        self.lookup_outcome = LookupOutcome.NOT_FOUND
        self.touched()
        return True

    def lookup_unreachable(self, query: LookupQuery) -> bool:
        if not self._current(query):
            return False
        self.lookup_outcome = LookupOutcome.UNREACHABLE
        self.touched()
        return True
