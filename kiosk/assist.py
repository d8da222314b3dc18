"""The kiosk's help for a resident who needs more than the screen: the printed slip, 呼叫工作人员
and 查进度. A part of :class:`kiosk.app.KioskApp` (mixed in like :class:`kiosk.taps.Taps`),
kept apart so the app's lifecycle reads on its own.

- **The slip.** ``print_slip()`` (the 打印凭条 button on the done screen and the library's
  receipt) draws what :mod:`kiosk.presenters.slip` says and prints it on the helpdesk's printer
  lane; ``print_state`` tells the screen "printing", "printed", "paper_out" or "offline" in plain
  words. With no printer configured ``can_print`` is False and the button is not shown; a printer
  that fails leaves everything else as it was (the number and QR stay on screen).
- **呼叫工作人员.** ``call_staff()`` (on every screen) opens :class:`HelpWindow` over the screen
  the resident is on and asks the server to alert the duty staff; the window says staff were
  called, or that they could not be and which number to phone. Nothing under it changes, so
  "回到刚才的页面" (``close_help()``) finds the screen as it was; the idle timeout waits while it
  is open (:mod:`kiosk.flow.help`).
- **查进度.** ``open_lookup()`` and the keypad's confirm lead to a query on the helpdesk's desk
  lane; the answer is shown and spoken (:mod:`kiosk.presenters.lookup`).

Work from the helpdesk's threads reaches the widgets only in the ``_…`` handlers here, which
run on the UI thread (``Clock.schedule_once``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty

from kiosk.api import ServerClient
from kiosk.errors import ServerRefused
from kiosk.flow import Flow, Step
from kiosk.flow.lookup import LookupQuery, LookupResult
from kiosk.helpdesk import HelpDesk, StaffCalled
from kiosk.i18n import tr
from kiosk.presenters.appointment import appointment_text
from kiosk.presenters.lookup import lookup_result_view
from kiosk.presenters.slip import Slip, loan_slip, request_slip
from kiosk.printer import PaperOut, PrinterError, SlipPrinter, printer_from_settings
from kiosk.screens.assist import HelpWindow
from kiosk.settings import KioskAppSettings
from kiosk.voice import Speaker

__all__ = ["Assist"]

log = logging.getLogger(__name__)

class Assist:
    """The slip, the call for staff and 查进度. The app provides what is declared here."""

    can_print = BooleanProperty(False)
    # "", "printing", "printed", "paper_out" or "offline": about the slip of the screen shown.
    print_state = StringProperty("")

    flow: Flow
    lang: str
    settings: KioskAppSettings
    site_name: str
    site_phone: str
    speaker: Speaker
    root: Any
    sync: Callable[[], None]
    _wall_clock: Callable[[], datetime]

    def setup_assist(self, client: ServerClient, folder: Path) -> None:
        """Called once by the app's ``__init__``."""
        kiosk = self.settings.kiosk
        self.flow.lookup_prefix = kiosk.kiosk_id
        self._slips_folder = folder / "slips"
        self.helpdesk = HelpDesk(client, printer_from_settings(kiosk, folder=self._slips_folder),
                                 on_ui=lambda run: Clock.schedule_once(lambda _dt: run()),
                                 kiosk_id=kiosk.kiosk_id, place=kiosk.place)
        self.can_print = self.helpdesk.printer is not None
        self.help_window: HelpWindow | None = None
        self._printed_on = ""  # the screen print_state is about
        self._watching_screens = False

    def use_printer(self, printer: SlipPrinter | None) -> None:
        """Swap the printer (tests and scenes: the PNG fake, or one that fails)."""
        self.helpdesk.printer = printer
        self.can_print = printer is not None

    def reset_assist(self) -> None:
        """As the kiosk starts: no help window, no print note, the configured printer (scenes)."""
        self.close_help()
        self.print_state = ""
        self.use_printer(printer_from_settings(self.settings.kiosk,
                                               folder=self._slips_folder))

    def shutdown_assist(self) -> None:
        self.close_help()
        self.helpdesk.shutdown()

    # --- the slip -----------------------------------------------------------------------------

    def current_slip(self) -> Slip | None:
        """The slip for the screen shown: a filed request's (just now, or found by 查进度), or
        this visit's loans; else None."""
        flow, lang, today = self.flow, self.lang, self._wall_clock().date()
        phone = self.site_phone
        if flow.step is Step.DONE and flow.receipt is not None:
            receipt = flow.receipt
            category = next((c.name(lang) for c in flow.categories
                             if c.code == receipt.category), "")
            when = receipt.appointment_at  # a booked service's time (kiosk/booking.py)
            return request_slip(lang, site_name=self.site_name, phone=phone,
                                number=receipt.number, category=category,
                                status_url=receipt.status_url, today=today,
                                appointment=appointment_text(lang, when, flow.site_zone)
                                if when else "")
        found = flow.lookup_result
        if flow.step is Step.LOOKUP_RESULT and found is not None:
            # 查进度 found it: the slip again, dated the day it was filed.
            try:
                filed_on = date.fromisoformat(found.filed_on)
            except ValueError:
                filed_on = today
            return request_slip(lang, site_name=self.site_name, phone=phone,
                                number=found.number, category=found.category(lang),
                                status_url=found.status_url, today=filed_on)
        visit = flow.visit
        if flow.step is Step.LIB_RECEIPT and visit is not None and visit.borrowed:
            return loan_slip(lang, site_name=self.site_name, phone=phone, loans=visit.borrowed,
                             reader_url=visit.reader.phone_url if visit.reader else "",
                             today=today)
        return None

    def print_slip(self) -> None:
        if self.print_state == "printing" or not self.can_print:
            return
        slip = self.current_slip()
        if slip is None:
            log.warning("print tapped at step %s with nothing to print", self.flow.step)
            return
        self._printed_on = self.root.current
        if not self._watching_screens:
            self.root.fbind("current", self._screen_changed)
            self._watching_screens = True
        self.print_state = "printing"
        self.helpdesk.print_slip(slip, then=self._printed)

    def _screen_changed(self, *_args: Any) -> None:
        if self.root.current != self._printed_on:
            self.print_state = ""

    def _printed(self, future: Future[None]) -> None:
        try:
            future.result()
        except PaperOut as exc:
            log.warning("slip not printed: %s", exc)
            state = "paper_out"
        except PrinterError as exc:
            log.warning("slip not printed: %s", exc)
            state = "offline"
        except Exception:
            # A bug in drawing or a driver must not take the kiosk down with it.
            log.exception("printing the slip failed")
            state = "offline"
        else:
            state = "printed"
        if self.root.current == self._printed_on:
            self.print_state = state
            self.speaker.say(tr(self.lang, f"print_{state}"), self.lang)

    def print_note(self, lang: str, state: str) -> str:
        """The words under the print button for ``print_state``."""
        return tr(lang, f"print_{state}") if state else ""

    # --- 呼叫工作人员 -----------------------------------------------------------------------

    def call_staff(self) -> None:
        if self.help_window is not None:
            return
        self.flow.wait_for_staff()
        window = self.help_window = HelpWindow(phone=self.site_phone)
        window.open(animation=False)
        self.helpdesk.call_staff(self.flow.step.value, then=self._staff_called)

    def _staff_called(self, future: Future[StaffCalled]) -> None:
        window = self.help_window
        try:
            called = future.result()
        except Exception as exc:  # the server away, refusing, or nobody on duty: say to phone
            log.warning("calling staff failed: %s", exc)
            state = "failed"
        else:
            state = "called"
            log.info("staff called (ticket %s, %s)", called.ticket,
                     "alerted" if called.alerted else "already alerted")
            if window is not None and called.phone:
                window.phone = called.phone
        if window is not None:
            window.state = state
            self.speaker.say(tr(self.lang, f"say_help_{state}"), self.lang)

    def show_help(self, state: str, phone: str = "") -> None:
        """Open the help window in ``state`` without calling (scenes and screenshots)."""
        if self.help_window is None:
            self.flow.wait_for_staff()
            self.help_window = HelpWindow(phone=phone or self.site_phone)
            self.help_window.open(animation=False)
        self.help_window.state = state

    def close_help(self) -> None:
        """Back to where the resident was: nothing under the window has changed."""
        if self.help_window is not None:
            self.help_window.dismiss(animation=False)
            self.help_window = None
        self.flow.stop_waiting()

    # --- 查进度 -----------------------------------------------------------------------------

    def open_lookup(self) -> None:
        try:
            self.flow.open_lookup()
        except RuntimeError as exc:
            log.warning("ignored lookup tap at step %s: %s", self.flow.step, exc)
        self.sync()

    def confirm_lookup(self) -> None:
        """The keypad's confirm on the lookup's two keypads."""
        if self.flow.step is Step.LOOKUP:
            self.flow.confirm_lookup_number()
            self.sync()
        elif self.flow.step is Step.LOOKUP_PHONE:
            self._send_lookup(self.flow.confirm_lookup_phone())

    def lookup_without_phone(self) -> None:
        if self.flow.step is Step.LOOKUP_PHONE:
            self._send_lookup(self.flow.lookup_without_phone())

    def retry_lookup(self) -> None:
        if self.flow.step is Step.LOOKUP_RESULT:
            self.flow.retry_lookup()
        self.sync()

    def _send_lookup(self, query: LookupQuery | None) -> None:
        self.sync()
        if query is not None:
            log.info("looking up %s", query.number)
            self.helpdesk.lookup(query, then=lambda future: self._looked_up(query, future))

    def _looked_up(self, query: LookupQuery, future: Future[LookupResult]) -> None:
        flow = self.flow
        try:
            result = future.result()
        except ServerRefused as exc:
            log.info("lookup of %s: %s", query.number, exc)
            shown = flow.lookup_unreachable(query) if exc.status != 404 \
                else flow.lookup_missed(query)
        except Exception as exc:
            log.warning("lookup of %s: server unavailable: %s", query.number, exc)
            shown = flow.lookup_unreachable(query)
        else:
            shown = flow.lookup_found(query, result)
        if not shown:
            return  # the resident has moved on
        self.sync()
        view = lookup_result_view(flow, self.lang, phone=self.site_phone)
        if view.spoken:
            self.speaker.say(view.spoken, self.lang)
