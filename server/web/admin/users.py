"""Admin pages for staff accounts: admins (站长), staff (工作人员) and squad leaders (队长).
Volunteers' own sign-ins are kept on their volunteer page (server/web/admin/volunteers.py).

    GET  /admin/users                          the list
    GET  /admin/users/new                      the add form; POST adds and shows the first
                                               password once
    GET  /admin/users/<id>                     name, role, squad; POST saves (version-checked)
    POST /admin/users/<id>/deactivate          the sign-in stops, its sessions end
    POST /admin/users/<id>/reactivate
    POST /admin/users/<id>/reset-password      a new generated password, shown once; the old
                                               one and every session end

Admins only; an admin cannot deactivate or demote their own account (someone must be left to
undo it). Every change is in the audit log (server/services/people.py); a password never is.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.api.deps import NowDep, SessionDep
from server.errors import Forbidden, NotFound
from server.models import Role, Squad, User
from server.services import people
from server.services.web_choices import squads
from server.sites.scoping import everywhere
from server.web.admin.forms import AdminForm, WebAdmin, bump
from server.web.common import ROLE_WORDS, CsrfChecked, WebRoute, lang_of, redirect, render
from server.web.words import N_, words_for

__all__ = ["router"]

router = APIRouter(route_class=WebRoute)
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
ROLES = (Role.ADMIN, Role.STAFF, Role.SQUAD_LEADER)

REQUIRED = N_("请填写这一项")
CHOOSE = N_("请选择一项")
TOO_LONG = N_("太长了，请写短一些")
USERNAME_SHAPE = N_("只能用英文字母、数字、短横线和下划线")
USERNAME_TAKEN = N_("这个登录名已经有人用了，请换一个")
LEADER_SQUAD = N_("小分队队长要选一个小分队")
NOT_SELF = N_("不能改变自己账号的角色；请另一位站长来改")


def _get(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None or user.role == Role.VOLUNTEER:
        raise NotFound("no such staff account")
    return user


def _page(request: Request, db: Session, me: User, form: AdminForm, *, account: User | None,
          status: int = 200) -> HTMLResponse:
    words = words_for(lang_of(request))
    return render(request, "admin/user.html", {
        "form": form, "account": account,
        "roles": [(r.value, words.pgettext(*ROLE_WORDS[r])) for r in ROLES],
        "squads": [(str(s.id), s.name) for s in squads(db)]}, status=status, user=me)


def _form_of(account: User) -> AdminForm:
    return AdminForm.showing(account, username=account.username,
                             display_name=account.display_name, role=account.role,
                             squad_id=account.squad_id or "")


def _check(db: Session, form: AdminForm, *, me: User,
           account: User | None) -> people.UserFields | None:
    name, role = form.get("display_name"), form.get("role")
    if not name:
        form.refuse("display_name", REQUIRED)
    elif len(name) > 60:
        form.refuse("display_name", TOO_LONG)
    if role not in {r.value for r in ROLES}:
        form.refuse("role", CHOOSE)
    elif account is not None and account.id == me.id and role != account.role:
        form.refuse("role", NOT_SELF)
    squad = db.get(Squad, int(form.get("squad_id"))) if form.get("squad_id").isdigit() else None
    if role == Role.SQUAD_LEADER and squad is None:
        form.refuse("squad_id", LEADER_SQUAD)
    if account is None:
        username = form.get("username")
        if not username:
            form.refuse("username", REQUIRED)
        elif not USERNAME.match(username):
            form.refuse("username", USERNAME_SHAPE)
        elif db.scalar(everywhere(select(User.id).where(User.username == username))) is not None:
            form.refuse("username", USERNAME_TAKEN)
    if form.errors:
        return None
    return people.UserFields(display_name=name, role=role,
                             squad=squad if role == Role.SQUAD_LEADER else None)


@router.get("/admin/users", response_class=HTMLResponse)
def user_list(request: Request, db: SessionDep, user: WebAdmin) -> Response:
    return render(request, "admin/users.html", {"rows": people.list_users(db)}, user=user)


@router.get("/admin/users/new", response_class=HTMLResponse)
def user_new(request: Request, db: SessionDep, user: WebAdmin) -> Response:
    return _page(request, db, user, AdminForm.showing(None, role=Role.STAFF.value),
                 account=None)


@router.post("/admin/users/new", response_class=HTMLResponse)
def user_add(request: Request, db: SessionDep, now: NowDep, user: WebAdmin, _csrf: CsrfChecked,
             username: Annotated[str, Form(max_length=200)] = "",
             display_name: Annotated[str, Form(max_length=200)] = "",
             role: Annotated[str, Form(max_length=20)] = "",
             squad_id: Annotated[str, Form(max_length=20)] = "") -> Response:
    form = AdminForm.of(username=username, display_name=display_name, role=role,
                        squad_id=squad_id)
    fields = _check(db, form, me=user, account=None)
    if fields is None:
        return _page(request, db, user, form, account=None, status=422)
    account, password = people.add_user(db, username=form.get("username"), fields=fields,
                                        actor=user, now=now)
    db.commit()
    return render(request, "admin/secret.html", {
        "who": account.display_name, "username": account.username, "password": password,
        "back": "/admin/users", "added": True}, user=user)


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
def user_page(request: Request, db: SessionDep, user: WebAdmin, user_id: UserId) -> Response:
    account = _get(db, user_id)
    return _page(request, db, user, _form_of(account), account=account)


@router.post("/admin/users/{user_id}", response_class=HTMLResponse)
def user_save(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
              _csrf: CsrfChecked, user_id: UserId,
              version: Annotated[str, Form(max_length=12)] = "",
              display_name: Annotated[str, Form(max_length=200)] = "",
              role: Annotated[str, Form(max_length=20)] = "",
              squad_id: Annotated[str, Form(max_length=20)] = "") -> Response:
    account = _get(db, user_id)
    form = AdminForm.of(version=version, username=account.username, display_name=display_name,
                        role=role, squad_id=squad_id)
    fields = _check(db, form, me=user, account=account)
    form.check_version(account.version, saved=_form_of(account).values)
    if fields is None or not form.ok:
        return _page(request, db, user, form, account=account, status=form.status)
    people.edit_user(db, user=account, fields=fields, actor=user, now=now)
    bump(db, account)
    db.commit()
    return redirect(f"/admin/users/{account.id}?done=saved")


@router.post("/admin/users/{user_id}/deactivate", response_class=HTMLResponse)
def user_deactivate(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
                    _csrf: CsrfChecked, user_id: UserId) -> Response:
    account = _get(db, user_id)
    if account.id == user.id:
        raise Forbidden("you cannot deactivate your own account")
    if account.active:
        people.deactivate_user(db, user=account, actor=user, now=now)
        bump(db, account)
        db.commit()
    return redirect(f"/admin/users/{account.id}?done=deactivated")


@router.post("/admin/users/{user_id}/reactivate", response_class=HTMLResponse)
def user_reactivate(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
                    _csrf: CsrfChecked, user_id: UserId) -> Response:
    account = _get(db, user_id)
    if not account.active:
        people.reactivate_user(db, user=account, actor=user, now=now)
        bump(db, account)
        db.commit()
    return redirect(f"/admin/users/{account.id}?done=reactivated")


@router.post("/admin/users/{user_id}/reset-password", response_class=HTMLResponse)
def user_reset_password(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
                        _csrf: CsrfChecked, user_id: UserId) -> Response:
    account = _get(db, user_id)
    password = people.reset_password(db, user=account, actor=user, now=now)
    db.commit()
    return render(request, "admin/secret.html", {
        "who": account.display_name or account.username, "username": account.username,
        "password": password, "back": f"/admin/users/{account.id}", "added": False}, user=user)
