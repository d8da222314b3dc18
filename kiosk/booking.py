"""The kiosk's part for by-appointment services (issue 20): the slot step's taps and the server's
answers, mixed into :class:`kiosk.app.KioskApp` like kiosk/taps.py and kiosk/assist.py.

- :meth:`Booking.sync_booking` runs after every ``sync``: when the flow's slot step wants its
  slots (kiosk/flow/appointment.py), they are read off the UI thread (kiosk/appointments.py) and
  handed back to the flow;
- the slot screen's taps: a day's tab, a slot, 再试一次;
- :meth:`Booking.book`: ``submit`` hands a body with ``slot_id`` here instead of the outbox. The
  last place taken by another kiosk (409 ``slot_full``) sends the resident back to the slot step
  with "刚被约满了，请另选时间" and everything else kept; the server away shows the failed screen
  with "预约需要联网，请找工作人员或稍后再试" and the draft kept (再试一次 sends it again).

The times are shown in the site's time zone (``[site] timezone``), which the flow is given here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from datetime import date, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from kivy.clock import Clock

from foundation.redact import short_hash
from kiosk.api import ServerClient
from kiosk.appointments import AppointmentDesk
from kiosk.catalog import Slot
from kiosk.errors import BadReply, KioskError, ServerRefused, ServerUnavailable
from kiosk.flow import SLOT_REFUSALS, Flow, Receipt, Step
from kiosk.i18n import tr
from kiosk.voice import Speaker

__all__ = ["Booking"]

log = logging.getLogger(__name__)


class Booking:
    """Slots and bookings. The app provides what is declared here."""

    flow: Flow
    settings: Any
    lang: str
    page: int
    offline: bool
    speaker: Speaker
    closed: bool
    _wall_clock: Callable[[], datetime]
    sync: Callable[[], None]
    _act: Callable[[Callable[[], Any]], None]

    def setup_booking(self, client: ServerClient) -> None:
        self.appointment_desk = AppointmentDesk(
            client, public_url=self.settings.http.public_url,
            on_ui=lambda run: Clock.schedule_once(lambda _dt: run()))
        self.flow.site_zone = ZoneInfo(self.settings.site.timezone)

    def shutdown_booking(self) -> None:
        self.appointment_desk.shutdown()

    def slot_today(self) -> date:
        """Today at the site, for the day tabs' 今天 and 明天."""
        return self._wall_clock().date()

    # --- the slots ----------------------------------------------------------------------------

    def sync_booking(self) -> None:
        """Read the slots when the slot step wants them (called at the end of ``sync``)."""
        category = self.flow.slots_wanted
        if category is None or self.closed:
            return
        self.flow.slots_asked()
        self.appointment_desk.slots(category, then=partial(self._slots_read, category))

    def _slots_read(self, category: str, future: Future[tuple[Slot, ...]]) -> None:
        if self.closed:
            return
        try:
            slots = future.result()
        except ServerUnavailable as exc:
            log.warning("slots of %s: server unavailable: %s", category, exc)
            self.offline = True
            changed = self.flow.slots_unreachable(category)
        except KioskError as exc:
            log.error("slots of %s could not be read: %s", category, exc)
            changed = self.flow.slots_unreachable(category)
        else:
            log.info("slots of %s: %d, %d bookable", category, len(slots),
                     sum(not s.full for s in slots))
            changed = self.flow.slots_arrived(category, slots)
        if changed:
            self.sync()

    # --- the slot screen's taps ---------------------------------------------------------------

    def choose_slot_day(self, day: str) -> None:
        self.page = 0
        self._act(lambda: self.flow.choose_slot_day(day))

    def choose_slot(self, key: str) -> None:
        self._act(lambda: self.flow.choose_slot(int(key)))

    def retry_slots(self) -> None:
        self._act(self.flow.retry_slots)

    # --- filing a booking ---------------------------------------------------------------------

    def book(self, body: dict[str, Any]) -> None:
        """Send a by-appointment request straight to the server (never the outbox)."""
        log.info("booking request %s (%s) into slot %s", short_hash(body["client_id"]),
                 body["category"], body["slot_id"])
        self.appointment_desk.book(body, then=partial(self._booked, body["client_id"]))

    def _booked(self, client_id: str, future: Future[Receipt]) -> None:
        if self.closed:
            return
        draft = self.flow.draft
        if self.flow.step is not Step.SENDING or draft is None or draft.client_id != client_id:
            log.warning("booking %s answered after the screen moved on", short_hash(client_id))
            return
        taken = False
        try:
            receipt = future.result()
        except ServerRefused as exc:
            log.warning("booking %s refused: %s", short_hash(client_id), exc)
            taken = exc.code in SLOT_REFUSALS
            if taken:
                self.flow.slot_taken()
            else:
                self.flow.refused("refused")
        except (ServerUnavailable, BadReply) as exc:
            # Not queued: a time promised offline could be given to someone else meanwhile.
            log.warning("booking %s not sent, server unavailable: %s", short_hash(client_id), exc)
            self.offline = isinstance(exc, ServerUnavailable)
            self.flow.refused("slot_unreachable")
        except Exception:
            log.exception("booking %s failed", short_hash(client_id))
            self.flow.refused("refused")
        else:
            self.offline = False
            self.flow.filed(receipt)
        self.sync()
        if taken:
            # Said before the step's own prompt would be: why the resident is back here.
            pause = "。" if self.lang == "zh_CN" else ". "
            self.speaker.say(tr(self.lang, "slot_taken") + pause + tr(self.lang, "say_slot"),
                             self.lang)
