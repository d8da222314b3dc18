"""How a ticket moves: a lifecycle action applied to its row, its times stamped, and one
history row appended. Below both the ticket service (``server.services.tickets``: who may do what,
dispatch, queues) and the sensing side (``server.sensing.maintenance``: tickets raised by
conditions), so each uses it and neither imports the other.

Kinds of ticket with their own rule for closing (a tank cleaning closes only with a passed water
test) register it with :func:`check_before_close`; the station that owns such tickets does so
when it is imported, so this module knows no station::

    apply_action(db, ticket=ticket, action=Action.RESOLVE, actor=Actor.of(user), now=now)
    record(db, ticket=ticket, action=HistoryAction.EVIDENCE, actor=SENSOR, now=now, note="…")
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from server.lifecycle import OPEN_STATUSES, Action, HistoryAction, transition
from server.models import Ticket, TicketEvent, User

__all__ = [
    "RESIDENT",
    "SYSTEM",
    "Actor",
    "CloseCheck",
    "apply_action",
    "check_before_close",
    "record",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Actor:
    """Who did something, as the history shows it."""

    kind: str  # resident | user | system | sensor
    label: str
    user_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls("user", user.display_name or user.username, user.id)


RESIDENT = Actor("resident", "居民")
SYSTEM = Actor("system", "系统")


CloseCheck = Callable[[Session, Ticket], None]
_close_checks: dict[str, CloseCheck] = {}


def check_before_close(conditions: Iterable[str], check: CloseCheck) -> None:
    """Have ``check`` run before a ticket raised for one of ``conditions`` closes; it refuses
    the close by raising :class:`~server.errors.IllegalTransition`."""
    for condition in conditions:
        _close_checks[str(condition)] = check


def record(db: Session, *, ticket: Ticket, action: HistoryAction, actor: Actor, now: datetime,
           note: str = "", from_status: str | None = None,
           volunteer_id: int | None = None) -> TicketEvent:
    event = TicketEvent(ticket=ticket, at=now, action=action, from_status=from_status,
                        to_status=ticket.status, actor_kind=actor.kind, actor_user_id=actor.user_id,
                        actor_label=actor.label[:60], note=note, volunteer_id=volunteer_id)
    db.add(event)
    ticket.updated_at = now
    return event


def apply_action(db: Session, *, ticket: Ticket, action: Action, actor: Actor, now: datetime,
                 note: str = "", staff: bool = False) -> Ticket:
    """Move the ticket by ``action`` (IllegalTransition if refused), stamp times, log history."""
    before = ticket.status
    after = transition(before, action, staff=staff)
    # Kept on the history row: a decline clears the assignee, and the notices and the next
    # proposals need to know who it was.
    volunteer_id = ticket.assignee_id
    check = _close_checks.get(ticket.condition or "") if action is Action.CLOSE else None
    if check is not None:
        check(db, ticket)
    ticket.status = after
    if action is Action.ACCEPT:
        ticket.accepted_at = now
    elif action is Action.DECLINE:
        ticket.assignee_id = None
        ticket.accepted_at = None
    elif action is Action.RESOLVE:
        ticket.resolved_at = now
    elif action is Action.REOPEN:
        ticket.resolved_at = None
    if after not in OPEN_STATUSES:
        ticket.closed_at = now
        ticket.open_key = None
    record(db, ticket=ticket, action=HistoryAction.of(action), actor=actor, now=now, note=note,
           from_status=before, volunteer_id=volunteer_id)
    log.info("ticket %s (%s): %s %s -> %s by %s", ticket.id, ticket.number, action, before,
             after, actor.label)
    return ticket
