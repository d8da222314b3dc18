"""The sites of a district: the home site kept in step with the settings, the district
admin's changes (a new site with its first admin and kiosk key), the kiosks' keys, and the
sites a street office reads.

Called by server/app.py at start (``ensure_home_site``), by server/api/deps.py (a user's or a
kiosk's scope) and by the district admin's pages (server/web/admin/sites.py). Every change is
in the audit log; the caller commits.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from server.alerts.outbox import AlertBook
from server.alerts.policy import SiteInfo
from server.errors import Conflict
from server.models import Base, Role, User
from server.security import hash_password
from server.services import audit
from server.sites.models import Site, SiteKiosk

__all__ = ["HomeSite", "NewSite", "SiteFields", "add_site", "audit_kiosk_key", "book_for_site",
           "edit_site", "ensure_home_site", "list_sites", "new_kiosk_key", "site_for_kiosk_key",
           "street_sites"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HomeSite:
    """The settings' ``[site]``: the site this server itself stands for."""

    id: str
    name_zh: str
    name_en: str
    timezone: str


@dataclass(frozen=True)
class SiteFields:
    name_zh: str
    name_en: str
    street: str
    timezone: str


@dataclass(frozen=True)
class NewSite:
    """What the district admin is shown once: the new site, its admin's first password and
    its kiosk's key (only their hashes are kept)."""

    site: Site
    admin: User
    password: str
    kiosk_key: str


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def ensure_home_site(db: Session, *, home: HomeSite) -> Site:
    """Create the home site's row when missing, or bring its names in step with the settings.

    A database migration 0709 had to guess the site of (``provisional``) is renamed to the
    settings' id once, on every row that names it, if it is the only site."""
    site = db.get(Site, home.id)
    if site is None:
        guessed = db.scalars(select(Site).where(Site.provisional)).all()
        if len(guessed) == 1 and db.scalar(select(Site.id).where(Site.id != guessed[0].id)
                                           .limit(1)) is None:
            site = _rename(db, guessed[0], home.id)
        else:
            site = Site(id=home.id, name_zh=home.name_zh, name_en=home.name_en,
                        street="", timezone=home.timezone)
            db.add(site)
            log.info("home site %s added", home.id)
    site.name_zh, site.name_en, site.timezone = home.name_zh, home.name_en, home.timezone
    site.provisional = False
    db.commit()
    return site


def _rename(db: Session, old: Site, new_id: str) -> Site:
    """``old`` becomes ``new_id`` on the sites row and every row naming it (all in the caller's
    transaction: a new row first, so the foreign keys hold throughout)."""
    site = Site(id=new_id, name_zh=old.name_zh, name_en=old.name_en, street=old.street,
                timezone=old.timezone, created_at=old.created_at)
    db.add(site)
    db.flush()
    guarded = _lift_audit_guard(db)
    for table in Base.metadata.sorted_tables:
        if "site_id" in table.c and table.name != "sites":
            db.execute(update(table).where(table.c.site_id == old.id).values(site_id=new_id))
    _restore_audit_guard(db, guarded)
    db.delete(old)
    db.flush()
    log.info("home site renamed from %s (migration's guess) to %s", old.id, new_id)
    return site


_REFUSE = "the audit log is append-only"


def _lift_audit_guard(db: Session) -> str:
    """The audit log refuses every UPDATE (migration 0704's triggers); this one rename of the
    site its entries name is the exception, made in the same transaction as the put-back."""
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        db.execute(text("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries"))
    else:
        db.execute(text("DROP TRIGGER IF EXISTS audit_entries_no_update"))
    return dialect


def _restore_audit_guard(db: Session, dialect: str) -> None:
    if dialect == "postgresql":
        db.execute(text("CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE "
                        "ON audit_entries FOR EACH ROW EXECUTE FUNCTION audit_entries_refuse()"))
    else:
        db.execute(text("CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
                        f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"))


def list_sites(db: Session) -> list[Site]:
    return list(db.scalars(select(Site).order_by(Site.street, Site.id)))


def street_sites(db: Session, street: str) -> list[str]:
    return list(db.scalars(select(Site.id).where(Site.street == street).order_by(Site.id)))


def new_kiosk_key(db: Session, *, site: Site, now: datetime) -> str:
    """A new kiosk key for ``site``, to show once (its hash is kept)."""
    key = secrets.token_urlsafe(24)
    db.add(SiteKiosk(site_id=site.id, key_hash=_digest(key), created_at=now))
    return key


def site_for_kiosk_key(db: Session, *, key: str, home_key: str, home_site: str) -> str | None:
    """The site a kiosk's X-Kiosk-Key belongs to; the settings' ``[security] kiosk_key`` is
    the home site's. None: no kiosk has this key."""
    if hmac.compare_digest(key.encode(), home_key.encode()):
        return home_site
    row = db.scalars(select(SiteKiosk).where(SiteKiosk.key_hash == _digest(key),
                                             SiteKiosk.revoked_at.is_(None))).first()
    return row.site_id if row is not None else None


def _state(site: Site) -> dict[str, object]:
    return {"name_zh": site.name_zh, "name_en": site.name_en, "street": site.street,
            "timezone": site.timezone}


def add_site(db: Session, *, site_id: str, fields: SiteFields, admin_username: str,
             admin_name: str, actor: User, now: datetime) -> NewSite:
    """A new site with its first admin (a first password) and a kiosk key, shown once."""
    if db.get(Site, site_id) is not None:
        raise Conflict(f"site {site_id} exists")
    if db.scalar(select(User.id).where(User.username == admin_username)) is not None:
        raise Conflict(f"user {admin_username} exists")
    site = Site(id=site_id, name_zh=fields.name_zh, name_en=fields.name_en,
                street=fields.street, timezone=fields.timezone, created_at=now)
    db.add(site)
    db.flush()
    password = secrets.token_urlsafe(9)
    admin = User(username=admin_username, password_hash=hash_password(password),
                 role=Role.ADMIN.value, display_name=admin_name, site_id=site.id, active=True,
                 created_at=now)
    db.add(admin)
    key = new_kiosk_key(db, site=site, now=now)
    db.flush()
    entry = audit.record(db, actor=actor, action="site.add", subject=("site", site.id),
                         after={**_state(site), "admin": admin_username}, now=now)
    entry.site_id = site.id  # the site's own log shows how it began
    log.info("site %s added by user %s, first admin %s", site.id, actor.id, admin_username)
    return NewSite(site=site, admin=admin, password=password, kiosk_key=key)


def edit_site(db: Session, *, site: Site, fields: SiteFields, actor: User,
              now: datetime) -> None:
    before = _state(site)
    site.name_zh, site.name_en = fields.name_zh, fields.name_en
    site.street, site.timezone = fields.street, fields.timezone
    site.version += 1
    audit.record(db, actor=actor, action="site.edit", subject=("site", site.id),
                 before=before, after=_state(site), now=now).site_id = site.id


def audit_kiosk_key(db: Session, *, site: Site, actor: User, now: datetime) -> None:
    """A new kiosk key was made for ``site`` (the key itself is never logged)."""
    audit.record(db, actor=actor, action="site.kiosk_key", subject=("site", site.id),
                 now=now).site_id = site.id


def book_for_site(db: Session, book: AlertBook, site_id: str) -> AlertBook:
    """``book`` for ``site_id``: its alerts carry that site and go to its recipients (the
    home site's book is ``book`` itself)."""
    if site_id == book.site.id:
        return book
    site = db.get(Site, site_id)
    name_zh = site.name_zh if site is not None else site_id
    name_en = (site.name_en or site.name_zh) if site is not None else site_id
    return book.for_site(SiteInfo(id=site_id, name_zh=name_zh, name_en=name_en))
