"""The kiosk's flow: which step a resident is on, what they have entered, and when to give up.

This is the whole behaviour of the touchscreen with the screen taken away. The Kivy layer shows
``flow.step`` and calls one method per tap; everything here is plain Python (no Kivy, no HTTP,
no files) so it is tested fast and checked with ``mypy --strict``::

    flow = Flow(idle_seconds=90, warning_seconds=30, staff_pin="2468", now=clock)
    flow.set_catalog(categories=cats, compounds=places)
    flow.choose_category("water_electric"); flow.answer("leak")
    ...
    body = flow.submit()          # the RequestCreate body; the step is now SENDING

How it is built, one module a room, every import pointing down:

- ``steps``: the :class:`Step` of every screen, the step sets, where Back leads;
- ``navigation``: the shared moves: Back, Home, the keypad, the idle timeout, and the hooks a
  journey fills in;
- the journeys over it: ``request`` (filing a request, with its ``draft``; ``appointment`` adds
  the slot step of a by-appointment service), ``staff`` (the PIN
  and the site's status), ``library`` (borrow, renew, return), ``lookup`` (查进度) and
  ``help`` (no timeout while a resident waits for staff);
- :class:`Flow`, here: the three journeys stacked, and the one move between two of them (the
  library's "bring books to my home" is a request).

Every step has Back (one step up) and Home (drop the draft).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from kiosk.flow.appointment import SLOT_REFUSALS, AppointmentJourney
from kiosk.flow.draft import Draft
from kiosk.flow.help import HelpWait
from kiosk.flow.library import LIBRARY_CATEGORY, LibraryCall, LibraryJourney
from kiosk.flow.lookup import LookupJourney
from kiosk.flow.request import Receipt
from kiosk.flow.staff import StaffJourney
from kiosk.flow.steps import DRAFT_STEPS, LIBRARY_STEPS, IdlePhase, Step, valid_phone

__all__ = [
    "DRAFT_STEPS",
    "Draft",
    "Flow",
    "IdlePhase",
    "LIBRARY_CATEGORY",
    "LIBRARY_STEPS",
    "LibraryCall",
    "Receipt",
    "SLOT_REFUSALS",
    "Step",
    "valid_phone",
]


class Flow(AppointmentJourney, LibraryJourney, StaffJourney, LookupJourney, HelpWait):
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
        super().__init__(idle_seconds=idle_seconds, warning_seconds=warning_seconds, now=now,
                         new_id=new_id, staff_pin=staff_pin, pin_attempts=pin_attempts,
                         pin_lockout_s=pin_lockout_s)

    def library_deliver(self) -> None:
        """"Bring books to my home": the request for it, as the tile filed it before."""
        self._library(Step.LIBRARY)
        self._end_visit()
        self.step = Step.HOME
        self.choose_category(LIBRARY_CATEGORY)
