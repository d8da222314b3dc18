"""Finding a request again by its number and the last four digits of its contact phone.

For the resident who lost the QR link (the slip went in the wash; the daughter filed it on her
own phone): the request number is printed and spoken, the phone is theirs. Together they lead
to the status page, ``/r/<token>``. Used by the lookup page (server/web/lookup.py) and the
kiosk's 查进度 screen through ``POST /api/v1/requests/lookup`` (server/api/routes/lookup.py).

A wrong pair is one answer, :class:`LookupMiss`, whichever half was wrong (or whether the number
exists at all is not said): the callers turn it into the same 404 and count it against the
caller's address (server/api/lookups.py), so the 10,000 possible endings cannot be walked.

    request = request_by_number(db, number="K1-0001", phone_last4="1234")
"""

from __future__ import annotations

import hmac
import logging
import re

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from foundation.redact import short_hash
from server.errors import NotFound
from server.models import ServiceRequest, Ticket

__all__ = ["LAST4_PATTERN", "LookupMiss", "normalise_number", "request_by_number"]

log = logging.getLogger(__name__)
LAST4_PATTERN = re.compile(r"^\d{4}$")
# What people type for a number: K1-0001 from the kiosk's slip, 000123 for the server's own.
_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")
# Dashes a phone keyboard or an input method gives instead of the ASCII one.
_DASHES = str.maketrans({"－": "-", "—": "-", "–": "-", "_": "-", "‐": "-"})


class LookupMiss(NotFound):
    """No request with this number and phone ending; deliberately not which half was wrong."""

    code = "not_found"

    def __init__(self) -> None:
        super().__init__("no request matches this number and phone ending")


def normalise_number(typed: str) -> str:
    """The number as stored, from what a person typed: trimmed, upper case, any dash, no
    spaces (k1 - 0001 → K1-0001). "" when it cannot be a number at all."""
    number = "".join(typed.translate(_DASHES).upper().split())
    return number if _NUMBER.match(number) else ""


def request_by_number(db: Session, *, number: str, phone_last4: str | None) -> ServiceRequest:
    """The resident request with this number whose contact phone ends in ``phone_last4``.

    ``phone_last4`` may be left out (None or "") only for a request filed without a phone;
    for one with a phone it must match. Anything else is a :class:`LookupMiss`."""
    wanted = normalise_number(number)
    last4 = (phone_last4 or "").strip()
    if not wanted or (last4 and not LAST4_PATTERN.match(last4)):
        raise LookupMiss()
    request = db.scalar(
        select(ServiceRequest).join(ServiceRequest.ticket).where(Ticket.number == wanted)
        .options(joinedload(ServiceRequest.ticket).options(
            joinedload(Ticket.category), joinedload(Ticket.assignee))))
    if request is None:
        log.info("lookup of %s: no such request", short_hash(wanted))
        raise LookupMiss()
    phone = request.contact_phone or ""
    # Compared in constant time: the answer must not leak how many digits were right.
    matched = (hmac.compare_digest(phone[-4:].encode(), last4.encode()) if phone
               else not last4)
    if not matched:
        log.info("lookup of request %s: wrong phone ending", request.ticket.number)
        raise LookupMiss()
    return request
