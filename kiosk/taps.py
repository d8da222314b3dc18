"""The verbs of the kiosk's screens: one method per tap, as the .kv files call them
(``on_release: app.go_back()``).

:class:`Taps` is a part of :class:`kiosk.app.KioskApp`, kept in its own file so the app's
lifecycle and its conversation with the server read apart from the list of taps. Each verb
calls the flow and then ``sync()`` (show the step, save the draft, speak); a tap that needs the
server (send, a library scan) hands the call to ``errands`` with the app's handler for the
answer. A stale tap (the screen changed under the finger) is logged and ignored, never a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from foundation.redact import short_hash
from kiosk.errands import Errands
from kiosk.flow import LIBRARY_CATEGORY, Flow, LibraryCall, Step
from kiosk.presenters import SKIP

__all__ = ["Taps"]

log = logging.getLogger(__name__)


class Taps:
    """One method per tap. The app provides what is declared here, and the methods ``sync``,
    ``set_language``, ``refresh_status``, ``current_screen``, ``_dismiss_idle_warning`` and the
    answer handlers ``_filed`` and ``_library_answered``."""

    flow: Flow
    errands: Errands
    lang: str
    page: int
    sync: Callable[[], None]
    confirm_lookup: Callable[[], None]  # kiosk/assist.py
    book: Callable[[dict[str, Any]], None]  # kiosk/booking.py

    def _act(self, action: Callable[[], Any]) -> None:
        try:
            action()
        except (RuntimeError, ValueError) as exc:
            log.warning("ignored tap at step %s: %s", self.flow.step, exc)
        self.sync()

    def _library_act(self, action: Callable[[], LibraryCall | None]) -> None:
        call: LibraryCall | None = None
        try:
            call = action()
        except (RuntimeError, ValueError) as exc:
            log.warning("ignored library action at step %s: %s", self.flow.step, exc)
        if call is not None:
            self.errands.library(call, then=partial(self._library_answered, call))
        self.sync()

    # --- anywhere -----------------------------------------------------------------------------

    def toggle_language(self) -> None:
        self.set_language("en" if self.lang == "zh_CN" else "zh_CN")
        self.sync()

    def turn_page(self, delta: int) -> None:
        self.page = max(0, self.page + delta)
        self.current_screen().refresh(self)

    def press_key(self, key: str) -> None:
        flow = self.flow
        if key == "delete":
            self._act(flow.delete_digit)
        elif key == "clear":
            self._act(flow.clear_digits)
        else:
            self._act(lambda: flow.press_digit(key))

    def confirm_keypad(self) -> None:
        step = self.flow.step
        if step is Step.LIB_PHONE:
            self._act(self.flow.confirm_library_phone)
        elif step is Step.LIB_PIN:
            self._library_act(self.flow.confirm_library_pin)
        elif step is Step.LIB_COPY:
            self._library_act(self.flow.confirm_copy)
        elif step is Step.DOOR:
            self._act(self.flow.confirm_door)
        elif step is Step.STAFF_PIN:
            self._act(self.flow.confirm_pin)
            if self.flow.step is Step.STAFF:
                self.refresh_status()
        elif step in (Step.LOOKUP, Step.LOOKUP_PHONE):
            self.confirm_lookup()  # 查进度: kiosk/assist.py
        else:
            self._act(self.flow.confirm_phone)

    def go_back(self) -> None:
        self._act(self.flow.back)

    def go_home(self) -> None:
        self._dismiss_idle_warning()
        self._act(self.flow.home)

    def stay(self) -> None:
        self.flow.touched()
        self._dismiss_idle_warning()

    def open_staff(self) -> None:
        self._act(self.flow.open_staff)

    # --- the request --------------------------------------------------------------------------

    def choose_category(self, code: str) -> None:
        if code == LIBRARY_CATEGORY:
            self.open_library()
            return
        self._act(lambda: self.flow.choose_category(code))

    def choose(self, key: str) -> None:
        flow = self.flow
        actions: dict[Step, Callable[[], None]] = {
            Step.QUESTION: lambda: flow.skip_question() if key == SKIP else flow.answer(key),
            Step.COMPOUND: lambda: flow.choose_compound(key),
            Step.BUILDING: lambda: flow.choose_building(key),
            Step.UNIT: lambda: flow.choose_unit(key),
        }
        action = actions.get(flow.step)
        if action is not None:
            self._act(action)

    def add_door(self) -> None:
        self._act(self.flow.add_door)

    def leave_phone(self) -> None:
        self._act(self.flow.leave_phone)

    def submit(self) -> None:
        try:
            body = self.flow.submit()
        except RuntimeError as exc:
            log.warning("ignored send at step %s: %s", self.flow.step, exc)
            return
        self.sync()
        if "slot_id" in body:  # a booking goes to the server or nowhere (kiosk/booking.py)
            self.book(body)
            return
        log.info("filing request %s (%s)", short_hash(body["client_id"]), body["category"])
        self.errands.file(body, then=partial(self._filed, body["client_id"]))

    def retry(self) -> None:
        self.submit()

    # --- the library --------------------------------------------------------------------------

    def open_library(self) -> None:
        self._act(self.flow.open_library)

    def library_choose(self, purpose: str) -> None:
        self._library_act(lambda: self.flow.library_choose(purpose))

    def library_deliver(self) -> None:
        self._act(self.flow.library_deliver)

    def library_use_phone(self) -> None:
        self._act(self.flow.library_use_phone)

    def library_type_copy(self) -> None:
        self._act(self.flow.library_type_copy)

    def library_done(self) -> None:
        self._act(self.flow.library_done)

    def renew(self, copy_id: str) -> None:
        self._library_act(lambda: self.flow.renew(copy_id))

    def scanned(self, text: str) -> None:
        """A whole scan from the scanner (a keyboard that types the code and presses Enter)."""
        log.info("scanned %r at step %s", text, self.flow.step)
        self._dismiss_idle_warning()
        self._library_act(lambda: self.flow.scan(text))
