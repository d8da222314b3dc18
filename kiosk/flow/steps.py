"""The kiosk's steps: the vocabulary every journey of the flow shares.

One :class:`Step` per screen the kiosk can show, the sets of steps that belong together, and the
table of where Back leads from steps whose target does not depend on what was entered (the
journeys decide the rest; see :mod:`kiosk.flow.navigation`). Pure, no imports of the kiosk.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = ["BACK", "DRAFT_STEPS", "LIBRARY_STEPS", "LOOKUP_STEPS", "PHONE_DIGITS", "ROOM_DIGITS",
           "IdlePhase", "Step", "floor_of_room", "valid_phone"]

PHONE_DIGITS = 11
# A door number in the old compounds: 502 (floor 5, door 2), 1203 in the few taller blocks.
ROOM_DIGITS = 4
_PHONE = re.compile(r"^1\d{10}$")


class Step(StrEnum):
    HOME = "home"
    QUESTION = "question"
    SLOT = "slot"  # 选时间: a by-appointment service's time (kiosk/flow/appointment.py)
    COMPOUND = "compound"
    BUILDING = "building"
    UNIT = "unit"
    DOOR = "door"
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
    LOOKUP = "lookup"
    LOOKUP_PHONE = "lookup_phone"
    LOOKUP_RESULT = "lookup_result"


LIBRARY_STEPS = frozenset({Step.LIBRARY, Step.LIB_IDENTIFY, Step.LIB_PHONE, Step.LIB_PIN,
                           Step.LIB_BORROW, Step.LIB_COPY, Step.LIB_RECEIPT, Step.LIB_RETURN,
                           Step.LIB_LOANS})

# 查进度 (kiosk/flow/lookup.py): the number, the phone's last four digits, the answer.
LOOKUP_STEPS = frozenset({Step.LOOKUP, Step.LOOKUP_PHONE, Step.LOOKUP_RESULT})

# Steps at which a half-entered request exists and must survive a restart.
DRAFT_STEPS = frozenset({Step.QUESTION, Step.SLOT, Step.COMPOUND, Step.BUILDING, Step.UNIT,
                         Step.DOOR, Step.PHONE, Step.REVIEW, Step.SENDING, Step.FAILED})

# Where Back leads from steps whose answer does not depend on the draft.
BACK = {
    Step.BUILDING: Step.COMPOUND,
    Step.UNIT: Step.BUILDING,
    Step.REVIEW: Step.UNIT,
    # The door number and the phone are optional extras opened from the review.
    Step.DOOR: Step.REVIEW,
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


class IdlePhase(StrEnum):
    ACTIVE = "active"
    WARNING = "warning"
    EXPIRED = "expired"


def valid_phone(digits: str) -> bool:
    """A mainland mobile number: 11 digits starting with 1."""
    return bool(_PHONE.match(digits))


def floor_of_room(room: str) -> str:
    """The floor a door number says, as Chinese buildings number doors: 502 is on floor 5,
    1203 on floor 12; "" when the number says none (a short or odd one)."""
    if len(room) < 3 or not room.isdigit() or room[:-2].lstrip("0") == "":
        return ""
    return room[:-2].lstrip("0")
