"""呼叫工作人员: a resident at the kiosk asks for a person, and the duty staff are told at once.

Each call that gets through is an urgent maintenance ticket of the kiosk (asset ``kiosk-<id>``,
service category ``kiosk_help``, an ``M…`` number) with a raised alert in the site's alert book
(server/alerts/outbox.py), so it reaches the duty staff's channels, escalates up the ladder while
nobody acknowledges it, and shows on the dashboard like a sensor's alert. Staff close the ticket
once someone has helped.

A child pressing the button ten times makes one alert: a call within ``window`` of the kiosk's
last one is answered as already called (``alerted=False``) and changes nothing; the database
refuses a second ticket for the same kiosk in the same window too (``open_key``), so two presses
that race on two server replicas still make one. With no duty staff configured for urgent alerts
the call is refused (:class:`NobodyOnDuty`): the kiosk must then say to phone instead::

    call = call_staff(db, book=book, kiosk_id="K1", place="劳动路服务站门口", screen="review",
                      now=now)        # commits
    call.ticket_number, call.alerted
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.alerts import AlertSubject
from server.alerts.outbox import AlertBook
from server.errors import ServerError
from server.lifecycle import HistoryAction, Status
from server.models import Ticket
from server.ticketing import Actor, record

__all__ = ["HELP_CATEGORY", "HELP_WINDOW", "HelpCall", "NobodyOnDuty", "call_staff",
           "kiosk_asset"]

log = logging.getLogger(__name__)

HELP_CATEGORY = "kiosk_help"
# One alert per kiosk per window: long enough that repeated presses are one call, short enough
# that a resident still waiting after it can call again.
HELP_WINDOW = timedelta(minutes=5)


class NobodyOnDuty(ServerError, RuntimeError):
    """No staff channel takes urgent alerts for this site: the call would reach nobody."""

    status_code = 503
    code = "nobody_on_duty"


@dataclass(frozen=True)
class HelpCall:
    """The answer to a press: the ticket staff were told of, and whether this press told them
    (False: an earlier press within the window already did)."""

    ticket_number: str
    alerted: bool


def kiosk_asset(kiosk_id: str) -> str:
    return f"kiosk-{kiosk_id}"


def _latest(db: Session, asset_id: str) -> Ticket | None:
    return db.scalar(select(Ticket).where(Ticket.category_code == HELP_CATEGORY,
                                          Ticket.asset_id == asset_id)
                     .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(1))


def call_staff(db: Session, *, book: AlertBook, kiosk_id: str, place: str, screen: str,
               now: datetime, window: timedelta = HELP_WINDOW) -> HelpCall:
    """Tell the duty staff someone at kiosk ``kiosk_id`` needs a person (commits)."""
    asset_id = kiosk_asset(kiosk_id)
    latest = _latest(db, asset_id)
    if latest is not None and now - latest.created_at < window:
        log.info("help at kiosk %s: already called (ticket %s)", kiosk_id, latest.number)
        book.metrics.inc("servicepoint_kiosk_help_total", outcome="already_called")
        return HelpCall(latest.number, alerted=False)
    if not book.config.recipients(book.site.id, level=0, urgent=True):
        book.metrics.inc("servicepoint_kiosk_help_total", outcome="nobody_on_duty")
        raise NobodyOnDuty("no staff channel takes urgent alerts for this site (alerts.toml)")
    where_zh = f"（{place}）" if place else ""
    where_en = f" ({place})" if place else ""
    subject = AlertSubject(
        title_zh=f"自助机 {kiosk_id} 有居民呼叫工作人员{where_zh}",
        title_en=f"A resident at kiosk {kiosk_id} asks for a member of staff{where_en}",
        urgent=True, asset_id=asset_id, asset_name=place or None,
        evidence={"screen": screen} if screen else {})
    bucket = int(now.timestamp() // window.total_seconds())
    ticket = Ticket(number=f"tmp-{uuid.uuid4().hex}", kind="maintenance",
                    category_code=HELP_CATEGORY, title=subject.title_zh[:200],
                    status=Status.NEW.value, priority="urgent", site_id=book.site.id,
                    asset_id=asset_id, open_key=f"{asset_id}|help|{bucket}",
                    created_at=now, updated_at=now)
    try:
        with db.begin_nested():
            db.add(ticket)
            db.flush()
            ticket.number = f"M{ticket.id:06d}"
            record(db, ticket=ticket, action=HistoryAction.RAISED,
                   actor=Actor("system", f"自助机 {kiosk_id}"), now=now,
                   note=f"居民在自助机上点了“呼叫工作人员”{where_zh}")
            db.flush()
    except IntegrityError:
        # Another press of the same window won the race on another replica.
        db.rollback()
        raced = _latest(db, asset_id)
        book.metrics.inc("servicepoint_kiosk_help_total", outcome="already_called")
        return HelpCall(raced.number if raced else "", alerted=False)
    book.reported(db, ticket=ticket, subject=subject, now=now)
    db.commit()
    book.metrics.inc("servicepoint_kiosk_help_total", outcome="alerted")
    log.warning("help at kiosk %s: staff called, ticket %s", kiosk_id, ticket.number)
    return HelpCall(ticket.number, alerted=True)
