"""A volunteer's one-tap link to one task: issued with the dispatch notification, opened on a
phone with no password.

The link is ``/v/t/<token>``: 256 random bits, given out once; the database keeps only their
SHA-256 (server/task_access.py's ``TaskLink``), so neither a copied database nor a log of
hashes opens a task. A link is good for one volunteer and one ticket only, and only while

- it has not expired (``LINK_LIFETIME`` after it was issued),
- it has not been revoked (:func:`revoke_task_links`: staff, "sign out everywhere"),
- the ticket is still open and still given to that volunteer (a decline or a re-dispatch to
  someone else ends it at once, without touching the row).

Until then it may be opened again and again. What it lets the holder do is the pages' business
(server/web/task_link.py); here is only issuing and checking::

    path = issue_task_link(db, ticket=ticket, volunteer=volunteer, now=now)   # "/v/t/…"
    link = open_task_link(db, token=token, now=now)   # TaskLinkRefused(reason) if not good
    act_by_link(db, link=link, action=Action.ACCEPT, now=now)
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.errors import Invalid, NotFound
from server.lifecycle import OPEN_STATUSES, Action
from server.models import Ticket, Volunteer
from server.task_access import TaskLink
from server.ticketing import Actor, apply_action

__all__ = [
    "LINK_LIFETIME",
    "LINK_PREFIX",
    "TaskLinkRefused",
    "act_by_link",
    "issue_task_link",
    "open_task_link",
    "revoke_task_links",
]

log = logging.getLogger(__name__)

LINK_PREFIX = "/v/t/"
# Long enough for a job taken on Monday and done on Friday; a task that stays open longer gets
# a fresh link when it is dispatched again.
LINK_LIFETIME = timedelta(days=7)
_OPEN = frozenset(s.value for s in OPEN_STATUSES)


class TaskLinkRefused(NotFound):
    """The link does not (or no longer) open a task. ``reason`` says which case, for the page:
    unknown, expired, revoked, closed, not_yours."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"this task link no longer works ({reason})", code=f"link_{reason}")
        self.reason = reason
        # An unknown token is a wrong address like any other; a real link that ran out is gone.
        self.status_code = 404 if reason == "unknown" else 410


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_task_link(db: Session, *, ticket: Ticket, volunteer: Volunteer, now: datetime) -> str:
    """A new link for ``volunteer`` to ``ticket``; returns its path (``/v/t/<token>``).

    Adds the row to the caller's transaction and flushes it; the caller commits."""
    token = secrets.token_urlsafe(32)
    db.add(TaskLink(token_hash=_digest(token), ticket_id=ticket.id, volunteer_id=volunteer.id,
                    created_at=now, expires_at=now + LINK_LIFETIME))
    db.flush()
    log.info("task link issued: ticket %s (%s) for volunteer %s", ticket.id, ticket.number,
             volunteer.id)
    return LINK_PREFIX + token


def open_task_link(db: Session, *, token: str, now: datetime) -> TaskLink:
    """The link this token is, if it still opens its task; TaskLinkRefused otherwise.

    Does not commit; the caller's commit keeps ``last_used_at``."""
    if not token or len(token) > 100:
        raise TaskLinkRefused("unknown")
    link = db.scalar(select(TaskLink).where(TaskLink.token_hash == _digest(token)))
    if link is None:
        raise TaskLinkRefused("unknown")
    ticket = link.ticket
    volunteer = link.volunteer
    if link.revoked_at is not None:
        raise TaskLinkRefused("revoked")
    if ticket.status not in _OPEN:
        raise TaskLinkRefused("closed")
    if ticket.assignee_id != link.volunteer_id or not volunteer.active or (
            volunteer.user is not None and not volunteer.user.active):
        raise TaskLinkRefused("not_yours")
    if link.expires_at <= now:
        raise TaskLinkRefused("expired")
    link.last_used_at = now
    return link


def revoke_task_links(db: Session, *, now: datetime, ticket: Ticket | None = None,
                      volunteer: Volunteer | None = None) -> int:
    """Revoke every live link of a ticket, of a volunteer, or of both together; the caller
    commits. Returns how many were revoked."""
    if ticket is None and volunteer is None:
        raise ValueError("name a ticket, a volunteer, or both")
    query = update(TaskLink).where(TaskLink.revoked_at.is_(None))
    if ticket is not None:
        query = query.where(TaskLink.ticket_id == ticket.id)
    if volunteer is not None:
        query = query.where(TaskLink.volunteer_id == volunteer.id)
    count: int = db.execute(query.values(revoked_at=now)).rowcount  # type: ignore[attr-defined]
    log.info("task links revoked: %d (ticket %s, volunteer %s)", count,
             ticket.id if ticket else "-", volunteer.id if volunteer else "-")
    return count


_LINK_ACTIONS = frozenset({Action.ACCEPT, Action.DECLINE, Action.START, Action.RESOLVE})


def act_by_link(db: Session, *, link: TaskLink, action: Action, now: datetime,
                note: str = "") -> Ticket:
    """The volunteer's move on the link's own ticket (accept, decline, on my way, done), as if
    signed in; commits. The link was checked by :func:`open_task_link` in this request."""
    if action not in _LINK_ACTIONS:
        raise Invalid(f"{action} is not a volunteer's action")
    volunteer = link.volunteer
    user = volunteer.user
    actor = Actor.of(user) if user is not None else Actor("user", volunteer.given_name)
    apply_action(db, ticket=link.ticket, action=action, actor=actor, now=now, note=note)
    db.commit()
    return link.ticket
