"""Tickets: the lifecycle applied with rights checks, history, dispatch proposals and queues.

Every change goes through :func:`apply_action`, which asks the pure lifecycle whether the move is
legal, stamps the times and appends one history row. Who may do what is decided here too, so the
JSON API and the web pages share one set of rules::

    ticket = get_ticket(db, ticket_id=7)
    dispatch(db, ticket=ticket, user=leader, volunteer_id=3, now=now)

The moves themselves (a lifecycle action on a row, its history) are :mod:`server.ticketing`'s;
they are offered here too, for the routes and pages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Select, func, select, update
from sqlalchemy.orm import Session, selectinload

from server.appointments.booking import release_place, retake_place
from server.errors import Forbidden, Invalid, NotFound
from server.lifecycle import OPEN_STATUSES, Action, HistoryAction, Status
from server.models import (
    STAFF_ROLES,
    Role,
    Squad,
    Ticket,
    TicketEvent,
    User,
    Volunteer,
    VolunteerSkill,
)
from server.ticketing import (
    RESIDENT,
    SYSTEM,
    Actor,
    apply_action,
    check_before_close,
    record,
)

__all__ = [
    "RESIDENT",
    "SYSTEM",
    "Actor",
    "Proposal",
    "apply_action",
    "can_view",
    "check_before_close",
    "dispatch",
    "flag_overdue",
    "get_ticket",
    "is_overdue",
    "list_tickets",
    "proposals",
    "record",
    "volunteer_action",
    "staff_action",
]

log = logging.getLogger(__name__)

ACTIVE_WORK = (Status.DISPATCHED, Status.ACCEPTED, Status.IN_PROGRESS)


def get_ticket(db: Session, *, ticket_id: int) -> Ticket:
    ticket = db.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}")
    return ticket


# --- who may see and do what ----------------------------------------------------------------

def is_staff(user: User) -> bool:
    return user.role in STAFF_ROLES


def can_view(user: User, ticket: Ticket) -> bool:
    if is_staff(user):
        return True
    if user.role == Role.SQUAD_LEADER:
        return ticket.squad_id is not None and ticket.squad_id == user.squad_id
    if user.role == Role.VOLUNTEER and user.volunteer is not None:
        return ticket.assignee_id == user.volunteer.id
    return False


def require_view(user: User, ticket: Ticket) -> None:
    if not can_view(user, ticket):
        raise Forbidden("this ticket is not yours to see")


def _require_dispatcher(user: User, ticket: Ticket) -> None:
    if is_staff(user):
        return
    if user.role == Role.SQUAD_LEADER and ticket.squad_id == user.squad_id:
        return
    raise Forbidden("only the squad leader of this grid or staff may dispatch it")


def _own_volunteer(user: User, ticket: Ticket) -> Volunteer:
    volunteer = user.volunteer
    if user.role != Role.VOLUNTEER or volunteer is None or ticket.assignee_id != volunteer.id:
        raise Forbidden("this task was not given to you")
    return volunteer


# --- dispatch -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Proposal:
    volunteer: Volunteer
    open_tasks: int
    in_squad: bool
    declined: bool = False  # gave this very request back before


def _load_by_volunteer(db: Session) -> dict[int, int]:
    rows = db.execute(
        select(Ticket.assignee_id, func.count())
        .where(Ticket.assignee_id.is_not(None), Ticket.status.in_([s.value for s in ACTIVE_WORK]))
        .group_by(Ticket.assignee_id)
    )
    return {vid: count for vid, count in rows if vid is not None}


def _declined(db: Session, ticket: Ticket) -> set[int]:
    return {vid for vid in db.scalars(select(TicketEvent.volunteer_id).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == HistoryAction.DECLINE.value))
        if vid is not None}


def proposals(db: Session, *, ticket: Ticket) -> list[Proposal]:
    """Volunteers with the skill the ticket's category needs: own squad first, least loaded.
    Whoever declined this request already comes after everyone who has not."""
    skill = ticket.category.skill
    volunteers = db.scalars(
        select(Volunteer).join(VolunteerSkill)
        .where(VolunteerSkill.skill == skill, Volunteer.active.is_(True))
        .options(selectinload(Volunteer.skills))
    ).all()
    load = _load_by_volunteer(db)
    declined = _declined(db, ticket)
    found = [Proposal(v, load.get(v.id, 0), v.squad_id == ticket.squad_id, v.id in declined)
             for v in volunteers]
    found.sort(key=lambda p: (p.declined, not p.in_squad, p.open_tasks,
                              not p.volunteer.party_member, p.volunteer.id))
    return found


def dispatch(db: Session, *, ticket: Ticket, user: User, volunteer_id: int, now: datetime,
             note: str = "") -> Ticket:
    """分队下单: give the ticket to a volunteer with the right skill."""
    _require_dispatcher(user, ticket)
    volunteer = db.get(Volunteer, volunteer_id)
    if volunteer is None or not volunteer.active:
        raise Invalid(f"no active volunteer {volunteer_id}")
    if ticket.category.skill not in volunteer.skill_tags:
        raise Invalid(f"{volunteer.given_name} has no {ticket.category.skill} skill tag")
    # Assigned before the move, so its history row names the volunteer (the notices read it).
    before, ticket.assignee_id = ticket.assignee_id, volunteer.id
    try:
        apply_action(db, ticket=ticket, action=Action.DISPATCH, actor=Actor.of(user), now=now,
                     note=note or f"派给 {volunteer.given_name}")
    except Exception:
        ticket.assignee_id = before
        raise
    db.commit()
    return ticket


_VOLUNTEER_ACTIONS = {Action.ACCEPT, Action.DECLINE, Action.START, Action.RESOLVE}


def volunteer_action(db: Session, *, ticket: Ticket, user: User, action: Action, now: datetime,
                     note: str = "") -> Ticket:
    """党员接单 and after: accept, decline, start, resolve — by the volunteer it was given to."""
    if action not in _VOLUNTEER_ACTIONS:
        raise Invalid(f"{action} is not a volunteer's action")
    if action is Action.RESOLVE and is_staff(user):
        return staff_action(db, ticket=ticket, user=user, action=action, now=now, note=note)
    _own_volunteer(user, ticket)
    apply_action(db, ticket=ticket, action=action, actor=Actor.of(user), now=now, note=note)
    db.commit()
    return ticket


def staff_action(db: Session, *, ticket: Ticket, user: User, action: Action, now: datetime,
                 note: str = "") -> Ticket:
    """close, cancel, resolve, duplicate by staff; duplicate also by the grid's squad leader."""
    if action is Action.DUPLICATE:
        _require_dispatcher(user, ticket)
    elif not is_staff(user):
        raise Forbidden("only staff may do this")
    apply_action(db, ticket=ticket, action=action, actor=Actor.of(user), now=now, note=note,
                 staff=is_staff(user))
    if action in (Action.CANCEL, Action.DUPLICATE):  # an appointment's place is free again
        release_place(db, ticket=ticket, now=now, user_id=user.id)
    elif action is Action.REOPEN:  # back in work: its given-up place, if still free
        retake_place(db, ticket=ticket, now=now)
    db.commit()
    return ticket


# --- queues ---------------------------------------------------------------------------------

def is_overdue(ticket: Ticket, now: datetime) -> bool:
    """Not yet accepted within its category's target time."""
    return (ticket.status in (Status.NEW, Status.DISPATCHED) and ticket.due_at is not None
            and now > ticket.due_at)


def _visible_to(query: Select[tuple[Ticket]], user: User) -> Select[tuple[Ticket]]:
    if is_staff(user):
        return query
    if user.role == Role.SQUAD_LEADER:
        return query.where(Ticket.squad_id == user.squad_id)
    if user.role == Role.VOLUNTEER and user.volunteer is not None:
        return query.where(Ticket.assignee_id == user.volunteer.id)
    return query.where(Ticket.id.is_(None))


def list_tickets(db: Session, *, user: User, now: datetime, status: str | None = None,
                 squad: str | None = None, category: str | None = None,
                 kind: str | None = None, overdue: bool | None = None, open_only: bool = False,
                 limit: int = 100, offset: int = 0) -> list[Ticket]:
    query = _visible_to(select(Ticket), user)
    if status:
        query = query.where(Ticket.status == status)
    if open_only:
        query = query.where(Ticket.status.in_([s.value for s in OPEN_STATUSES]))
    if squad:
        query = query.join(Squad, Ticket.squad_id == Squad.id).where(Squad.code == squad)
    if category:
        query = query.where(Ticket.category_code == category)
    if kind:
        query = query.where(Ticket.kind == kind)
    if overdue is not None:
        late = (Ticket.status.in_([Status.NEW.value, Status.DISPATCHED.value])
                & (Ticket.due_at < now))
        query = query.where(late if overdue else ~late | Ticket.due_at.is_(None))
    query = query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit).offset(offset)
    return list(db.scalars(query.options(selectinload(Ticket.assignee))))


def tasks_for(db: Session, *, user: User) -> tuple[list[Ticket], list[Ticket]]:
    """A volunteer's current tasks (offered, accepted, in progress) and finished ones."""
    if user.volunteer is None:
        raise Forbidden("only volunteers have tasks")
    mine = db.scalars(
        select(Ticket).where(Ticket.assignee_id == user.volunteer.id)
        .order_by(Ticket.updated_at.desc())
    ).all()
    current = [t for t in mine if t.status in ACTIVE_WORK]
    done = [t for t in mine if t.status not in ACTIVE_WORK]
    return current, done


def flag_overdue(db: Session, *, now: datetime) -> int:
    """Note once in each late ticket's history that it missed its target time."""
    late = db.scalars(
        select(Ticket).where(
            Ticket.status.in_([Status.NEW.value, Status.DISPATCHED.value]),
            Ticket.due_at < now, Ticket.overdue_flagged_at.is_(None),
        )
    ).all()
    flagged = 0
    for ticket in late:
        # Claimed in one conditional update: the app's sweep and the notice loop (or two
        # replicas) may both find the ticket late, and its leader must be told once.
        claimed: CursorResult[Any] = db.execute(  # type: ignore[assignment]
            update(Ticket).where(Ticket.id == ticket.id, Ticket.overdue_flagged_at.is_(None))
            .values(overdue_flagged_at=now).execution_options(synchronize_session=False))
        if not claimed.rowcount:
            continue
        ticket.overdue_flagged_at = now
        record(db, ticket=ticket, action=HistoryAction.OVERDUE, actor=SYSTEM, now=now,
               note="超过目标接单时间 / not accepted within its target time",
               from_status=ticket.status)
        flagged += 1
        log.warning("ticket %s (%s) is overdue", ticket.id, ticket.number)
    db.commit()
    return flagged

