"""Volunteers and staff accounts as the admin pages change them: add, edit, deactivate and
reactivate a volunteer; add, edit and deactivate a staff account, and reset its password. Every
change writes its audit entry (server/services/audit.py) in the same transaction; the caller
commits. Checking what was typed is the page's job (server/web/admin/people.py); these functions
get clean values.

Deactivating a volunteer ends what they could still do: their sign-in (sessions closed, the
account inactive), their one-tap task links, and their open tasks, which go back to the squad
as a decline, so the squad's leader is told by the notice courier like any decline and can
dispatch again::

    handed_back = deactivate_volunteer(db, volunteer=v, actor=admin, now=now)
    db.commit()
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from server.alerts.rows import ContactChannel
from server.lifecycle import Action, HistoryAction, Status
from server.models import Category, Grid, Squad, Ticket, User, Volunteer, VolunteerSkill
from server.security import close_all_sessions, hash_password
from server.services import audit
from server.services.task_links import revoke_task_links
from server.ticketing import Actor, apply_action, record

__all__ = ["VolunteerFields", "UserFields", "add_user", "add_volunteer", "deactivate_user",
           "deactivate_volunteer", "edit_user", "edit_volunteer", "known_skills", "grids",
           "list_users", "list_volunteers", "new_password", "reactivate_user",
           "reactivate_volunteer", "reset_password", "skill_services", "volunteer_state",
           "user_state"]

log = logging.getLogger(__name__)
HANDED_BACK_NOTE = "志愿者已停用，任务退回小分队 / volunteer deactivated: back to the squad"
# A task still with its volunteer: offered, accepted or under way (resolved is done).
_WITH_VOLUNTEER = (Status.DISPATCHED, Status.ACCEPTED, Status.IN_PROGRESS)


def new_password() -> str:
    """A password to read out or copy once: 12 characters, no look-alikes (0/O, 1/l/I)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


# --- reading ----------------------------------------------------------------------------------

def list_volunteers(db: Session, *, query: str = "", show_inactive: bool = True
                    ) -> list[tuple[Volunteer, int]]:
    """Volunteers (active first, by code) with how many tasks each has in hand."""
    load = dict(db.execute(select(Ticket.assignee_id, func.count())
                           .where(Ticket.status.in_([s.value for s in _WITH_VOLUNTEER]))
                           .group_by(Ticket.assignee_id)).tuples().all())
    stmt = select(Volunteer).options(selectinload(Volunteer.skills),
                                     selectinload(Volunteer.squad), selectinload(Volunteer.user))
    if query:
        like = f"%{query}%"
        stmt = stmt.where(Volunteer.given_name.like(like) | Volunteer.full_name.like(like)
                          | Volunteer.code.like(like) | Volunteer.phone.like(like))
    if not show_inactive:
        stmt = stmt.where(Volunteer.active.is_(True))
    rows = db.scalars(stmt.order_by(Volunteer.active.desc(), Volunteer.code)).all()
    return [(v, load.get(v.id, 0)) for v in rows]


def list_users(db: Session) -> list[User]:
    """Sign-ins that are not volunteers' own (those are kept on the volunteer's page)."""
    return list(db.scalars(select(User).where(User.role != "volunteer")
                           .options(selectinload(User.squad))
                           .order_by(User.active.desc(), User.role, User.username)))


def known_skills(db: Session) -> list[str]:
    """The skill tags the categories ask for and the ones volunteers already carry."""
    tags = set(db.scalars(select(Category.skill))) | set(db.scalars(select(VolunteerSkill.skill)))
    return sorted(t for t in tags if t)


def skill_services(db: Session) -> dict[str, list[Category]]:
    """For each skill tag, the services that need it (so a tag reads as the work it means)."""
    found: dict[str, list[Category]] = {}
    for category in db.scalars(select(Category).order_by(Category.sort_order, Category.code)):
        found.setdefault(category.skill, []).append(category)
    return found


def grids(db: Session) -> list[Grid]:
    return list(db.scalars(select(Grid).order_by(Grid.code)))


def _channels(db: Session, volunteer: Volunteer) -> list[str]:
    rows = db.scalars(select(ContactChannel).where(ContactChannel.volunteer_id == volunteer.id)
                      .order_by(ContactChannel.name))
    return [f"{c.name}={c.url_env}" for c in rows]


def volunteer_state(db: Session, volunteer: Volunteer) -> dict[str, Any]:
    """What the audit log keeps before and after a change, and what the edit form shows."""
    return {"code": volunteer.code, "given_name": volunteer.given_name,
            "full_name": volunteer.full_name, "phone": volunteer.phone or "",
            "squad_id": volunteer.squad_id, "grid_id": volunteer.grid_id,
            "skills": sorted(volunteer.skill_tags), "party_member": volunteer.party_member,
            "channels": _channels(db, volunteer), "active": volunteer.active,
            "username": volunteer.user.username if volunteer.user is not None else ""}


def user_state(user: User) -> dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "squad_id": user.squad_id, "active": user.active}


# --- volunteers -------------------------------------------------------------------------------

@dataclass(frozen=True)
class VolunteerFields:
    """A volunteer as the form gives it, checked."""

    code: str
    given_name: str
    full_name: str
    phone: str | None
    squad: Squad
    grid: Grid | None
    skills: list[str]
    party_member: bool
    channels: list[tuple[str, str]] = field(default_factory=list)  # (name, url_env)


def _apply(db: Session, volunteer: Volunteer, f: VolunteerFields) -> None:
    volunteer.code, volunteer.given_name, volunteer.full_name = f.code, f.given_name, f.full_name
    volunteer.phone, volunteer.squad, volunteer.grid = f.phone, f.squad, f.grid
    volunteer.party_member = f.party_member
    wanted = set(f.skills)
    volunteer.skills = [s for s in volunteer.skills if s.skill in wanted] + [
        VolunteerSkill(skill=s) for s in sorted(wanted - set(volunteer.skill_tags))]
    if volunteer.user is not None:
        volunteer.user.display_name, volunteer.user.squad = f.given_name, f.squad
    db.flush()
    for old in db.scalars(select(ContactChannel)
                          .where(ContactChannel.volunteer_id == volunteer.id)):
        db.delete(old)
    for name, url_env in f.channels:
        db.add(ContactChannel(volunteer=volunteer, name=name, url_env=url_env))
    db.flush()


def add_volunteer(db: Session, *, fields: VolunteerFields, username: str, actor: User,
                  now: datetime) -> tuple[Volunteer, str | None]:
    """A new volunteer, with a sign-in if ``username`` is given; returns the new password to
    show once (None without a sign-in)."""
    volunteer = Volunteer(code=fields.code, given_name=fields.given_name, active=True)
    db.add(volunteer)
    password = None
    if username:
        password = new_password()
        volunteer.user = User(username=username, password_hash=hash_password(password),
                              role="volunteer", display_name=fields.given_name, active=True,
                              created_at=now)
    _apply(db, volunteer, fields)
    audit.record(db, actor=actor, action="volunteer.add", subject=("volunteer", volunteer.id),
                 after=volunteer_state(db, volunteer), now=now)
    log.info("volunteer %s added by %s", volunteer.code, actor.username)
    return volunteer, password


def edit_volunteer(db: Session, *, volunteer: Volunteer, fields: VolunteerFields, actor: User,
                   now: datetime) -> None:
    before = volunteer_state(db, volunteer)
    _apply(db, volunteer, fields)
    audit.record(db, actor=actor, action="volunteer.edit", subject=("volunteer", volunteer.id),
                 before=before, after=volunteer_state(db, volunteer), now=now)


def _hand_back(db: Session, ticket: Ticket, actor: Actor, now: datetime) -> None:
    """The task goes back to its squad as a decline (the leader is told of it as of any)."""
    if ticket.status == Status.IN_PROGRESS:
        # The lifecycle lets a volunteer decline only before starting; a volunteer who leaves
        # mid-task cannot finish it, so the task is handed back the same way by hand.
        volunteer_id, before = ticket.assignee_id, ticket.status
        ticket.status, ticket.assignee_id, ticket.accepted_at = Status.NEW, None, None
        record(db, ticket=ticket, action=HistoryAction.DECLINE, actor=actor, now=now,
               note=HANDED_BACK_NOTE, from_status=before, volunteer_id=volunteer_id)
    else:
        apply_action(db, ticket=ticket, action=Action.DECLINE, actor=actor, now=now,
                     note=HANDED_BACK_NOTE)


def _who(actor: User | str) -> tuple[Actor, str]:
    """The ticket history's actor and the log's name for a person or a tool (the site file)."""
    if isinstance(actor, User):
        return Actor.of(actor), actor.username
    return Actor("system", actor), actor


def deactivate_volunteer(db: Session, *, volunteer: Volunteer, actor: User | str,
                         now: datetime) -> list[Ticket]:
    """The volunteer stops: sign-in, task links and open tasks (handed back, returned).
    ``actor`` is the admin, or a label such as ``"servicepoint seed"`` for the site file."""
    ticket_actor, name = _who(actor)
    before = volunteer_state(db, volunteer)
    volunteer.active = False
    sessions = 0
    if volunteer.user is not None:
        volunteer.user.active = False
        sessions = close_all_sessions(db, user=volunteer.user)
    links = revoke_task_links(db, now=now, volunteer=volunteer)
    tasks = list(db.scalars(select(Ticket).where(
        Ticket.assignee_id == volunteer.id,
        Ticket.status.in_([s.value for s in _WITH_VOLUNTEER])).order_by(Ticket.id)))
    for ticket in tasks:
        _hand_back(db, ticket, ticket_actor, now)
    audit.record(db, actor=actor, action="volunteer.deactivate",
                 subject=("volunteer", volunteer.id), before=before,
                 after=volunteer_state(db, volunteer), now=now,
                 note=f"tasks handed back: {', '.join(t.number for t in tasks) or '-'}; "
                      f"sessions ended: {sessions}; task links revoked: {links}")
    log.info("volunteer %s deactivated by %s: %d tasks back to the squad", volunteer.code,
             name, len(tasks))
    return tasks


def reactivate_volunteer(db: Session, *, volunteer: Volunteer, actor: User | str,
                         now: datetime) -> None:
    before = volunteer_state(db, volunteer)
    volunteer.active = True
    if volunteer.user is not None:
        volunteer.user.active = True
    audit.record(db, actor=actor, action="volunteer.reactivate",
                 subject=("volunteer", volunteer.id), before=before,
                 after=volunteer_state(db, volunteer), now=now)


# --- staff accounts ---------------------------------------------------------------------------

@dataclass(frozen=True)
class UserFields:
    display_name: str
    role: str
    squad: Squad | None


def add_user(db: Session, *, username: str, fields: UserFields, actor: User,
             now: datetime) -> tuple[User, str]:
    """A new staff, admin or squad-leader account and its first password, to show once."""
    password = new_password()
    user = User(username=username, password_hash=hash_password(password), role=fields.role,
                display_name=fields.display_name, squad=fields.squad, active=True,
                created_at=now)
    db.add(user)
    db.flush()
    audit.record(db, actor=actor, action="user.add", subject=("user", user.id),
                 after=user_state(user), now=now)
    return user, password


def edit_user(db: Session, *, user: User, fields: UserFields, actor: User, now: datetime) -> None:
    before = user_state(user)
    user.display_name, user.role, user.squad = fields.display_name, fields.role, fields.squad
    db.flush()
    audit.record(db, actor=actor, action="user.edit", subject=("user", user.id), before=before,
                 after=user_state(user), now=now)


def deactivate_user(db: Session, *, user: User, actor: User, now: datetime) -> None:
    before = user_state(user)
    user.active = False
    ended = close_all_sessions(db, user=user)
    audit.record(db, actor=actor, action="user.deactivate", subject=("user", user.id),
                 before=before, after=user_state(user), now=now, note=f"sessions ended: {ended}")


def reactivate_user(db: Session, *, user: User, actor: User, now: datetime) -> None:
    before = user_state(user)
    user.active = True
    audit.record(db, actor=actor, action="user.reactivate", subject=("user", user.id),
                 before=before, after=user_state(user), now=now)


def reset_password(db: Session, *, user: User, actor: User, now: datetime) -> str:
    """A new generated password (returned to show once); the old one and every session end."""
    password = new_password()
    user.password_hash = hash_password(password)
    ended = close_all_sessions(db, user=user)
    # The password itself never goes into the log.
    audit.record(db, actor=actor, action="user.reset_password", subject=("user", user.id),
                 now=now, note=f"sessions ended: {ended}")
    return password
