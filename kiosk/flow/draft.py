"""What a resident has entered of a request so far, and its JSON form for the draft file.

The app writes :meth:`Draft.to_json` to disk after every step and reads it back with
:meth:`Draft.from_json` after a restart (see :meth:`kiosk.flow.request.RequestJourney.restore`),
so a power cut never loses what an elderly resident has tapped in. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from kiosk.flow.steps import Step

__all__ = ["Draft"]

_DRAFT_VERSION = 1


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
    room: str = ""  # the door number, optional (502)
    # A by-appointment service's booked slot (kiosk/flow/appointment.py): its id and times.
    slot_id: int | None = None
    slot_starts: datetime | None = None
    slot_ends: datetime | None = None

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
            "room": self.room,
            "slot_id": self.slot_id,
            "slot_starts": self.slot_starts.isoformat() if self.slot_starts else None,
            "slot_ends": self.slot_ends.isoformat() if self.slot_ends else None,
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
        room = data.get("room", "")  # absent in drafts saved before the kiosk asked for it
        if not isinstance(question, int) or not isinstance(phone, str) or not (
                isinstance(room, str) and (room.isdigit() or room == "")):
            raise ValueError("bad question index, phone or room")
        return cls(
            client_id=texts["client_id"],
            category=texts["category"],
            # A draft saved at the contact step (kiosks before the phone moved to the review)
            # continues at the review.
            step=Step("review" if data.get("step") == "contact" else str(data.get("step"))),
            question=question,
            answers=dict(answers),
            compound=optional["compound"],
            building=optional["building"],
            unit=optional["unit"],
            contact=contact,
            phone=phone,
            room=room,
            **_slot(data),
        )


def _slot(data: Mapping[str, Any]) -> dict[str, Any]:
    """The booked slot's fields (absent in drafts saved before the kiosk booked slots)."""
    slot_id = data.get("slot_id")
    if slot_id is None:
        return {}
    if not isinstance(slot_id, int) or isinstance(slot_id, bool):
        raise ValueError("bad slot id")
    times: dict[str, datetime] = {}
    for key in ("slot_starts", "slot_ends"):
        value = data.get(key)
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        if moment is None or moment.utcoffset() is None:
            raise ValueError(f"{key} must be an aware time")
        times[key] = moment
    return {"slot_id": slot_id, **times}
