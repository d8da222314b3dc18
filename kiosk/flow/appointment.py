"""The appointment step: a by-appointment service (上门理发, 证件上门办理) is booked into a slot.

    HOME -> SLOT (选时间) -> QUESTION ... -> REVIEW -> SENDING -> DONE
    SENDING -> SLOT (the last place was just taken: "刚被约满了，请另选时间", the rest kept)

The slot step comes straight after the service, so the resident learns at once whether there is a
time at all (no slots: say so and offer 呼叫工作人员) before answering anything else. The slots are
read from the server each time the step is entered (a place may have gone since), so the step
says what it needs: :attr:`AppointmentJourney.slots_wanted` names the category to fetch, the app
fetches off the UI thread (kiosk/booking.py) and hands the answer to :meth:`slots_arrived` or
:meth:`slots_unreachable`. The chosen slot is kept in the :class:`~kiosk.flow.draft.Draft` (id
and times), so it survives a restart like every other field and the review, the done screen and
the slip can show its time without asking the server again.

A booking cannot promise a time while the server is away, so it is never queued in the outbox:
the app files it directly and, offline, shows the failed screen with the draft kept
(:meth:`RequestJourney.refused`). Pure (no Kivy, no HTTP, no files); the journey
:class:`kiosk.flow.Flow` uses in place of :class:`~kiosk.flow.request.RequestJourney`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

from kiosk.catalog import Slot
from kiosk.flow.request import PROGRESS_TOTAL, Receipt, RequestJourney
from kiosk.flow.steps import Step

__all__ = ["SLOT_REFUSALS", "AppointmentJourney", "SlotsState"]

# Why the server refused a booking's slot (docs/API.md): each sends the resident back to pick.
SLOT_REFUSALS = frozenset({"slot_full", "slot_invalid", "slot_required"})

# wanted: the app should fetch them; loading: it is; ok: here they are; unreachable: no answer.
SlotsState = Literal["wanted", "loading", "ok", "unreachable"]


class AppointmentJourney(RequestJourney):
    """The request journey with the slot step for by-appointment services."""

    def __init__(self, **shared: Any) -> None:
        super().__init__(**shared)
        self.slots: tuple[Slot, ...] = ()
        self.slots_state: SlotsState = "wanted"
        # The day whose slots are shown, as an ISO date in the site's time zone ("" = the first
        # day that has slots; kiosk/presenters/appointment.py works the days out).
        self.slot_day = ""
        # Where the times are shown: the site's zone, set by the app from [site] timezone (the
        # project's home until then, as foundation.settings' default).
        self.site_zone: tzinfo = ZoneInfo("Asia/Shanghai")

    @property
    def booking(self) -> bool:
        """Whether the draft's service is booked into a slot."""
        category = self.category
        return category is not None and category.by_appointment

    @property
    def slots_wanted(self) -> str | None:
        """The category whose slots the app should fetch now, or None."""
        draft = self.draft
        if self.step is Step.SLOT and self.slots_state == "wanted" and draft is not None:
            return draft.category
        return None

    def progress(self) -> tuple[int, int] | None:
        # The time is chosen where the first question is asked: the same place in the count.
        return (2, PROGRESS_TOTAL) if self.step is Step.SLOT else super().progress()

    # --- the journey's part in the shared navigation ------------------------------------------

    def _entered(self, step: Step) -> None:
        if step is Step.SLOT:
            # Read again on every visit: the places left change while the resident reads.
            self.slots, self.slots_state = (), "wanted"
        super()._entered(step)

    def _forget(self) -> None:
        self.slots, self.slots_state, self.slot_day = (), "wanted", ""
        super()._forget()

    def _step_back(self) -> bool:
        draft, step = self.draft, self.step
        if draft is None or not self.booking:
            return super()._step_back()
        category = self.category
        first_question = step is Step.QUESTION and draft.question == 0
        no_questions = (step is Step.COMPOUND and category is not None
                        and not category.questions)
        if step is Step.SLOT and draft.slot_id is not None and self._reachable(Step.REVIEW):
            self._go(Step.REVIEW)  # came back from a whole request to look: keep its time
        elif step is Step.SLOT:
            self.home()
        elif first_question or no_questions:
            self._go(Step.SLOT)
        else:
            return super()._step_back()
        return True

    # --- the slot step ------------------------------------------------------------------------

    def choose_category(self, code: str) -> None:
        super().choose_category(code)
        if self.booking:
            self._go(Step.SLOT)

    def slots_asked(self) -> None:
        """The app has started fetching the slots."""
        if self.slots_state == "wanted":
            self.slots_state = "loading"

    def slots_arrived(self, category: str, slots: tuple[Slot, ...]) -> bool:
        """The server's slots for ``category``; False (and ignored) if the screen moved on."""
        if not self._awaits_slots(category):
            return False
        self.slots, self.slots_state = slots, "ok"
        return True

    def slots_unreachable(self, category: str) -> bool:
        """The slots could not be read (the server is away): the step says so."""
        if not self._awaits_slots(category):
            return False
        self.slots, self.slots_state = (), "unreachable"
        return True

    def _awaits_slots(self, category: str) -> bool:
        return (self.step is Step.SLOT and self.slots_state == "loading"
                and self.draft is not None and self.draft.category == category)

    def retry_slots(self) -> None:
        """再试一次 after the slots could not be read."""
        self._only_at(Step.SLOT)
        self.slots, self.slots_state = (), "wanted"
        self.problem = ""

    def choose_slot_day(self, day: str) -> None:
        """Show the slots of ``day`` (an ISO date; its tab was tapped)."""
        self._only_at(Step.SLOT)
        self.slot_day = day
        self.problem = ""

    def choose_slot(self, slot_id: int) -> None:
        """A slot's button: book it into the draft and go on (to the review, if the rest of
        the request is already there: the slot was taken at sending, or the resident came
        back to change the time)."""
        draft = self._require(Step.SLOT)
        slot = next((s for s in self.slots if s.id == slot_id), None)
        if slot is None:
            raise ValueError(f"no slot {slot_id} on screen")
        if slot.full:
            self.problem = "slot_full_pick"
            return
        draft.slot_id, draft.slot_starts, draft.slot_ends = slot.id, slot.starts_at, slot.ends_at
        category = self.category
        if draft.unit is not None and self._reachable(Step.REVIEW):
            self._go(Step.REVIEW)
        elif category is not None and category.questions:
            draft.question = 0
            self._go(Step.QUESTION)
        else:
            self._go(Step.COMPOUND)

    def slot_taken(self) -> None:
        """The server refused the slot at sending (the last place went to someone else, or it
        was withdrawn): back to the slot step to pick another, everything else kept."""
        draft = self._require(Step.SENDING)
        draft.slot_id = draft.slot_starts = draft.slot_ends = None
        self._go(Step.SLOT)
        self.problem = "slot_taken"
        self.touched()

    # --- filing -------------------------------------------------------------------------------

    def request_body(self) -> dict[str, Any]:
        body = super().request_body()
        draft = self.draft
        if self.booking and draft is not None and draft.slot_id is not None:
            body["slot_id"] = draft.slot_id
        return body

    def submit(self) -> dict[str, Any]:
        draft = self.draft
        if self.booking and draft is not None and draft.slot_id is None:
            raise RuntimeError("a by-appointment request needs its slot")
        return super().submit()

    def filed(self, receipt: Receipt) -> None:
        draft = self.draft
        if draft is not None and receipt.appointment_at is None and draft.slot_starts:
            # The server's own time when it says one; else the slot that was booked.
            receipt = replace(receipt, appointment_at=draft.slot_starts)
        super().filed(receipt)

    # --- the draft on disk --------------------------------------------------------------------

    def restore(self, data: Mapping[str, Any]) -> bool:
        if not super().restore(data):
            return False
        draft = self.draft
        if (self.booking and draft is not None and draft.slot_id is None
                and self.step is not Step.SLOT):
            # A draft from before its service took appointments: the time is asked first.
            self._go(Step.SLOT)
        return True

    def _reachable(self, step: Step) -> bool:
        if step is Step.SLOT:
            return self.draft is not None and self.booking
        return super()._reachable(step)
