"""Load a site's places, squads, volunteers and staff from a TOML file (``servicepoint seed``).

The file is what an installer edits to enter the real compounds; the demo data is one such file
(config/demo-site.toml). Loading is an upsert by code/username, so running it again after an
edit changes what changed and adds what is new. Passwords may be given in the file (for the demo)
or left out, in which case a random one is made and reported once.

Compounds and buildings may list ``aliases`` (other names people write for them: an old name,
a street address, "邮电大楼"), and a compound its centre ``lat``/``long`` (WGS-84, as Open311
clients send) and ``radius_m`` (how far from the centre a position still counts as that
compound, 200 m if not given). Open311 places free-text addresses and positions with them.

Squads, volunteers and users may list ``channels``: how they are told of requests (a squad's
WeCom or DingTalk group robot, a person's own robot or mailbox; see
:mod:`server.alerts.contacts` for the fallbacks). Each names the environment variable holding its
Apprise URL; loading replaces an owner's channels with the file's.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation.errors import ConfigError
from foundation.tomlfile import read_toml
from server.alerts.rows import ContactChannel
from server.models import (
    Building,
    Compound,
    Grid,
    Squad,
    Unit,
    User,
    Volunteer,
    VolunteerSkill,
    utcnow,
)
from server.place_locations import PlaceLocation
from server.security import hash_password, verify_password
from server.services.people import deactivate_volunteer, reactivate_volunteer
from server.sites.models import Site
from server.sites.rules import SiteScope
from server.sites.scoping import scope_of, scope_session

SEED = "servicepoint seed"  # who the audit log names for changes the site file made

__all__ = ["SiteData", "LoadReport", "apply_site_data", "demo_signins_in_use", "load_site_data"]

log = logging.getLogger(__name__)
_CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"
ROLES = ("admin", "staff", "squad_leader", "volunteer")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChannelSpec(_Strict):
    """One way to reach a squad or a person: an Apprise URL in the environment variable named
    (``wecombot://<key>`` for a WeCom group robot, ``dingtalk://<token>/`` for DingTalk,
    ``mailtos://…`` for e-mail). The URL holds secrets, so the file names the variable only."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    url_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,79}$")


def _one_per_name(channels: list[ChannelSpec]) -> list[ChannelSpec]:
    names = [c.name for c in channels]
    if len(set(names)) != len(names):
        raise ValueError("each channel needs its own name")
    return channels


class SquadSpec(_Strict):
    code: str = Field(pattern=_CODE)
    name: str
    channels: list[ChannelSpec] = Field(default_factory=list)

    _unique = field_validator("channels")(_one_per_name)


class GridSpec(_Strict):
    code: str = Field(pattern=_CODE)
    name: str
    squad: str


class BuildingSpec(_Strict):
    name: str
    code: str | None = Field(default=None, pattern=_CODE)
    units: int | list[str] = 2
    grid: str | None = None
    aliases: list[str] = Field(default_factory=list)


class CompoundSpec(_Strict):
    code: str = Field(pattern=_CODE)
    name_zh: str
    name_en: str = ""
    grid: str
    buildings: int | None = Field(default=None, ge=1, le=200)
    units: int = Field(default=2, ge=1, le=20)
    building: list[BuildingSpec] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)
    radius_m: int | None = Field(default=None, ge=10, le=5000)

    @model_validator(mode="after")
    def _some_buildings(self) -> CompoundSpec:
        if not self.building and not self.buildings:
            raise ValueError("give `buildings = N` or [[compound.building]] tables")
        if (self.lat is None) != (self.long is None):
            raise ValueError("give both `lat` and `long`, or neither")
        return self


class VolunteerSpec(_Strict):
    code: str = Field(pattern=_CODE)
    given_name: str
    full_name: str = ""
    phone: str | None = Field(default=None, pattern=r"^1\d{10}$")
    squad: str
    skills: list[str] = Field(default_factory=list)
    party_member: bool = False
    username: str | None = Field(default=None, pattern=_CODE)
    password: str | None = Field(default=None, min_length=8)
    channels: list[ChannelSpec] = Field(default_factory=list)
    # false: the volunteer has left (their sign-in, links and open tasks end, as on the admin
    # page); true again brings them back.
    active: bool = True

    _unique = field_validator("channels")(_one_per_name)


class UserSpec(_Strict):
    username: str = Field(pattern=_CODE)
    role: str = Field(pattern="^(admin|staff|squad_leader)$")
    display_name: str = ""
    squad: str | None = None
    password: str | None = Field(default=None, min_length=8)
    channels: list[ChannelSpec] = Field(default_factory=list)

    _unique = field_validator("channels")(_one_per_name)

    @model_validator(mode="after")
    def _leader_has_squad(self) -> UserSpec:
        if self.role == "squad_leader" and not self.squad:
            raise ValueError("a squad_leader needs `squad`")
        return self


class TankSpec(_Strict):
    asset_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    name: str
    # The sensor node (its id and broker login) whose readings of this asset count.
    node: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    building: str | None = None
    capacity_l: float | None = Field(default=None, gt=0)
    cleaning_interval_days: int | None = Field(default=None, ge=90, le=365)
    last_cleaned_on: date | None = None
    last_passed_test_on: date | None = None


class ExtinguisherSpec(_Strict):
    asset_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    name: str
    node: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    building: str | None = None
    type: str = Field(pattern="^(water|dry_powder|co2|clean_agent)$")
    manufactured_on: date
    last_maintained_on: date | None = None
    last_inspected_on: date | None = None


class SiteData(_Strict):
    site_id: str = "site-01"
    tank: list[TankSpec] = Field(default_factory=list)
    extinguisher: list[ExtinguisherSpec] = Field(default_factory=list)
    squad: list[SquadSpec] = Field(default_factory=list)
    grid: list[GridSpec] = Field(default_factory=list)
    compound: list[CompoundSpec] = Field(default_factory=list)
    volunteer: list[VolunteerSpec] = Field(default_factory=list)
    user: list[UserSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> SiteData:
        squads = {s.code for s in self.squad}
        grids = {g.code for g in self.grid}
        for g in self.grid:
            if g.squad not in squads:
                raise ValueError(f"grid {g.code}: unknown squad {g.squad!r}")
        for c in self.compound:
            if c.grid not in grids:
                raise ValueError(f"compound {c.code}: unknown grid {c.grid!r}")
        for v in self.volunteer:
            if v.squad not in squads:
                raise ValueError(f"volunteer {v.code}: unknown squad {v.squad!r}")
        for u in self.user:
            if u.squad and u.squad not in squads:
                raise ValueError(f"user {u.username}: unknown squad {u.squad!r}")
        return self


@dataclass
class LoadReport:
    compounds: int = 0
    buildings: int = 0
    units: int = 0
    volunteers: int = 0
    users: int = 0
    generated_passwords: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"{self.compounds} compounds, {self.buildings} buildings, {self.units} units, "
                f"{self.volunteers} volunteers, {self.users} sign-ins")


def load_site_data(path: Path) -> SiteData:
    source = str(path)
    raw = read_toml(path, key='seed file')
    try:
        return SiteData.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(file)"
        raise ConfigError(key, first["msg"], source) from None


def _upsert(db: Session, model: type[Any], key: str, value: str) -> Any:
    row = db.scalar(select(model).where(getattr(model, key) == value))
    if row is None:
        row = model(**{key: value})
        db.add(row)
    return row


def _apply_register(db: Session, data: SiteData) -> None:
    """The asset register: tanks and extinguisher bays the sensors report on."""
    from server.sensing.models import ExtinguisherBay, Tank

    for t in data.tank:
        tank = db.get(Tank, t.asset_id) or Tank(asset_id=t.asset_id)
        tank.site_id, tank.name, tank.building_code = data.site_id, t.name, t.building
        tank.capacity_l, tank.cleaning_interval_days = t.capacity_l, t.cleaning_interval_days
        tank.node_id = t.node or tank.node_id
        # Dates already recorded by staff (a cleaning) are newer than the file's; keep them.
        tank.last_cleaned_on = max(filter(None, [tank.last_cleaned_on, t.last_cleaned_on]),
                                   default=None)
        tank.last_passed_test_on = max(
            filter(None, [tank.last_passed_test_on, t.last_passed_test_on]), default=None)
        db.add(tank)
    for e in data.extinguisher:
        bay = db.get(ExtinguisherBay, e.asset_id) or ExtinguisherBay(asset_id=e.asset_id)
        bay.site_id, bay.name, bay.building_code = data.site_id, e.name, e.building
        bay.extinguisher_type, bay.manufactured_on = e.type, e.manufactured_on
        bay.node_id = e.node or bay.node_id
        bay.last_maintained_on = max(filter(None, [bay.last_maintained_on,
                                                   e.last_maintained_on]), default=None)
        bay.last_inspected_on = max(filter(None, [bay.last_inspected_on, e.last_inspected_on]),
                                    default=None)
        db.add(bay)


def _locate(db: Session, code: str, *, aliases: list[str], lat: float | None = None,
            long: float | None = None, radius_m: int | None = None) -> None:
    """A place's other names and position, as the file has them now."""
    location = db.get(PlaceLocation, code) or PlaceLocation(code=code)
    location.aliases, location.lat, location.long = list(aliases), lat, long
    location.radius_m = radius_m
    db.add(location)


def _set_channels(db: Session, channels: list[ChannelSpec], *, squad: Squad | None = None,
                  volunteer: Volunteer | None = None, user: User | None = None) -> None:
    """The owner's channels become the file's (one owner given, already flushed)."""
    owner = (ContactChannel.squad_id == squad.id if squad is not None else
             ContactChannel.volunteer_id == volunteer.id if volunteer is not None else
             ContactChannel.user_id == (user.id if user is not None else None))
    for old in db.scalars(select(ContactChannel).where(owner)):
        db.delete(old)
    for channel in channels:
        db.add(ContactChannel(squad=squad, volunteer=volunteer, user=user, name=channel.name,
                              url_env=channel.url_env))


def _set_active(db: Session, volunteer: Volunteer, *, wanted: bool, was: bool) -> None:
    """``active`` from the file: leaving goes through the same path as the admin page's."""
    if wanted and not was:
        reactivate_volunteer(db, volunteer=volunteer, actor=SEED, now=utcnow())
    elif not wanted and was:
        deactivate_volunteer(db, volunteer=volunteer, actor=SEED, now=utcnow())
    elif not wanted and volunteer.user is not None:
        volunteer.user.active = False  # still gone: the sign-in stays closed


def apply_site_data(db: Session, *, data: SiteData) -> LoadReport:
    # A district's file for one site (``site_id``, a row of ``sites``) loads into that site:
    # its places, squads and people take its id and match only its rows (server/sites/). A
    # site the database does not know keeps today's way: rows take the home site.
    if scope_of(db) is None and db.get(Site, data.site_id) is not None:
        scope_session(db, SiteScope(sites=frozenset({data.site_id}), acting=data.site_id))
    report = LoadReport()
    squads: dict[str, Squad] = {}
    for s in data.squad:
        squads[s.code] = _upsert(db, Squad, "code", s.code)
        squads[s.code].name = s.name
    grids: dict[str, Grid] = {}
    for g in data.grid:
        grid = grids[g.code] = _upsert(db, Grid, "code", g.code)
        grid.name, grid.squad = g.name, squads[g.squad]
    db.flush()
    for c in data.compound:
        compound = _upsert(db, Compound, "code", c.code)
        compound.name_zh, compound.name_en = c.name_zh, c.name_en
        _locate(db, c.code, aliases=c.aliases, lat=c.lat, long=c.long, radius_m=c.radius_m)
        report.compounds += 1
        buildings = c.building or [
            BuildingSpec(name=f"{i}栋", units=c.units) for i in range(1, (c.buildings or 0) + 1)
        ]
        for index, b in enumerate(buildings, start=1):
            code = b.code or f"{c.code}-B{index:02d}"
            building = _upsert(db, Building, "code", code)
            building.name, building.compound = b.name, compound
            building.grid = grids[b.grid] if b.grid else grids[c.grid]
            _locate(db, code, aliases=b.aliases)
            report.buildings += 1
            names = b.units if isinstance(b.units, list) else [
                f"{j}单元" for j in range(1, b.units + 1)
            ]
            for j, unit_name in enumerate(names, start=1):
                unit = _upsert(db, Unit, "code", f"{code}-U{j}")
                unit.name, unit.building = unit_name, building
                report.units += 1
    db.flush()

    def login(username: str, role: str, display: str, password: str | None,
              squad: Squad | None) -> User:
        user: User = _upsert(db, User, "username", username)
        if password is None and not user.password_hash:
            password = secrets.token_urlsafe(9)
            report.generated_passwords[username] = password
        if password is not None:
            user.password_hash = hash_password(password)
        user.role, user.display_name, user.squad, user.active = role, display, squad, True
        report.users += 1
        return user

    for u in data.user:
        user = login(u.username, u.role, u.display_name or u.username, u.password,
                     squads.get(u.squad) if u.squad else None)
        db.flush()
        _set_channels(db, u.channels, user=user)
    for s in data.squad:
        _set_channels(db, s.channels, squad=squads[s.code])
    _apply_register(db, data)
    for v in data.volunteer:
        volunteer = _upsert(db, Volunteer, "code", v.code)
        volunteer.given_name, volunteer.full_name, volunteer.phone = (
            v.given_name, v.full_name, v.phone)
        volunteer.squad, volunteer.party_member = squads[v.squad], v.party_member
        was_active = volunteer.id is None or volunteer.active
        wanted = set(v.skills)
        volunteer.skills = [s for s in volunteer.skills if s.skill in wanted] + [
            VolunteerSkill(skill=s) for s in sorted(wanted - set(volunteer.skill_tags))
        ]
        if v.username:
            volunteer.user = login(v.username, "volunteer", v.given_name, v.password,
                                   squads[v.squad])
        db.flush()
        _set_channels(db, v.channels, volunteer=volunteer)
        _set_active(db, volunteer, wanted=v.active, was=was_active)
        report.volunteers += 1
    db.commit()
    log.info("site data loaded: %s", report.summary())
    return report


def demo_signins_in_use(db: Session, demo: SiteData) -> list[str]:
    """The usernames of ``demo``'s sign-ins that are active here and still open with the password
    that file gives them (public: it is in the README). Production refuses to start with any.

    Only usernames found in the database are checked, so a real site costs no password check.
    """
    known = {u.username: u.password for u in demo.user if u.password}
    known.update({v.username: v.password for v in demo.volunteer if v.username and v.password})
    if not known:
        return []
    rows = db.scalars(select(User).where(User.username.in_(known), User.active.is_(True)))
    return sorted(user.username for user in rows
                  if user.password_hash and verify_password(user.password_hash,
                                                            known[user.username]))
