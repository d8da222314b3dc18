"""What every scene stands on: a clock that moves only when told, and the reset to an empty home
screen that each scene starts from (through the app's public methods only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["DEMO_TOKEN", "ManualClock", "Scene", "reset", "type_digits"]

DEMO_TOKEN = "Qm9va3NBbmRXYXRlclRhbmtzQXJlR29vZEZvclRoZUNvbW11bml0eQ"


class ManualClock:
    """A monotonic clock that moves only when told to (idle timeouts without waiting)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


Scene = Callable[[Any, ManualClock], None]


def reset(app: Any) -> None:
    """The home screen, empty and online, the resident just arrived (the Home button's way)."""
    app.reset_assist()  # no help window or print note left over from the scene before
    app.reset_recorder()  # nor a 说一说 window
    app.go_home()
    app.offline = False
    app.flow.touched()


def type_digits(flow: Any, digits: str) -> None:
    """Press the on-screen keypad's keys one by one, as a finger would."""
    for digit in digits:
        flow.press_digit(digit)
