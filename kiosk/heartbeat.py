"""The kiosk's heartbeat: every minute (and at start) it tells the server it is alive and what
its outbox holds, so a community worker learns the kiosk in the lobby has gone quiet (power,
network) or is holding residents' requests, without walking past it.

    heartbeat = Heartbeat(client, outbox, kiosk_id="K1", place="大厅", outbox_damaged=False)
    heartbeat.start()     # a thread of its own: beats now, then every ``interval_s``
    heartbeat.beat()      # one beat, for tests; True when the server took it
    heartbeat.stop()

It sends ``POST /api/v1/kiosk/heartbeat`` through kiosk/api.py's ``ServerClient`` with the
kiosk key (server/api/routes/kiosk_heartbeat.py). A failed beat is quiet: logged at debug and
counted in ``failures``; it never touches the screen, and it only reads the outbox (its count
and its oldest row's age). Built and started by kiosk/app.py.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from kiosk.api import ServerClient
from kiosk.outbox import Outbox

__all__ = ["HEARTBEAT_S", "Heartbeat", "app_version"]

log = logging.getLogger(__name__)

HEARTBEAT_S = 60.0


def app_version() -> str:
    """The installed servicepoint's version ("" when run from a tree not installed)."""
    try:
        return metadata.version("servicepoint")
    except metadata.PackageNotFoundError:
        return ""


class Heartbeat:
    def __init__(self, client: ServerClient, outbox: Outbox, *, kiosk_id: str, place: str = "",
                 outbox_damaged: bool = False, version: str | None = None,
                 interval_s: float = HEARTBEAT_S,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.client = client
        self.outbox = outbox
        self.kiosk_id = kiosk_id
        self.place = place
        self.outbox_damaged = outbox_damaged
        self.version = app_version() if version is None else version
        self.interval_s = interval_s
        self.clock = clock
        self.sent = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def body(self) -> dict[str, Any]:
        """What this beat says: the outbox as it is now."""
        queued = self.outbox.pending_count()
        oldest = self.outbox.oldest_pending_at()
        waited = (max(int((self.clock() - oldest).total_seconds()), 0)
                  if queued and oldest is not None else None)
        return {"kiosk_id": self.kiosk_id, "queued": queued, "oldest_queued_s": waited,
                "outbox_damaged": self.outbox_damaged, "version": self.version[:40],
                "place": self.place[:80]}

    def beat(self) -> bool:
        """Send one heartbeat; False (logged at debug, counted) when it did not get through."""
        try:
            self.client.send_heartbeat(self.body())
        except Exception as exc:  # any failure: the next beat tries again, nobody waits on it
            self.failures += 1
            log.debug("heartbeat not sent (%d so far): %s", self.failures, exc)
            return False
        self.sent += 1
        return True

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="kiosk-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.beat()
            self._stop.wait(self.interval_s)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop beating; waits for a beat under way (its HTTP timeout bounds it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
