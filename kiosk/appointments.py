"""The kiosk's errands for a by-appointment service, off the UI thread: read a category's slots,
and file a booking straight to the server.

A booking is never kept in the outbox (kiosk/outbox.py) the way an ordinary request is: a time
can only be promised by the server that counts the places, and a booking delivered hours later
may find its slot gone while the resident holds a slip with that time on it. So an unreachable
server is an error here (ServerUnavailable), and the app keeps the draft and says so
(kiosk/booking.py). A retry sends the same ``client_id``, which the server files once.

One lane, one worker thread: a booking waits for the slots read before it. Each call returns its
:class:`~concurrent.futures.Future` and, once done, calls ``then(future)`` through ``on_ui``, as
kiosk/errands.py does. No Kivy here::

    desk = AppointmentDesk(client, public_url="https://sp.example.cn", on_ui=lambda fn: fn())
    desk.slots("haircut", then=lambda future: future.result())      # tuple[Slot, ...]
    desk.book(body, then=lambda future: future.result().number)      # Receipt, or ServerRefused
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from foundation.redact import short_hash
from kiosk.api import ServerClient
from kiosk.catalog import Slot, parse_slots
from kiosk.flow import Receipt

__all__ = ["AppointmentDesk"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class AppointmentDesk:
    """Slots and bookings for one kiosk. ``on_ui(fn)`` must run ``fn`` on the UI thread soon."""

    def __init__(self, client: ServerClient, *, public_url: str,
                 on_ui: Callable[[Callable[[], None]], None]) -> None:
        self.client = client
        self.public_url = public_url.rstrip("/")
        self._on_ui = on_ui
        self._lane = ThreadPoolExecutor(1, thread_name_prefix="kiosk-booking")

    def _run(self, work: Callable[[], T], then: Callable[[Future[T]], None]) -> Future[T]:
        future = self._lane.submit(work)
        future.add_done_callback(lambda done: self._on_ui(lambda: then(done)))
        return future

    def slots(self, category: str, then: Callable[[Future[tuple[Slot, ...]]], None]
              ) -> Future[tuple[Slot, ...]]:
        """The category's slots of the next days, full ones included (BadReply if malformed)."""
        return self._run(lambda: parse_slots(self.client.get_slots(category)), then)

    def book(self, body: dict[str, Any], then: Callable[[Future[Receipt]], None]
             ) -> Future[Receipt]:
        """File a by-appointment request (``body`` has ``slot_id``). ServerRefused with
        ``slot_full`` / ``slot_invalid`` / ``slot_required`` when the slot cannot be had;
        ServerUnavailable when the server is away (nothing is kept for later)."""
        def file() -> Receipt:
            filed = self.client.file_request(body)
            log.info("booking %s filed as %s", short_hash(body.get("client_id")), filed.number)
            url = filed.status_url or (f"{self.public_url}/r/{filed.phone_token}"
                                       if filed.phone_token else "")
            return Receipt(number=filed.number, status_url=url,
                           appointment_at=filed.appointment_at)

        return self._run(file, then)

    def shutdown(self) -> None:
        """Let a booking that has started finish; drop reads not yet begun."""
        self._lane.shutdown(wait=True, cancel_futures=True)
