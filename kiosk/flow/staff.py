"""The staff journey: a community worker opens the site's status with the staff PIN.

    HOME -> STAFF_PIN -> STAFF

The PIN is compared in constant time, and after ``pin_attempts`` wrong ones the keypad is locked
for ``pin_lockout_s`` seconds. Pure; one of the journeys of :class:`kiosk.flow.Flow` over
:class:`~kiosk.flow.navigation.Navigation`.
"""

from __future__ import annotations

import hmac
from typing import Any

from kiosk.flow.navigation import Keypad, Navigation
from kiosk.flow.steps import Step

__all__ = ["STAFF_PIN_MAX", "StaffJourney"]

STAFF_PIN_MAX = 8


class StaffJourney(Navigation):
    """Staff mode behind a PIN."""

    def __init__(self, *, staff_pin: str, pin_attempts: int = 5, pin_lockout_s: float = 60.0,
                 **shared: Any) -> None:
        super().__init__(**shared)
        self._staff_pin = staff_pin
        self._pin_attempts = pin_attempts
        self._pin_lockout_s = pin_lockout_s
        self._pin_failures = 0
        self._pin_locked_until = 0.0
        self.pin = ""

    def _forget(self) -> None:
        self.pin = ""
        super()._forget()

    def _keypad(self) -> Keypad | None:
        if self.step is not Step.STAFF_PIN:
            return super()._keypad()

        def store(digits: str) -> None:
            self.pin = digits

        return Keypad(self.pin, STAFF_PIN_MAX, store)

    def open_staff(self) -> None:
        self._begin()
        self._go(Step.STAFF_PIN)

    def confirm_pin(self) -> bool:
        self._only_at(Step.STAFF_PIN)
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
