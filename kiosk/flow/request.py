"""The request journey: a resident files a service request, step by step, and takes a receipt.

    HOME -> QUESTION (one per category question) -> COMPOUND -> BUILDING -> UNIT -> REVIEW
         -> SENDING -> DONE (or FAILED)
    REVIEW -> DOOR (the door number) -> REVIEW;  REVIEW -> PHONE (a phone to call) -> REVIEW

The door number and the phone are optional, so they are extras opened from the review rather
than steps on the way: the shortest request (no phone) is six taps from home to done
(tests/kiosk/test_kiosk_taps.py), which an elderly resident can hold in mind.

What the resident has entered is a :class:`Draft`; :meth:`RequestJourney.submit` turns it into
the RequestCreate body (docs/API.md) and the app delivers it, then calls ``filed`` with the
:class:`Receipt` or ``refused``. The draft survives a restart: :meth:`RequestJourney.snapshot`
gives a JSON-able dict after each step and :meth:`RequestJourney.restore` takes it back (the app
writes it to disk). Pure (no Kivy, no HTTP, no files); one of the journeys of
:class:`kiosk.flow.Flow` over :class:`~kiosk.flow.navigation.Navigation`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from kiosk.catalog import (
    Building,
    Category,
    Compound,
    Question,
    Unit,
    find_category,
    find_compound,
)
from kiosk.flow.draft import Draft
from kiosk.flow.navigation import Keypad, Navigation
from kiosk.flow.steps import (
    DRAFT_STEPS,
    PHONE_DIGITS,
    ROOM_DIGITS,
    Step,
    floor_of_room,
    valid_phone,
)

__all__ = ["PROGRESS_TOTAL", "Receipt", "RequestJourney"]

# (step of 5) shown to the resident as "step 2 of 5".
_PROGRESS = {Step.QUESTION: 2, Step.COMPOUND: 3, Step.BUILDING: 3, Step.UNIT: 3,
             Step.REVIEW: 4, Step.DOOR: 4, Step.PHONE: 4}
PROGRESS_TOTAL = 4


@dataclass(frozen=True)
class Receipt:
    """What the resident takes away: a ticket number and the link behind the QR code."""

    number: str
    status_url: str
    offline: bool = False
    category: str = ""  # the service's code, for the printed slip (set by ``filed``)
    appointment_at: datetime | None = None  # a booked service's time (kiosk/flow/appointment.py)


class RequestJourney(Navigation):
    """Filing a service request: the catalog to choose from, the draft, and the receipt."""

    def __init__(self, **shared: Any) -> None:
        super().__init__(**shared)
        self.categories: tuple[Category, ...] = ()
        self.compounds: tuple[Compound, ...] = ()
        self.draft: Draft | None = None
        self.receipt: Receipt | None = None

    # --- the catalog --------------------------------------------------------------------------

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

    # --- the journey's part in the shared navigation ------------------------------------------

    def _entered(self, step: Step) -> None:
        if self.draft is not None:
            self.draft.step = step
        super()._entered(step)

    def _forget(self) -> None:
        self.draft = None
        self.receipt = None
        super()._forget()

    def _step_back(self) -> bool:
        draft, step = self.draft, self.step
        if draft is None or step not in (Step.QUESTION, Step.COMPOUND, Step.PHONE):
            return super()._step_back()
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
        else:
            # Back from the phone keypad keeps a whole number (nothing typed is thrown away)
            # and otherwise leaves the request without one, as it was.
            draft.contact = "phone" if valid_phone(draft.phone) else "come_back"
            self._go(Step.REVIEW)
        return True

    def _keypad(self) -> Keypad | None:
        draft = self.draft
        if self.step not in (Step.PHONE, Step.DOOR) or draft is None:
            return super()._keypad()
        if self.step is Step.DOOR:
            def store_room(digits: str) -> None:
                draft.room = digits

            return Keypad(draft.room, ROOM_DIGITS, store_room)

        def store(digits: str) -> None:
            draft.phone = digits

        return Keypad(draft.phone, PHONE_DIGITS, store)

    def _keeps_awake(self) -> bool:
        # Nothing to lose on an empty home screen, and while sending we wait for the server.
        return ((self.step is Step.HOME and self.draft is None) or self.step is Step.SENDING
                or super()._keeps_awake())

    # --- filing a request ---------------------------------------------------------------------

    def _require(self, *steps: Step) -> Draft:
        if self.step not in steps or self.draft is None:
            raise RuntimeError(f"not possible at step {self.step}")
        return self.draft

    def choose_category(self, code: str) -> None:
        self._only_at(Step.HOME)
        category = find_category(self.categories, code)
        if category is None:
            raise ValueError(f"no kiosk category {code!r}")
        self._forget()
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
        if draft.contact is None:
            # Until a phone is left, the resident will come back (or scan the QR code).
            draft.contact = "come_back"
        self._go(Step.REVIEW)

    def add_door(self) -> None:
        """The review's "门牌号" button: type the door number (it helps the volunteer)."""
        self._require(Step.REVIEW)
        self._go(Step.DOOR)

    def confirm_door(self) -> None:
        """The door number typed, or none: both go back to the review."""
        self._require(Step.DOOR)
        self._go(Step.REVIEW)

    def leave_phone(self) -> None:
        """The review's "留下电话号码" button."""
        self._require(Step.REVIEW)
        self._go(Step.PHONE)

    def confirm_phone(self) -> bool:
        draft = self._require(Step.PHONE)
        if not draft.phone:
            # Cleared and confirmed: no phone after all.
            draft.contact = "come_back"
            self._go(Step.REVIEW)
            return True
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
        if draft.room:
            body["room"] = draft.room
            if floor_of_room(draft.room):
                body["floor"] = floor_of_room(draft.room)
        return body

    def submit(self) -> dict[str, Any]:
        """Send it: the step becomes SENDING and the body to deliver is returned."""
        self._require(Step.REVIEW, Step.FAILED)
        body = self.request_body()
        self._go(Step.SENDING)
        return body

    def filed(self, receipt: Receipt) -> None:
        """The request is safe (on the server, or in the kiosk's outbox): show the ticket."""
        draft = self._require(Step.SENDING)
        self.receipt = replace(receipt, category=receipt.category or draft.category)
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

    # --- the draft on disk --------------------------------------------------------------------

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
            Step.DOOR: self.unit is not None,
            Step.PHONE: self.unit is not None,
            Step.REVIEW: self.unit is not None,
        }
        return needs.get(step, False)
