"""The system of record: SQLAlchemy 2.0 typed mappings.

Places (compounds, buildings, units; grids and the squads that cover them), people (residents,
volunteers with skill tags, staff users), service categories, tickets with their append-only
history, and the service requests residents file. Times are stored as UTC and always come back
timezone-aware, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

__all__ = [
    "DISPATCH_ROLES",
    "STAFF_ROLES",
    "Base",
    "SiteOwned",
    "SiteScoped",
    "Building",
    "Category",
    "Compound",
    "Grid",
    "LoginFailure",
    "Resident",
    "Role",
    "ServiceRequest",
    "Squad",
    "Ticket",
    "TicketEvent",
    "Unit",
    "User",
    "UserSession",
    "Volunteer",
    "VolunteerSkill",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored as naive UTC and returned timezone-aware (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class SiteScoped:
    """A row that belongs to one site (service point) and has a ``site_id`` column.

    The marker server/sites/scoping.py filters every ORM read of a request's session by, and
    checks every flush against: a site's staff never see or write another site's rows."""

    @declared_attr
    def site_id(cls) -> Mapped[str | None]:
        # Every scoped class maps its own site_id; this column is only what the scoping's
        # with_loader_criteria lambda sees when it first looks at this mixin itself.
        return Column(String(40), nullable=False)  # type: ignore[return-value]


class SiteOwned(SiteScoped):
    """A :class:`SiteScoped` row whose ``site_id`` names a row of ``sites`` (migration 0709).
    Left unset, it is stamped with the acting site at flush (server/sites/scoping.py)."""

    site_id: Mapped[str] = mapped_column(String(40), ForeignKey("sites.id"), index=True)


# --- places -------------------------------------------------------------------------------

class Squad(SiteOwned, Base):
    """A volunteer squad (志愿服务小分队) of 帮帮快递先锋队; each covers one or more grids."""

    __tablename__ = "squads"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Grid(SiteOwned, Base):
    """A grid (网格): the unit of community management a squad looks after."""

    __tablename__ = "grids"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    squad_id: Mapped[int | None] = mapped_column(ForeignKey("squads.id"))
    squad: Mapped[Squad | None] = relationship()


class Compound(SiteOwned, Base):
    """An old residential compound (老旧小区)."""

    __tablename__ = "compounds"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    buildings: Mapped[list[Building]] = relationship(
        back_populates="compound", order_by="Building.code"
    )


class Building(SiteOwned, Base):
    __tablename__ = "buildings"
    __site_from__ = "compound"  # a new building's site, when unset (server/sites/scoping.py)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    # How many floors (楼层) it has, as staff set it (the kiosk may offer them); NULL: not given.
    floors: Mapped[int | None] = mapped_column(Integer)
    compound: Mapped[Compound] = relationship(back_populates="buildings")
    grid: Mapped[Grid | None] = relationship()
    units: Mapped[list[Unit]] = relationship(back_populates="building", order_by="Unit.code")


class Unit(SiteOwned, Base):
    """A stairwell unit (单元) of a building; the finest place a request points at."""

    __tablename__ = "units"
    __site_from__ = "building"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"))
    building: Mapped[Building] = relationship(back_populates="units")


# --- people -------------------------------------------------------------------------------

class Resident(SiteOwned, Base):
    """A resident, with as little personal data as the service needs."""

    __tablename__ = "residents"
    id: Mapped[int] = mapped_column(primary_key=True)
    address_as: Mapped[str] = mapped_column(String(40), default="")
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the resident's data was erased on request (the row stays, empty, so the monthly
    # figures still count them once).
    erased_at: Mapped[datetime | None]


class Role(StrEnum):
    """What a signed-in user is; ``User.role`` holds the value."""

    ADMIN = "admin"  # 站长
    STAFF = "staff"  # 工作人员
    SQUAD_LEADER = "squad_leader"  # 小分队队长
    VOLUNTEER = "volunteer"  # 志愿者
    STREET_OFFICE = "street_office"  # 街道: reads every site of its street, changes nothing
    DISTRICT_ADMIN = "district_admin"  # 区管理员: creates sites and each site's first admin


# Who works the whole site's queue, and who may also dispatch (a squad leader, in the grid).
STAFF_ROLES: Final = frozenset({Role.ADMIN, Role.STAFF})
DISPATCH_ROLES: Final = STAFF_ROLES | {Role.SQUAD_LEADER}


class User(SiteScoped, Base):
    """Someone who signs in: admin, staff, squad leader or volunteer (a :class:`Role`)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str] = mapped_column(String(60), default="")
    squad_id: Mapped[int | None] = mapped_column(ForeignKey("squads.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The admin pages' optimistic check: each save there adds one (server/web/admin/forms.py).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The site a site's people work in; NULL for the street office (its ``street``) and the
    # district admin, who belong to no one site (server/sites/).
    site_id: Mapped[str | None] = mapped_column(String(40), ForeignKey("sites.id"), index=True)
    street: Mapped[str | None] = mapped_column(String(60))
    squad: Mapped[Squad | None] = relationship()
    volunteer: Mapped[Volunteer | None] = relationship(back_populates="user")


class Volunteer(SiteOwned, Base):
    """A member of the volunteer corps; skill tags say which jobs they can take."""

    __tablename__ = "volunteers"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    given_name: Mapped[str] = mapped_column(String(40))
    full_name: Mapped[str] = mapped_column(String(60), default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    squad_id: Mapped[int | None] = mapped_column(ForeignKey("squads.id"))
    party_member: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    # The grid the volunteer lives in (their squad may cover several).
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    squad: Mapped[Squad | None] = relationship()
    grid: Mapped[Grid | None] = relationship()
    user: Mapped[User | None] = relationship(back_populates="volunteer")
    skills: Mapped[list[VolunteerSkill]] = relationship(
        cascade="all, delete-orphan", order_by="VolunteerSkill.skill"
    )

    @property
    def skill_tags(self) -> list[str]:
        return [s.skill for s in self.skills]


class VolunteerSkill(Base):
    __tablename__ = "volunteer_skills"
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), primary_key=True)
    skill: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class UserSession(Base):
    """A signed-in session; only the hash of its token is stored."""

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # Sliding sessions (squad leaders and volunteers on phones): each use moves expires_at to
    # now + this many seconds. NULL: a fixed session (staff).
    slide_s: Mapped[int | None] = mapped_column(Integer)
    user: Mapped[User] = relationship()


class LoginFailure(Base):
    """A failed sign-in, kept for throttling across server replicas."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)


# --- services and tickets -----------------------------------------------------------------

class Category(Base):
    """A service residents can ask for (config/categories.toml is the source)."""

    __tablename__ = "categories"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    skill: Mapped[str] = mapped_column(String(40))
    target_hours: Mapped[int] = mapped_column(Integer)
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    kiosk: Mapped[bool] = mapped_column(Boolean, default=True)
    # Residents and outside systems (Open311) may file it; staff-only categories are not public.
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    group_zh: Mapped[str] = mapped_column(String(40), default="")  # Open311 `group`
    group_en: Mapped[str] = mapped_column(String(60), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    questions: Mapped[list[Any]] = mapped_column(default=list)
    # Done at a time the resident picks from published slots (server/appointments/; 0708).
    by_appointment: Mapped[bool] = mapped_column(Boolean, default=False)


class Ticket(SiteOwned, Base):
    """One piece of work with a lifecycle: a resident's request or a maintenance condition."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_squad", "status", "squad_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="request")  # request | maintenance
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default="new")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    squad_id: Mapped[int | None] = mapped_column(ForeignKey("squads.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    # Set only when the request names no building (an Open311 position near the compound).
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"))
    # Sensor conditions: one open ticket per (asset, condition). open_key holds
    # "asset|condition" while the ticket is open and NULL after, so a UNIQUE index lets the
    # database itself refuse a second open ticket when two server replicas race.
    asset_id: Mapped[str | None] = mapped_column(String(80), index=True)
    condition: Mapped[str | None] = mapped_column(String(60))
    open_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    due_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    overdue_flagged_at: Mapped[datetime | None]
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)

    category: Mapped[Category] = relationship()
    squad: Mapped[Squad | None] = relationship()
    assignee: Mapped[Volunteer | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    building: Mapped[Building | None] = relationship()
    compound: Mapped[Compound | None] = relationship()
    request: Mapped[ServiceRequest | None] = relationship(back_populates="ticket")
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id"
    )


class TicketEvent(Base):
    """One line of a ticket's history. Rows are only ever added."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_kind: Mapped[str] = mapped_column(String(20))  # resident | user | system | sensor
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(60), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # The volunteer a move concerns: to whom it was dispatched, who accepted, declined or
    # resolved it (the assignee at the time; a decline clears the ticket's own).
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor_user: Mapped[User | None] = relationship()


class ServiceRequest(Base):
    """What a resident filed (at the kiosk, on a phone, or through Open311)."""

    __tablename__ = "service_requests"
    __table_args__ = (UniqueConstraint("client_id"), UniqueConstraint("phone_token"))
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    client_id: Mapped[str] = mapped_column(String(64))
    phone_token: Mapped[str] = mapped_column(String(64))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    description: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(40), default="")
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    # Optional, as the resident gave them: the unit's floor (楼层) and the door (房号).
    floor: Mapped[str] = mapped_column(String(10), default="")
    room: Mapped[str] = mapped_column(String(20), default="")
    channel: Mapped[str] = mapped_column(String(20), default="kiosk")
    # Filed by someone other than the resident (a daughter, a neighbour): the contact above is
    # who to call, resident_name whose home it is (migration 0701).
    for_someone_else: Mapped[bool] = mapped_column(Boolean, default=False)
    resident_name: Mapped[str] = mapped_column(String(40), default="")
    # The staff member who took the call and filed it (代办); None for residents' own filings.
    filed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ticket: Mapped[Ticket] = relationship(back_populates="request")
    resident: Mapped[Resident | None] = relationship()
