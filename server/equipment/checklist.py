"""The monthly extinguisher inspection: six things a walker checks at each extinguisher, and
what the answers mean. Pure: no database, no framework.

The items follow the monthly check GB 50444 lists for an extinguisher in place (灭火器的月检):
it is there, its seal and safety pin are intact, its gauge needle is in the green, its hose and
nozzle are whole, its label is legible, and its cabinet is in order.

    outcome = Outcome.of({"present": True, "seal_pin": True, "gauge_green": False, ...})
    outcome.passed            # False
    outcome.failed            # (Item.GAUGE_GREEN,)

An item left unanswered counts as failed: an inspection that did not look is not a pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["ITEMS", "Item", "Outcome"]


class Item(StrEnum):
    PRESENT = "present"
    SEAL_PIN = "seal_pin"
    GAUGE_GREEN = "gauge_green"
    HOSE_NOZZLE = "hose_nozzle"
    LABEL = "label"
    CABINET = "cabinet"


ITEMS: tuple[Item, ...] = tuple(Item)


@dataclass(frozen=True)
class Outcome:
    answers: tuple[tuple[Item, bool], ...]

    @classmethod
    def of(cls, answers: Mapping[str, bool | None]) -> Outcome:
        return cls(tuple((item, answers.get(item.value) is True) for item in ITEMS))

    @property
    def passed(self) -> bool:
        return all(ok for _, ok in self.answers)

    @property
    def failed(self) -> tuple[Item, ...]:
        return tuple(item for item, ok in self.answers if not ok)

    def as_dict(self) -> dict[str, bool]:
        return {item.value: ok for item, ok in self.answers}
