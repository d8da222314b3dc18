"""Signing in and out of the web pages, the language toggle, and the home page's redirect.

The session is the same server-side session the JSON API hands out (server.security); the web
keeps its token in an HttpOnly cookie (SameSite=Lax, Secure when the public URL is https).
Wrong passwords are counted and throttled by ``security.authenticate`` itself.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.errors import NotAuthenticated, Throttled
from server.models import User
from server.security import authenticate, close_session, open_session, user_for_token
from server.web.common import (
    LANG_COOKIE,
    LANGS,
    SESSION_COOKIE,
    CsrfChecked,
    WebRoute,
    clear_session_cookie,
    redirect,
    render,
    safe_next,
    set_session_cookie,
)

__all__ = ["home_for", "router"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)


def home_for(user: User) -> str:
    return "/v" if user.role == "volunteer" else "/staff"


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
        user = authenticate(db, username=username[:60], password=password[:200], now=now,
                            attempts=sec.login_attempts, window_s=sec.login_window_s)
    except Throttled:
        return render(request, "login.html", {"next": safe_next(next, ""), "form": form,
                                              "error": "throttled"}, status=429)
    except NotAuthenticated:
        return render(request, "login.html", {"next": safe_next(next, ""), "form": form,
                                              "error": "wrong"}, status=401)
    token = open_session(db, user=user, now=now, hours=sec.session_hours)
    log.info("web sign-in: %s (%s)", user.username, user.role)
    response = redirect(safe_next(next, home_for(user)))
    set_session_cookie(request, response, token)
    return response


@router.post("/logout", response_class=HTMLResponse)
def logout(request: Request, db: SessionDep, _csrf: CsrfChecked) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        close_session(db, token=token)
    response = redirect("/login")
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
