"""Signing in and out of the web pages, one's own account, the language toggle, and the home
page's redirect.

    GET/POST /login, POST /logout
    GET  /account                    change my password; sign out everywhere
    POST /account/password           current, new, repeat
    POST /account/sign-out-all       every session of mine ends, and my task links with them

The session is the same server-side session the JSON API hands out (server.security); the web
keeps its token in an HttpOnly cookie (SameSite=Lax, Secure when the public URL is https).
Squad leaders' and volunteers' sessions slide (security.field_session_days), so the cookie is
kept as long as the longest such session may run and the server decides when it ends.
Wrong passwords are counted and throttled by ``security.authenticate`` itself.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.errors import Invalid, NotAuthenticated, Throttled
from server.models import User
from server.security import (
    MIN_PASSWORD,
    authenticate,
    change_password,
    close_all_sessions,
    close_session,
    open_session,
    session_terms,
    user_for_token,
)
from server.services.task_links import revoke_task_links
from server.settings import ServerSettings
from server.web.common import (
    LANG_COOKIE,
    LANGS,
    SESSION_COOKIE,
    CsrfChecked,
    WebRoute,
    WebUser,
    clear_session_cookie,
    redirect,
    render,
    safe_next,
    set_session_cookie,
)

__all__ = ["home_for", "router"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)
# How long a phone keeps a sliding session's cookie; the session itself ends sooner if unused.
MAX_FIELD_COOKIE = timedelta(days=90)


def home_for(user: User) -> str:
    return {"volunteer": "/v", "street_office": "/street",
            "district_admin": "/admin/sites"}.get(user.role, "/staff")


def _signed_in(request: Request, db: SessionDep, now: NowDep) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return user_for_token(db, token=token, now=now)
    except NotAuthenticated:
        return None


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: SessionDep, now: NowDep) -> Response:
    user = _signed_in(request, db, now)
    return redirect(home_for(user) if user else "/login")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, db: SessionDep, now: NowDep,
               next: Annotated[str, Query(max_length=500)] = "") -> Response:
    user = _signed_in(request, db, now)
    if user is not None:
        return redirect(safe_next(next, home_for(user)))
    return render(request, "login.html", {"next": safe_next(next, ""), "form": {}})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
          _csrf: CsrfChecked, username: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "") -> Response:
    form = {"username": username}
    username = username.strip()
    if not username or not password:
        return render(request, "login.html", {"next": safe_next(next, ""), "form": form,
                                              "error": "missing"}, status=422)
    sec = settings.security
    try:
        user = authenticate(db, username=username[:60], password=password[:200],
                            address=request.client.host if request.client else "unknown",
                            now=now, attempts=sec.login_attempts, window_s=sec.login_window_s)
    except Throttled:
        return render(request, "login.html", {"next": safe_next(next, ""), "form": form,
                                              "error": "throttled"}, status=429)
    except NotAuthenticated:
        return render(request, "login.html", {"next": safe_next(next, ""), "form": form,
                                              "error": "wrong"}, status=401)
    log.info("web sign-in: %s (%s)", user.username, user.role)
    response = redirect(safe_next(next, home_for(user)))
    _sign_in(request, response, db, settings, user, now)
    return response


def _sign_in(request: Request, response: Response, db: SessionDep, settings: ServerSettings,
             user: User, now: datetime) -> None:
    sec = settings.security
    terms = session_terms(user.role, staff_hours=sec.session_hours,
                          field_days=sec.field_session_days)
    token = open_session(db, user=user, now=now, hours=sec.session_hours, terms=terms)
    # A sliding session outlives its first lifetime; the cookie must too.
    keep = MAX_FIELD_COOKIE if terms.sliding else terms.lifetime
    set_session_cookie(request, response, token, max_age_s=int(keep.total_seconds()))


@router.post("/logout", response_class=HTMLResponse)
def logout(request: Request, db: SessionDep, _csrf: CsrfChecked) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        close_session(db, token=token)
    response = redirect("/login")
    clear_session_cookie(request, response)
    return response


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, user: WebUser) -> Response:
    return render(request, "account.html", {"min_password": MIN_PASSWORD}, user=user)


@router.post("/account/password", response_class=HTMLResponse)
def set_password(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                 user: WebUser, _csrf: CsrfChecked,
                 current: Annotated[str, Form()] = "", new: Annotated[str, Form()] = "",
                 repeat: Annotated[str, Form()] = "") -> Response:
    def again(error: str, status: int) -> Response:
        return render(request, "account.html", {"min_password": MIN_PASSWORD, "error": error},
                      status=status, user=user)

    if new != repeat:
        return again("mismatch", 422)
    try:
        change_password(db, user=user, current=current[:200], new=new)
    except NotAuthenticated:
        return again("wrong", 403)
    except Invalid:
        return again("short", 422)
    log.info("password changed: %s; other sessions ended", user.username)
    response = redirect("/account?done=password")
    _sign_in(request, response, db, settings, user, now)
    return response


@router.post("/account/sign-out-all", response_class=HTMLResponse)
def sign_out_everywhere(request: Request, db: SessionDep, now: NowDep, user: WebUser,
                        _csrf: CsrfChecked) -> Response:
    ended = close_all_sessions(db, user=user)
    links = (revoke_task_links(db, now=now, volunteer=user.volunteer)
             if user.volunteer is not None else 0)
    db.commit()
    log.info("signed out everywhere: %s (%d sessions, %d task links)", user.username, ended,
             links)
    response = redirect("/login?done=signed_out")
    clear_session_cookie(request, response)
    return response


@router.get("/lang/{lang}", response_class=HTMLResponse)
def choose_language(request: Request, lang: str,
                    next: Annotated[str, Query(max_length=1000)] = "/") -> Response:
    response = redirect(safe_next(next))
    if lang in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax",
                            httponly=True, path="/")
    return response
