"""Delivery of filed requests: outbox first, then the server, and the backlog when it is back.

    courier = Courier(client, outbox, public_url="https://sp.example.cn")
    receipt = courier.file(body)   # never loses the request; offline gives a local receipt
    courier.flush()                # later: send what waits in the outbox (requests and returns)
    check_in = courier.give_back({"client_id": "kiosk-r-…", "copy_id": "LB-0001"})

Blocking; the app runs it on one worker thread so two sends of one request never race (the
server would still file it once, by client_id, but the log stays readable).
"""

from __future__ import annotations

import logging
from typing import Any

from foundation.redact import short_hash
from kiosk.api import ServerClient
from kiosk.errors import BadReply, ServerRefused, ServerUnavailable
from kiosk.flow import Receipt
from kiosk.lending import CheckIn
from kiosk.outbox import KeptReturn, Outbox, Parcel, ReturnBox

__all__ = ["Courier"]

log = logging.getLogger(__name__)


class Courier:
    def __init__(self, client: ServerClient, outbox: Outbox, *, public_url: str,
                 returns: ReturnBox | None = None) -> None:
        self.client = client
        self.outbox = outbox
        self.returns = returns
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
            log.warning("request %s kept for later as %s: %s", short_hash(parcel.client_id),
                        parcel.number, exc)
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

    def pending_count(self) -> int:
        return self.outbox.pending_count() + (self.returns.pending_count() if self.returns else 0)

    def give_back(self, body: dict[str, Any]) -> CheckIn:
        """Keep a library return, then check it in. With the server away the book is kept
        (``queued``) and checked in by :meth:`flush`. Raises ServerRefused when the server said
        no (an unknown copy, a copy not on loan): the reader hands the book to staff."""
        if self.returns is None:
            raise RuntimeError("no return box")
        kept = self.returns.keep(client_id=body["client_id"], copy_id=body["copy_id"])
        try:
            return self._send_return(kept)
        except (ServerUnavailable, BadReply) as exc:
            self.returns.note_failure(kept.client_id, reason=str(exc))
            log.warning("return %s of %s kept for later: %s", short_hash(kept.client_id),
                        kept.copy_id, exc)
            return CheckIn(client_id=kept.client_id, copy_id=kept.copy_id, queued=True)

    def _send_return(self, kept: KeptReturn) -> CheckIn:
        assert self.returns is not None
        try:
            check_in = self.client.return_copy(kept.body)
        except ServerRefused as exc:
            self.returns.mark_rejected(kept.client_id, reason=str(exc))
            raise
        self.returns.mark_delivered(kept.client_id, title=check_in.title,
                                    hand_to_staff=check_in.hand_to_staff)
        return check_in

    def flush(self) -> int:
        """Send what waits, oldest first; stop at the first sign the server is still away.

        Returns how many requests and returns were delivered.
        """
        delivered = 0
        for kept in self.returns.pending() if self.returns else ():
            try:
                self._send_return(kept)
            except ServerRefused:
                continue  # set aside by _send_return; staff see the book at the desk
            except (ServerUnavailable, BadReply) as exc:
                assert self.returns is not None
                self.returns.note_failure(kept.client_id, reason=str(exc))
                log.info("returns: server still unavailable (%s)", exc)
                return delivered
            delivered += 1
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
