"""Dependencies routes ask for, as Annotated aliases: SessionDep, NowDep, CurrentUser, …"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from server.errors import Forbidden, NotAuthenticated
from server.models import DISPATCH_ROLES, STAFF_ROLES, Role, User
from server.security import user_for_token
from server.services.sites import site_for_kiosk_key
from server.settings import ServerSettings
from server.sites.rules import SiteScope, refuses_write
from server.sites.scoping import scope_session

__all__ = ["CurrentUser", "NowDep", "SessionDep", "SettingsDep", "StaffUser", "require_roles"]

log = logging.getLogger(__name__)
_bearer = HTTPBearer(auto_error=False)


# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in a
# worker thread, and each such hop costs more than the work itself when a hundred requests
# share the process.

async def get_settings(request: Request) -> ServerSettings:
    settings: ServerSettings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for the request. Making one does no I/O; closing it may (it hands back the
    connection, rolling back), so that part runs in a worker thread."""
    session: Session = request.app.state.sessions()
    try:
        yield session
    finally:
        await run_in_threadpool(session.close)


async def get_now(request: Request) -> datetime:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


SettingsDep = Annotated[ServerSettings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
NowDep = Annotated[datetime, Depends(get_now)]


def session_token(request: Request,
                  credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> str:
    """A bearer token from the Authorization header; or, for reading only, the web pages'
    session cookie. A cookie alone never authorises a change through the JSON API: a browser
    sends cookies with cross-site form posts, and these routes carry no CSRF token (the pages'
    own forms do)."""
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return credentials.credentials
    cookie = request.cookies.get("sp_session")
    if cookie and request.method in ("GET", "HEAD"):
        return cookie
    raise NotAuthenticated("sign in first")


def get_current_user(request: Request, db: SessionDep, now: NowDep,
                     token: Annotated[str, Depends(session_token)]) -> User:
    user = user_for_token(db, token=token, now=now)  # scopes db to the user's sites
    refuse_read_only_write(request, user)
    return user


def refuse_read_only_write(request: Request, user: User) -> None:
    """The street office reads and changes nothing: its every write is a 403 here, before the
    route runs (server/sites/rules.py)."""
    if refuses_write(role=user.role, method=request.method, path=request.url.path):
        raise Forbidden("the street office reads; it changes nothing")


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: str) -> Callable[[User], Awaitable[User]]:
    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden("your role may not do this")
        return user

    return check


StaffUser = Annotated[User, Depends(require_roles(*STAFF_ROLES))]
DispatcherUser = Annotated[User, Depends(require_roles(*DISPATCH_ROLES))]
VolunteerUser = Annotated[User, Depends(require_roles(Role.VOLUNTEER))]


def kiosk_or_staff(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                   x_kiosk_key: Annotated[str | None, Header()] = None) -> str:
    """The site status is for staff, and for the kiosk's PIN-protected staff mode."""
    if x_kiosk_key is not None:
        site = kiosk_site(db, settings, x_kiosk_key)
        if site is not None:
            return "kiosk"
        raise NotAuthenticated("wrong kiosk key")
    token = session_token(request, _bearer_from(request))
    user = user_for_token(db, token=token, now=now)
    if user.role not in DISPATCH_ROLES:
        raise Forbidden("your role may not do this")
    return user.username


def kiosk_site(db: Session, settings: ServerSettings, key: str) -> str | None:
    """The site of the kiosk whose X-Kiosk-Key is ``key`` (None: no kiosk's), with ``db``
    scoped to it: the settings' ``[security] kiosk_key`` is the home site's, each other
    site's kiosks have keys the district admin made (server/services/sites.py)."""
    site = site_for_kiosk_key(db, key=key, home_key=settings.security.kiosk_key,
                              home_site=settings.site.id)
    if site is not None:
        scope_session(db, SiteScope(sites=frozenset({site}), acting=site))
    return site


def _bearer_from(request: Request) -> HTTPAuthorizationCredentials | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return HTTPAuthorizationCredentials(scheme=scheme, credentials=value)
    return None


KioskOrStaff = Annotated[str, Depends(kiosk_or_staff)]


def kiosk_if_any(db: SessionDep, settings: SettingsDep,
                 x_kiosk_key: Annotated[str | None, Header()] = None) -> str | None:
    """For public reads: a kiosk that sends its key sees its own site's rows (``db`` scoped
    to it); anyone else, and a key no kiosk has, get None and the public list as before (the
    read is public: a mistyped key must not leave a kiosk without its places)."""
    if x_kiosk_key is None:
        return None
    site = kiosk_site(db, settings, x_kiosk_key)
    if site is None:
        log.warning("a public read sent a kiosk key no site has; answered unscoped")
    return site


KioskIfAny = Annotated[str | None, Depends(kiosk_if_any)]
