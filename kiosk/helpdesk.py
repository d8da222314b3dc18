"""The kiosk's errands for a resident who needs more than the screen: the slip, a person, a
request looked up again. Each runs off the UI thread and hands its answer back on it, as
:mod:`kiosk.errands` does for filing and the library:

- the printer lane: one slip at a time (a second tap while printing waits its turn);
- the desk lane: 呼叫工作人员 and 查进度, calls to the server, one at a time.

Each call returns its :class:`~concurrent.futures.Future` and, once done, calls ``then(future)``
through ``on_ui`` (the app passes Kivy's ``Clock.schedule_once``). No Kivy here::

    desk = HelpDesk(client, printer, on_ui=lambda fn: fn(), kiosk_id="K1", place="门口")
    desk.print_slip(slip, then=lambda future: future.result())   # PaperOut, PrinterOffline
    desk.call_staff("review", then=...)                          # StaffCalled
    desk.lookup(query, then=...)                                 # LookupResult, or ServerRefused
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from kiosk.api import ServerClient
from kiosk.errors import BadReply
from kiosk.flow.lookup import LookupQuery, LookupResult, parse_lookup
from kiosk.presenters.slip import Slip
from kiosk.printer import SlipPrinter

__all__ = ["HelpDesk", "StaffCalled"]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class StaffCalled:
    """The server took the call: ``alerted`` is False when a press a moment ago already did."""

    alerted: bool
    ticket: str
    phone: str


class HelpDesk:
    def __init__(self, client: ServerClient, printer: SlipPrinter | None, *,
                 on_ui: Callable[[Callable[[], None]], None], kiosk_id: str,
                 place: str = "") -> None:
        self.client = client
        self.printer = printer
        self.kiosk_id = kiosk_id
        self.place = place
        self._on_ui = on_ui
        self._printing = ThreadPoolExecutor(1, thread_name_prefix="kiosk-print")
        self._desk = ThreadPoolExecutor(1, thread_name_prefix="kiosk-desk")

    def _run(self, lane: ThreadPoolExecutor, work: Callable[[], T],
             then: Callable[[Future[T]], None]) -> Future[T]:
        future = lane.submit(work)
        future.add_done_callback(lambda done: self._on_ui(lambda: then(done)))
        return future

    def print_slip(self, slip: Slip, then: Callable[[Future[None]], None]) -> Future[None]:
        printer = self.printer
        if printer is None:
            raise RuntimeError("no printer configured")
        return self._run(self._printing, lambda: printer.print_slip(slip), then)

    def call_staff(self, screen: str, then: Callable[[Future[StaffCalled]], None]
                   ) -> Future[StaffCalled]:
        def call() -> StaffCalled:
            reply = self.client.call_staff(kiosk_id=self.kiosk_id, place=self.place,
                                           screen=screen)
            if not isinstance(reply, dict) or not reply.get("called"):
                raise BadReply("help: the answer does not say staff were called")
            return StaffCalled(alerted=bool(reply.get("alerted")),
                               ticket=str(reply.get("ticket") or ""),
                               phone=str(reply.get("phone") or ""))

        return self._run(self._desk, call, then)

    def lookup(self, query: LookupQuery, then: Callable[[Future[LookupResult]], None]
               ) -> Future[LookupResult]:
        def ask() -> LookupResult:
            reply = self.client.lookup_request(number=query.number,
                                               phone_last4=query.phone_last4)
            try:
                return parse_lookup(reply)
            except ValueError as exc:
                raise BadReply(str(exc)) from exc

        return self._run(self._desk, ask, then)

    def shutdown(self) -> None:
        """Let a slip that has started finish (half a slip helps nobody); drop waiting calls."""
        self._desk.shutdown(wait=True, cancel_futures=True)
        self._printing.shutdown(wait=True)
