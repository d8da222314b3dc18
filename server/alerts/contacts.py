"""Who can be reached, and how: the channels of squads and people, with their fallbacks.

A squad, a volunteer or a signed-in user (a squad leader) has :class:`~server.alerts.rows.
ContactChannel` rows, set in the site file; each names the environment variable holding its
Apprise URL, as ``config/alerts.toml`` does for staff. The fallbacks make sure no request goes
unannounced:

- a volunteer with no channel is told through their squad's channel;
- a squad leader with none, through the squad's channel (the squad's group chat);
- a squad with none (or a request with no squad yet), through the duty staff (level 0 of
  ``config/alerts.toml``).

A recipient is named without its secret, ``squad:<code>/<channel>``, ``volunteer:<code>/…``,
``user:<username>/…``, ``resident:<ticket id>/sms``; the outbox stores only that and
:meth:`ContactBook.resolve` finds the URL again when it sends. The resident's SMS URL is the
configured one with ``{phone}`` replaced by the number the resident gave, so no number is ever
written into the outbox.

    contacts = ContactBook(config=alerts_config, site_id="site-01")
    contacts.for_squad(db, squad_id=1, urgent=False)
    contacts.unreachable(db)     # what start-up logs
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from server.alerts.config import AlertsConfig
from server.alerts.model import Recipient
from server.alerts.rows import ContactChannel
from server.models import Role, ServiceRequest, Squad, User, Volunteer

__all__ = ["ContactBook", "Reach"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reach:
    """Who will hear a notice, and whether that is the person meant or a fallback."""

    recipients: tuple[Recipient, ...]
    fallback: bool = False


class ContactBook:
    """The channels of one site's squads and people, read from the database and the
    environment (``env``, ``os.environ`` unless a test passes its own)."""

    def __init__(self, *, config: AlertsConfig, site_id: str,
                 env: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.site_id = site_id
        self.env = os.environ if env is None else env

    # --- one owner's own channels -----------------------------------------------------------

    def _recipients(self, db: Session, owner: str, name: str,
                    column: InstrumentedAttribute[int | None], owner_id: int
                    ) -> tuple[Recipient, ...]:
        rows = db.scalars(select(ContactChannel).where(column == owner_id)
                          .order_by(ContactChannel.id)).all()
        found = []
        for row in rows:
            url = self.env.get(row.url_env, "").strip()
            if "://" in url:
                found.append(Recipient(staff_id=owner, name=name, channel=row.name, url=url))
        return tuple(found)

    def of_squad(self, db: Session, squad: Squad) -> tuple[Recipient, ...]:
        return self._recipients(db, f"squad:{squad.code}", squad.name, ContactChannel.squad_id,
                                squad.id)

    def of_volunteer(self, db: Session, volunteer: Volunteer) -> tuple[Recipient, ...]:
        return self._recipients(db, f"volunteer:{volunteer.code}", volunteer.given_name,
                                ContactChannel.volunteer_id, volunteer.id)

    def of_user(self, db: Session, user: User) -> tuple[Recipient, ...]:
        return self._recipients(db, f"user:{user.username}", user.display_name or user.username,
                                ContactChannel.user_id, user.id)

    def duty(self, *, urgent: bool, level: int = 0) -> tuple[Recipient, ...]:
        """The staff of one rung of ``config/alerts.toml``'s ladder (0: the duty staff)."""
        return self.config.recipients(self.site_id, level=level, urgent=urgent)

    # --- with the fallbacks ---------------------------------------------------------------

    def for_squad(self, db: Session, *, squad_id: int | None, urgent: bool) -> Reach:
        squad = db.get(Squad, squad_id) if squad_id is not None else None
        own = self.of_squad(db, squad) if squad is not None else ()
        return Reach(own) if own else Reach(self.duty(urgent=urgent), fallback=True)

    def for_volunteer(self, db: Session, volunteer: Volunteer, *, urgent: bool) -> Reach:
        own = self.of_volunteer(db, volunteer)
        if own:
            return Reach(own)
        squad = self.for_squad(db, squad_id=volunteer.squad_id, urgent=urgent)
        return Reach(squad.recipients, fallback=True)

    def for_leaders(self, db: Session, *, squad_id: int | None, urgent: bool) -> Reach:
        """The squad's leaders on their own channels, else the squad's channel (its group
        chat, where the leader is), else the duty staff."""
        own: list[Recipient] = []
        if squad_id is not None:
            for leader in self._leaders(db, squad_id):
                own.extend(self.of_user(db, leader))
        if own:
            return Reach(tuple(own))
        squad = self.for_squad(db, squad_id=squad_id, urgent=urgent)
        return Reach(squad.recipients, fallback=squad.fallback)

    def for_resident(self, request: ServiceRequest) -> Recipient | None:
        """The resident's SMS, where one is configured and the resident gave a number."""
        if self.config.resident_sms_url is None or not request.contact_phone:
            return None
        return Recipient(staff_id=f"resident:{request.ticket_id}", name="居民", channel="sms",
                         url=self.config.resident_sms_url.replace("{phone}",
                                                                  request.contact_phone))

    @staticmethod
    def _leaders(db: Session, squad_id: int) -> list[User]:
        return list(db.scalars(select(User).where(
            User.role == Role.SQUAD_LEADER.value, User.squad_id == squad_id,
            User.active.is_(True)).order_by(User.id)))

    # --- the outbox's side ----------------------------------------------------------------

    def resolve(self, db: Session, staff_id: str, channel: str) -> Recipient | None:
        """The recipient an outbox row names, with its URL as the environment has it now."""
        kind, _, code = staff_id.partition(":")
        found: tuple[Recipient, ...] = ()
        if kind == "squad":
            squad = db.scalar(select(Squad).where(Squad.code == code))
            found = self.of_squad(db, squad) if squad is not None else ()
        elif kind == "volunteer":
            volunteer = db.scalar(select(Volunteer).where(Volunteer.code == code))
            found = self.of_volunteer(db, volunteer) if volunteer is not None else ()
        elif kind == "user":
            user = db.scalar(select(User).where(User.username == code))
            found = self.of_user(db, user) if user is not None else ()
        elif kind == "resident" and code.isdigit():
            request = db.scalar(select(ServiceRequest).where(
                ServiceRequest.ticket_id == int(code)))
            resident = self.for_resident(request) if request is not None else None
            found = (resident,) if resident is not None else ()
        return next((r for r in found if r.channel == channel), None)

    def unreachable(self, db: Session) -> list[str]:
        """Who has no way to be reached of their own, and who hears for them instead."""
        lines = []
        if not self.duty(urgent=True):
            lines.append("duty staff: no channel in alerts.toml has its variable set: requests "
                         "of a squad with no channel reach nobody")
        squads = {s.id: s for s in db.scalars(select(Squad).order_by(Squad.code))}
        reachable = set()
        for squad in squads.values():
            if self.of_squad(db, squad):
                reachable.add(squad.id)
            else:
                lines.append(f"squad {squad.code} ({squad.name}): no channel; "
                             "its requests go to the duty staff")
        instead: dict[str, list[str]] = {}
        for volunteer in db.scalars(select(Volunteer).where(Volunteer.active.is_(True))
                                    .order_by(Volunteer.code)):
            if not self.of_volunteer(db, volunteer):
                through = ("their squad's channel" if volunteer.squad_id in reachable
                           else "the duty staff")
                instead.setdefault(through, []).append(f"{volunteer.code} {volunteer.given_name}")
        for through, names in instead.items():
            lines.append(f"volunteers with no channel of their own, told through {through}: "
                         + ", ".join(names))
        for squad_id in squads:
            for leader in self._leaders(db, squad_id):
                if not self.of_user(db, leader) and squad_id not in reachable:
                    lines.append(f"squad leader {leader.username}: neither they nor their squad "
                                 "have a channel; the duty staff are told instead")
        return lines
