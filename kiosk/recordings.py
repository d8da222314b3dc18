"""Spoken descriptions on the kiosk's disk until the server has them: the recording spool.

A request's recording is a WAV file named after the request's client id, in
``<data_dir>/kiosk/recordings/``:

- ``<client id>.draft.wav`` while the resident is still at the kiosk (kept with the draft: a
  restart mid-request finds it again; going home without sending deletes it);
- ``<client id>.wav`` once the request is sent (:meth:`RecordingSpool.ready`). :meth:`deliver`
  posts each to the server after its request (``ServerClient.send_recording``), and deletes it
  once the server has it.

The request itself travels in the outbox (kiosk/outbox.py, small JSON rows); the recording goes
as a second call, so 60 s of audio (about 1.9 MB) never sits inside the outbox's JSON. A
recording whose request is still waiting in the outbox gets a 404 from the server and simply
waits with it; one whose request the server refused, or that the server refuses itself (not a
WAV it takes), is deleted (logged), so no one's voice lingers on the kiosk::

    spool = RecordingSpool(folder / "recordings", client)
    spool.ready(client_id)                       # at send
    spool.deliver(request_state=outbox_state)    # on a worker thread, now and then
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from foundation.redact import short_hash
from kiosk.api import ServerClient
from kiosk.errors import BadReply, ServerRefused, ServerUnavailable

__all__ = ["RecordingSpool"]

log = logging.getLogger(__name__)

# What the outbox says of a request: "pending", "delivered", "rejected", or None (not there).
RequestState = Callable[[str], str | None]


class RecordingSpool:
    def __init__(self, folder: Path, client: ServerClient) -> None:
        self.folder = Path(folder)
        self.client = client
        self._lock = threading.Lock()

    def draft_path(self, client_id: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"{client_id}.draft.wav"

    def has_draft(self, client_id: str) -> bool:
        return (self.folder / f"{client_id}.draft.wav").is_file()

    def discard_draft(self, client_id: str) -> None:
        (self.folder / f"{client_id}.draft.wav").unlink(missing_ok=True)

    def discard_drafts(self, *, keep: str | None = None) -> None:
        """Delete the recordings of drafts nobody will send (all but ``keep``'s)."""
        if not self.folder.is_dir():
            return
        for path in self.folder.glob("*.draft.wav"):
            if path.name != f"{keep}.draft.wav":
                path.unlink(missing_ok=True)
                log.info("recording of an unsent draft %s deleted",
                         short_hash(path.name.split(".")[0]))

    def ready(self, client_id: str) -> bool:
        """The request is sent: its draft recording (if any) waits to follow it."""
        draft = self.folder / f"{client_id}.draft.wav"
        if not draft.is_file():
            return False
        draft.replace(self.folder / f"{client_id}.wav")
        return True

    def waiting(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.name[:-len(".wav")] for p in self.folder.glob("*.wav")
                      if not p.name.endswith(".draft.wav"))

    def deliver(self, *, request_state: RequestState) -> int:
        """Send what waits; stop at the first sign the server is away. Returns how many went."""
        sent = 0
        with self._lock:  # one round at a time, whichever thread asks
            for client_id in self.waiting():
                path = self.folder / f"{client_id}.wav"
                # Asked before sending: a filing that lands while this call is under way must
                # not make its 404 look like a request the server lost.
                state = request_state(client_id)
                try:
                    self.client.send_recording(client_id, path.read_bytes())
                except (ServerUnavailable, BadReply) as exc:
                    log.info("recordings: server unavailable (%s); kept", exc)
                    return sent
                except ServerRefused as exc:
                    if exc.status == 404 and state == "pending":
                        continue  # its request is still in the outbox: both go later
                    if exc.status == 401:
                        log.error("the server refused this kiosk's key; recordings kept")
                        return sent
                    log.warning("recording of %s refused (%s; its request %s): deleted",
                                short_hash(client_id), exc, state or "unknown")
                    path.unlink(missing_ok=True)
                    continue
                except OSError:
                    log.exception("recording of %s unreadable: deleted", short_hash(client_id))
                    path.unlink(missing_ok=True)
                    continue
                path.unlink(missing_ok=True)
                sent += 1
                log.info("recording of %s delivered", short_hash(client_id))
        return sent
