"""Who may see a resident's full phone number (the rule PIPL asks for), and the log of each time
someone did.

- Staff and admins: for every request (the site is their scope).
- A squad leader: for requests of their own squad.
- A volunteer: only for a task they have ACCEPTED, until it is closed (accepted, in progress,
  or done and waiting for the resident). Offered but not yet accepted, declined, given to
  someone else, or closed: masked.
- Everyone else (the public phone page, Open311 readers, anonymous API callers): never.

Pages and the API ask :func:`phone_for` for what to show; when that is the full number it writes
one ``PhoneReveal`` row (server/task_access.py) in the caller's transaction, which the caller
commits::

    shown = phone_for(db, ticket=ticket, viewer=Viewer.of(user), now=now, via="page")
    shown.number, shown.full     # "13900001111", True   or   "139****1111", False
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from server.models import STAFF_ROLES, Role, Ticket, User, Volunteer
from server.services import audit
from server.services.requests import mask_phone
from server.task_access import PhoneReveal

__all__ = ["ShownPhone", "Viewer", "may_see_phone", "phone_for"]

log = logging.getLogger(__name__)

# Statuses in which the volunteer who accepted the task still needs to reach the resident.
_VOLUNTEER_SEES = frozenset({"accepted", "in_progress", "resolved"})


@dataclass(frozen=True)
class Viewer:
    """Who is looking: a signed-in user, or a volunteer holding a task link (no user)."""

    role: str
    label: str
    user_id: int | None = None
    squad_id: int | None = None
    volunteer_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Viewer:
        return cls(role=user.role, label=user.display_name or user.username, user_id=user.id,
                   squad_id=user.squad_id,
                   volunteer_id=user.volunteer.id if user.volunteer is not None else None)

    @classmethod
    def by_link(cls, volunteer: Volunteer) -> Viewer:
        return cls(role=Role.VOLUNTEER, label=volunteer.given_name,
                   user_id=volunteer.user_id, squad_id=volunteer.squad_id,
                   volunteer_id=volunteer.id)


@dataclass(frozen=True)
class ShownPhone:
    number: str
    full: bool


def may_see_phone(viewer: Viewer, ticket: Ticket) -> bool:
    if viewer.role in STAFF_ROLES:
        return True
    if viewer.role == Role.SQUAD_LEADER:
        return viewer.squad_id is not None and ticket.squad_id == viewer.squad_id
    if viewer.role == Role.VOLUNTEER:
        return (viewer.volunteer_id is not None and ticket.assignee_id == viewer.volunteer_id
                and ticket.accepted_at is not None and ticket.status in _VOLUNTEER_SEES)
    return False


def phone_for(db: Session, *, ticket: Ticket, viewer: Viewer, now: datetime,
              via: str) -> ShownPhone | None:
    """The resident's phone as this viewer may see it (None if the request gave none); a full
    number is logged as a reveal."""
    request = ticket.request
    phone = request.contact_phone if request is not None else None
    if not phone:
        return None
    if not may_see_phone(viewer, ticket):
        return ShownPhone(mask_phone(phone) or "", full=False)
    db.add(PhoneReveal(ticket_id=ticket.id, user_id=viewer.user_id,
                       volunteer_id=viewer.volunteer_id, who=viewer.label[:60], via=via, at=now))
    # The same reveal in the site's one audit log (PhoneReveal stays: it is the ticket's own
    # index of who saw its number, which the ticket pages and their tests read).
    audit.record(db, actor=viewer.label, actor_user_id=viewer.user_id, action="phone.reveal",
                 subject=("ticket", ticket.number), now=now, note=f"{viewer.role} · {via}")
    log.info("phone of ticket %s shown to %s (%s, by %s)", ticket.number, viewer.label,
             viewer.role, via)
    return ShownPhone(phone, full=True)
