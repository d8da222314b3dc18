"""Delivery of filed requests: outbox first, then the server, and the backlog when it is back.

    courier = Courier(client, outbox, public_url="https://sp.example.cn")
    receipt = courier.file(body)   # never loses the request; offline gives a local receipt
    courier.flush()                # later: send what waits in the outbox

Blocking; the app runs it on one worker thread so two sends of one request never race (the
server would still file it once, by client_id, but the log stays readable).
"""

from __future__ import annotations

import logging
from typing import Any

from kiosk.api import ServerClient
from kiosk.errors import BadReply, ServerRefused, ServerUnavailable
from kiosk.flow import Receipt
from kiosk.outbox import Outbox, Parcel

__all__ = ["Courier"]

log = logging.getLogger(__name__)


class Courier:
    def __init__(self, client: ServerClient, outbox: Outbox, *, public_url: str) -> None:
        self.client = client
        self.outbox = outbox
        self.public_url = public_url.rstrip("/")

    def local_status_url(self, parcel: Parcel) -> str:
        return f"{self.public_url}/r/{parcel.phone_token}"

    def file(self, body: dict[str, Any]) -> Receipt:
        """Keep the request, try to send it, and say what the resident takes away.

        Raises ServerRefused when the server read the request and said no (nothing will retry it).
        """
        parcel = self.outbox.enqueue(body)
        try:
            return self._send(parcel)
        except (ServerUnavailable, BadReply) as exc:
            self.outbox.note_failure(parcel.client_id, reason=str(exc))
            log.warning("request %s kept for later as %s: %s", parcel.client_id, parcel.number, exc)
            return Receipt(number=parcel.number, status_url=self.local_status_url(parcel),
                           offline=True)

    def _send(self, parcel: Parcel) -> Receipt:
        try:
            filed = self.client.file_request(parcel.body)
        except ServerRefused as exc:
            self.outbox.mark_rejected(parcel.client_id, reason=str(exc))
            raise
        self.outbox.mark_delivered(parcel.client_id, number=filed.number)
        # The server echoes our number and token; fall back to them if it leaves either out.
        url = filed.status_url or self.local_status_url(parcel)
        return Receipt(number=filed.number or parcel.number, status_url=url)

    def flush(self) -> int:
        """Send what waits, oldest first; stop at the first sign the server is still away.

        Returns how many were delivered.
        """
        delivered = 0
        for parcel in self.outbox.pending():
            try:
                self._send(parcel)
            except ServerRefused:
                continue  # logged and set aside by _send
            except (ServerUnavailable, BadReply) as exc:
                self.outbox.note_failure(parcel.client_id, reason=str(exc))
                log.info("outbox: server still unavailable (%s); %d waiting", exc,
                         self.outbox.pending_count())
                break
            delivered += 1
        if delivered:
            log.info("outbox: delivered %d request(s)", delivered)
        return delivered
