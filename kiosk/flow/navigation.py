"""The flow's shared navigation: the step on screen, Back and Home, the keypad, the idle timeout.

Every journey (:mod:`~kiosk.flow.request`, :mod:`~kiosk.flow.staff`, :mod:`~kiosk.flow.library`)
is a subclass of :class:`Navigation` that adds its own steps and fills in the hooks below;
:class:`kiosk.flow.Flow` stacks the three. The hooks are cooperative: an override handles its
journey's steps and otherwise calls ``super()``, so no journey needs to know about the others:

- ``_entered(step)``: the step just changed (the request keeps its draft's step in step);
- ``_forget()``: Home, or a new journey from the home screen: drop what this journey holds;
- ``_step_back()``: Back at a step whose target depends on what was entered; True if handled
  (the rest follow :data:`~kiosk.flow.steps.BACK`);
- ``_keypad()``: the digits the keypad on screen types into, if this journey owns the step;
- ``_keeps_awake()``: nothing to lose, or waiting for the server: no idle timeout now.

Idle handling: after ``idle_seconds`` with no touch the app warns; ``warning_seconds`` later the
kiosk goes home, dropping whatever was entered.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.flow.steps import BACK, IdlePhase, Step

__all__ = ["Keypad", "Navigation"]


@dataclass(frozen=True)
class Keypad:
    """The digits a keypad step types into: what is there, how many fit, and where they go."""

    digits: str
    limit: int
    store: Callable[[str], None]


class Navigation:
    """The step on screen and the moves every journey shares."""

    def __init__(
        self,
        *,
        idle_seconds: float,
        warning_seconds: float,
        now: Callable[[], float] = time.monotonic,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.idle_seconds = idle_seconds
        self.warning_seconds = warning_seconds
        self._now = now
        self._new_id = new_id
        self.step = Step.HOME
        # A message key (see kiosk.i18n) telling the resident why the last tap did nothing.
        self.problem = ""
        self._last_touch = now()

    # --- the hooks the journeys fill in -------------------------------------------------------

    def _entered(self, step: Step) -> None:
        """The step has just become ``step``."""

    def _forget(self) -> None:
        """Drop what this journey holds (Home, or another journey starts)."""

    def _step_back(self) -> bool:
        """Go back from a step whose target depends on what was entered; False if not ours."""
        return False

    def _keypad(self) -> Keypad | None:
        """The digits the keypad of the current step types into, or None."""
        return None

    def _keeps_awake(self) -> bool:
        """Whether the idle timeout must not run now."""
        return False

    # --- moving between steps -----------------------------------------------------------------

    def _go(self, step: Step) -> None:
        self.step = step
        self.problem = ""
        self._entered(step)

    def _only_at(self, *steps: Step) -> None:
        if self.step not in steps:
            raise RuntimeError(f"not possible at step {self.step}")

    def _begin(self) -> None:
        """A journey starts from the home screen: nothing of an earlier one may come along."""
        self._only_at(Step.HOME)
        self._forget()

    @property
    def can_go_back(self) -> bool:
        return self.step not in (Step.HOME, Step.SENDING)

    def back(self) -> None:
        if not self.can_go_back or self._step_back():
            return
        target = BACK.get(self.step, Step.HOME)
        if target is Step.HOME:
            self.home()
        else:
            self._go(target)

    def home(self) -> None:
        """Drop whatever was entered and show the home screen."""
        self._forget()
        self.step = Step.HOME
        self.problem = ""

    # --- the keypad ---------------------------------------------------------------------------

    def press_digit(self, digit: str) -> None:
        if len(digit) != 1 or not digit.isdigit():
            raise ValueError(f"{digit!r} is not a digit")
        self.problem = ""
        keypad = self._keypad()
        if keypad is None:
            raise RuntimeError(f"no keypad at step {self.step}")
        if len(keypad.digits) < keypad.limit:
            keypad.store(keypad.digits + digit)

    def delete_digit(self) -> None:
        self.problem = ""
        keypad = self._keypad()
        if keypad is not None:
            keypad.store(keypad.digits[:-1])

    def clear_digits(self) -> None:
        self.problem = ""
        keypad = self._keypad()
        if keypad is not None:
            keypad.store("")

    # --- idle ---------------------------------------------------------------------------------

    def touched(self) -> None:
        """Any touch on the screen: the resident is still here."""
        self._last_touch = self._now()

    def idle_phase(self) -> IdlePhase:
        if self._keeps_awake():
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
