"""Scoping every query and every write to the sites a session may see, in one place.

SQLAlchemy's pattern for this: a ``do_orm_execute`` event adds
``with_loader_criteria(SiteScoped, site_id IN (…), include_aliases=True)`` to every ORM SELECT,
UPDATE and DELETE of a scoped session (joins, subqueries, ``db.get`` and lazy loads included),
and a ``before_flush`` event stamps new rows with their site and refuses any added, changed or
deleted row of a site the session does not cover (and any at all for a read-only scope).

Wiring: ``server.db.session_factory`` installs both events on every session the server makes.
A session gets a scope from ``scope_session``, called by ``server/api/deps.py`` for a signed-in
user and for a kiosk's key. A session with no scope sees every site: the background jobs
(ingest, the overdue and reminder sweeps, the notice courier, the ledger job), the commands,
and the public token links (``/r/<token>``, ``/t/<token>``), which find their one row by a
secret token whatever its site.

Core statements (``select(table)``, ``text(…)``, ``insert(Table.__table__)``) do not pass through
the ORM criteria: code that runs them in a scoped session must filter by site itself.

Where a new row's site comes from, first found: its parent row's (``__site_from__`` names the
relationship, e.g. a unit takes its building's), the session's acting site, the session's
home site (``info["home_site"]``, the app's ``[site] id``), the only row of ``sites``.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from sqlalchemy import Executable, event, select
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from server.errors import Forbidden, Invalid
from server.models import SiteScoped, User
from server.sites.models import Site
from server.sites.rules import SITE_ROLES, STREET_OFFICE, SiteScope, scope_for

__all__ = ["HOME_KEY", "NoSite", "SiteRefused", "acting_site", "everywhere", "install", "scope_of",
           "scope_session", "scope_user_session"]

log = logging.getLogger(__name__)
SCOPE_KEY = "site_scope"
ALL_SITES = "all_sites"
_Statement = TypeVar("_Statement", bound=Executable)
HOME_KEY = "home_site"


class SiteRefused(Forbidden):
    """A write to a row of a site the session does not cover, or any write of a read-only
    scope (the street office). Answered 403."""


class NoSite(Invalid):
    """A new row whose site could not be told (a centre's unscoped session with no home)."""


def install(target: sessionmaker[Session] | type[Session]) -> None:
    """Put the two events on ``target`` (a sessionmaker: every session it makes)."""
    event.listen(target, "do_orm_execute", _add_site_criteria)
    event.listen(target, "before_flush", _check_writes)


def scope_session(db: Session, scope: SiteScope) -> None:
    """From now on ``db`` reads and writes only what ``scope`` covers."""
    db.info[SCOPE_KEY] = scope


def scope_user_session(db: Session, user: User) -> SiteScope:
    """Scope ``db`` to what signed-in ``user`` may see (server/sites/rules.py decides)."""
    street_sites: list[str] = []
    if user.role == STREET_OFFICE and user.street:
        street_sites = list(db.scalars(select(Site.id).where(Site.street == user.street)))
    scope = scope_for(role=user.role, site_id=user.site_id, street=user.street,
                      street_sites=street_sites)
    scope_session(db, scope)
    return scope


def scope_of(db: Session) -> SiteScope | None:
    scope: SiteScope | None = db.info.get(SCOPE_KEY)
    return scope


def acting_site(db: Session, default: str) -> str:
    """The site a session's new rows belong to: the signed-in person's or the kiosk's, else
    ``default`` (the home site, in single-site mode and for unscoped sessions)."""
    scope = scope_of(db)
    return scope.acting if scope is not None and scope.acting else default


def everywhere(statement: _Statement) -> _Statement:
    """``statement`` run over every site even in a scoped session: for the checks of what is
    unique across the district (a username, a volunteer's or a place's code, a copy's label, a
    kiosk's request number), which must see another site's row to refuse it kindly (a 4xx
    beside the field) rather than let the database refuse it."""
    return statement.execution_options(**{ALL_SITES: True})


def _add_site_criteria(state: ORMExecuteState) -> None:
    scope: SiteScope | None = state.session.info.get(SCOPE_KEY)
    if scope is None or scope.sites is None or state.is_column_load:
        return
    if state.execution_options.get(ALL_SITES):
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    ids = tuple(sorted(scope.sites))
    state.statement = state.statement.options(with_loader_criteria(
        SiteScoped, lambda cls: cls.site_id.in_(ids), include_aliases=True))


def _home_site(db: Session) -> str:
    home: str | None = db.info.get(HOME_KEY)
    if home:
        return home
    with db.no_autoflush:
        ids = db.scalars(select(Site.id).limit(2)).all()
    if len(ids) != 1:
        raise NoSite("a new row needs its site: none given, and the database has "
                     + ("no site" if not ids else "several"))
    db.info[HOME_KEY] = ids[0]
    return ids[0]


def _site_from_parent(db: Session, row: Any) -> str | None:
    attribute = getattr(type(row), "__site_from__", None)
    if attribute is None:
        return None
    with db.no_autoflush:
        parent = getattr(row, attribute, None)
    site: str | None = getattr(parent, "site_id", None)
    return site


def _stamp(db: Session, row: Any, scope: SiteScope | None) -> None:
    if row.site_id is not None:
        return
    if isinstance(row, User) and row.role not in SITE_ROLES:
        return  # the street office and the district admin belong to no one site
    row.site_id = (_site_from_parent(db, row)
                   or (scope.acting if scope is not None else None) or _home_site(db))


def _check_writes(db: Session, _context: Any, _instances: Any) -> None:
    scope: SiteScope | None = db.info.get(SCOPE_KEY)
    for row in db.new:
        if isinstance(row, SiteScoped):
            _stamp(db, row, scope)
            _refuse_outside(scope, row, "add")
    if scope is None:
        return
    for row in db.dirty:
        if isinstance(row, SiteScoped) and db.is_modified(row):
            _refuse_outside(scope, row, "change")
    for row in db.deleted:
        if isinstance(row, SiteScoped):
            _refuse_outside(scope, row, "delete")


def _refuse_outside(scope: SiteScope | None, row: Any, verb: str) -> None:
    if scope is None:
        return
    if scope.read_only:
        log.warning("refused: a read-only session tried to %s a %s row",
                    verb, type(row).__name__)
        raise SiteRefused("your role may not change anything")
    if isinstance(row, User) and row.site_id is None and scope.sites is None:
        return  # the district admin adds a street office's user
    if not scope.covers(row.site_id):
        log.warning("refused: a session of sites %s tried to %s a %s row of site %s",
                    sorted(scope.sites or ()), verb, type(row).__name__, row.site_id)
        raise SiteRefused("that belongs to another site")
