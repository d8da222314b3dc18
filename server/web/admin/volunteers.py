"""Admin pages for volunteers (帮帮快递先锋队): the list, add, edit (skills, squad and grid, party
member, notification channels), deactivate and reactivate.

    GET  /admin/volunteers?q=                 the list, with a search
    GET  /admin/volunteers/new                the add form; POST adds (and shows a new sign-in's
                                              password once)
    GET  /admin/volunteers/<id>               the edit form; POST saves (version-checked)
    POST /admin/volunteers/<id>/deactivate    sign-in, task links and open tasks end (the tasks
                                              go back to the squad, whose leader is told)
    POST /admin/volunteers/<id>/reactivate
    POST /admin/volunteers/<id>/reset-password  a new password for the volunteer's sign-in,
                                              shown once

Admins only (``WebAdmin``); every change is in the audit log (server/services/people.py).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.api.deps import NowDep, SessionDep
from server.errors import NotFound
from server.models import Grid, Squad, User, Volunteer
from server.services import people
from server.services.web_choices import squads
from server.sites.scoping import everywhere
from server.web.admin.forms import AdminForm, WebAdmin, bump
from server.web.common import CsrfChecked, WebRoute, redirect, render
from server.web.words import N_

__all__ = ["check_volunteer_form", "router"]

router = APIRouter(route_class=WebRoute)
VolunteerId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
PHONE = re.compile(r"^1\d{10}$")
SKILL = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,79}$")

REQUIRED = N_("请填写这一项")
CHOOSE = N_("请选择一项")
TOO_LONG = N_("太长了，请写短一些")
CODE_SHAPE = N_("只能用英文字母、数字、短横线和下划线")
CODE_TAKEN = N_("这个代码已经有了，请换一个")
USERNAME_TAKEN = N_("这个登录名已经有人用了，请换一个")
PHONE_SHAPE = N_("请填写 11 位手机号，例如 13800001234")
SKILL_SHAPE = N_("技能标签只能用小写英文字母、数字和下划线，用逗号隔开")
CHANNEL_SHAPE = N_("每行写一个渠道：名称=环境变量名，例如 wecom=SERVICEPOINT_NOTIFY_V01_URL")
NOT_FOUND = N_("没有找到这一项，请从列表中选择")


def _get(db: Session, volunteer_id: int) -> Volunteer:
    volunteer = db.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("no such volunteer")
    return volunteer


def _page(request: Request, db: Session, user: User, form: AdminForm, *,
          volunteer: Volunteer | None, status: int = 200) -> HTMLResponse:
    skills = sorted(set(people.known_skills(db)) | set(form.get("skills").replace(
        ",", " ").split()))
    return render(request, "admin/volunteer.html", {
        "form": form, "volunteer": volunteer,
        "squads": [(str(s.id), s.name) for s in squads(db)],
        "grids": [(str(g.id), g.name) for g in people.grids(db)],
        "skills": skills, "chosen": set(form.get("skills").replace(",", " ").split()),
        "services": people.skill_services(db),
    }, status=status, user=user)


def _form_of(volunteer: Volunteer, db: Session) -> AdminForm:
    state = people.volunteer_state(db, volunteer)
    return AdminForm.showing(volunteer, **{
        **state, "skills": " ".join(state["skills"]), "channels": "\n".join(state["channels"]),
        "squad_id": state["squad_id"] or "", "grid_id": state["grid_id"] or ""})


def _saved(db: Session, volunteer: Volunteer) -> dict[str, object]:
    """The saved record as the form's fields, to compare with what was typed."""
    return {k: v for k, v in _form_of(volunteer, db).values.items() if k not in (
        "active", "username")}


def check_volunteer_form(db: Session, form: AdminForm, skills: list[str], *,
                         volunteer: Volunteer | None) -> people.VolunteerFields | None:
    code, given = form.get("code"), form.get("given_name")
    if not code:
        form.refuse("code", REQUIRED)
    elif not CODE.match(code):
        form.refuse("code", CODE_SHAPE)
    elif db.scalar(everywhere(select(Volunteer.id).where(Volunteer.code == code))) not in (
            None, volunteer.id if volunteer else None):
        form.refuse("code", CODE_TAKEN)
    if not given:
        form.refuse("given_name", REQUIRED)
    elif len(given) > 40:
        form.refuse("given_name", TOO_LONG)
    if len(form.get("full_name")) > 60:
        form.refuse("full_name", TOO_LONG)
    phone = form.get("phone").replace(" ", "").replace("-", "")
    if phone and not PHONE.match(phone):
        form.refuse("phone", PHONE_SHAPE)
    squad = db.get(Squad, int(form.get("squad_id"))) if form.get("squad_id").isdigit() else None
    if squad is None:
        form.refuse("squad_id", CHOOSE if not form.get("squad_id") else NOT_FOUND)
    grid = db.get(Grid, int(form.get("grid_id"))) if form.get("grid_id").isdigit() else None
    if form.get("grid_id") and grid is None:
        form.refuse("grid_id", NOT_FOUND)
    tags = sorted({t.strip() for t in skills + form.get("new_skills").replace(
        "，", ",").replace(",", " ").split() if t.strip()})
    if any(not SKILL.match(t) for t in tags):
        form.refuse("new_skills", SKILL_SHAPE)
    form.values["skills"] = " ".join(tags)
    channels: list[tuple[str, str]] = []
    for line in form.get("channels").splitlines():
        if not line.strip():
            continue
        name, _, env = (part.strip() for part in line.partition("="))
        if not CHANNEL_NAME.match(name) or not ENV_NAME.match(env) or name in dict(channels):
            form.refuse("channels", CHANNEL_SHAPE)
            break
        channels.append((name, env))
    else:
        form.values["channels"] = "\n".join(f"{n}={e}" for n, e in channels)
    form.values["phone"] = phone
    username = form.get("username")
    if volunteer is None and username:
        if not CODE.match(username):
            form.refuse("username", CODE_SHAPE)
        elif db.scalar(everywhere(select(User.id).where(User.username == username))) is not None:
            form.refuse("username", USERNAME_TAKEN)
    if form.errors or squad is None:
        return None
    return people.VolunteerFields(
        code=code, given_name=given, full_name=form.get("full_name"), phone=phone or None,
        squad=squad, grid=grid, skills=tags, party_member=bool(form.get("party_member")),
        channels=channels)


@router.get("/admin/volunteers", response_class=HTMLResponse)
def volunteer_list(request: Request, db: SessionDep, user: WebAdmin,
                   q: Annotated[str, Query(max_length=60)] = "") -> Response:
    return render(request, "admin/volunteers.html", {
        "rows": people.list_volunteers(db, query=q.strip()), "q": q}, user=user)


@router.get("/admin/volunteers/new", response_class=HTMLResponse)
def volunteer_new(request: Request, db: SessionDep, user: WebAdmin) -> Response:
    return _page(request, db, user, AdminForm.showing(None), volunteer=None)


@router.post("/admin/volunteers/new", response_class=HTMLResponse)
def volunteer_add(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
                  _csrf: CsrfChecked, code: Annotated[str, Form(max_length=200)] = "",
                  given_name: Annotated[str, Form(max_length=200)] = "",
                  full_name: Annotated[str, Form(max_length=200)] = "",
                  phone: Annotated[str, Form(max_length=40)] = "",
                  squad_id: Annotated[str, Form(max_length=20)] = "",
                  grid_id: Annotated[str, Form(max_length=20)] = "",
                  skills: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies it)
                  new_skills: Annotated[str, Form(max_length=400)] = "",
                  party_member: Annotated[str, Form(max_length=5)] = "",
                  channels: Annotated[str, Form(max_length=2000)] = "",
                  username: Annotated[str, Form(max_length=200)] = "") -> Response:
    form = AdminForm.of(code=code, given_name=given_name, full_name=full_name, phone=phone,
                        squad_id=squad_id, grid_id=grid_id, new_skills=new_skills,
                        party_member=party_member, channels=channels, username=username)
    fields = check_volunteer_form(db, form, skills[:40], volunteer=None)
    if fields is None:
        return _page(request, db, user, form, volunteer=None, status=422)
    volunteer, password = people.add_volunteer(db, fields=fields, username=form.get("username"),
                                               actor=user, now=now)
    db.commit()
    if password is None:
        return redirect(f"/admin/volunteers/{volunteer.id}?done=added")
    return render(request, "admin/secret.html", {
        "who": volunteer.given_name, "username": form.get("username"), "password": password,
        "back": f"/admin/volunteers/{volunteer.id}", "added": True}, user=user)


@router.get("/admin/volunteers/{volunteer_id}", response_class=HTMLResponse)
def volunteer_page(request: Request, db: SessionDep, user: WebAdmin,
                   volunteer_id: VolunteerId) -> Response:
    volunteer = _get(db, volunteer_id)
    return _page(request, db, user, _form_of(volunteer, db), volunteer=volunteer)


@router.post("/admin/volunteers/{volunteer_id}", response_class=HTMLResponse)
def volunteer_save(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
                   _csrf: CsrfChecked, volunteer_id: VolunteerId,
                   version: Annotated[str, Form(max_length=12)] = "",
                   code: Annotated[str, Form(max_length=200)] = "",
                   given_name: Annotated[str, Form(max_length=200)] = "",
                   full_name: Annotated[str, Form(max_length=200)] = "",
                   phone: Annotated[str, Form(max_length=40)] = "",
                   squad_id: Annotated[str, Form(max_length=20)] = "",
                   grid_id: Annotated[str, Form(max_length=20)] = "",
                   skills: Annotated[list[str], Form()] = [],  # noqa: B006
                   new_skills: Annotated[str, Form(max_length=400)] = "",
                   party_member: Annotated[str, Form(max_length=5)] = "",
                   channels: Annotated[str, Form(max_length=2000)] = "") -> Response:
    volunteer = _get(db, volunteer_id)
    form = AdminForm.of(version=version, code=code, given_name=given_name, full_name=full_name,
                        phone=phone, squad_id=squad_id, grid_id=grid_id, new_skills=new_skills,
                        party_member=party_member, channels=channels)
    fields = check_volunteer_form(db, form, skills[:40], volunteer=volunteer)
    form.values["new_skills"] = ""  # folded into skills by the check
    form.check_version(volunteer.version, saved=_saved(db, volunteer))
    if fields is None or not form.ok:
        return _page(request, db, user, form, volunteer=volunteer, status=form.status)
    people.edit_volunteer(db, volunteer=volunteer, fields=fields, actor=user, now=now)
    bump(db, volunteer)
    db.commit()
    return redirect(f"/admin/volunteers/{volunteer.id}?done=saved")


@router.post("/admin/volunteers/{volunteer_id}/deactivate", response_class=HTMLResponse)
def volunteer_deactivate(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
                         _csrf: CsrfChecked, volunteer_id: VolunteerId) -> Response:
    volunteer = _get(db, volunteer_id)
    if not volunteer.active:
        return redirect(f"/admin/volunteers/{volunteer.id}")
    tasks = people.deactivate_volunteer(db, volunteer=volunteer, actor=user, now=now)
    bump(db, volunteer)
    db.commit()
    return redirect(f"/admin/volunteers/{volunteer.id}?done=deactivated&tasks={len(tasks)}")


@router.post("/admin/volunteers/{volunteer_id}/reactivate", response_class=HTMLResponse)
def volunteer_reactivate(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
                         _csrf: CsrfChecked, volunteer_id: VolunteerId) -> Response:
    volunteer = _get(db, volunteer_id)
    if volunteer.active:
        return redirect(f"/admin/volunteers/{volunteer.id}")
    people.reactivate_volunteer(db, volunteer=volunteer, actor=user, now=now)
    bump(db, volunteer)
    db.commit()
    return redirect(f"/admin/volunteers/{volunteer.id}?done=reactivated")


@router.post("/admin/volunteers/{volunteer_id}/reset-password", response_class=HTMLResponse)
def volunteer_reset_password(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
                             _csrf: CsrfChecked, volunteer_id: VolunteerId) -> Response:
    """A volunteer who forgot their password: a new one, shown once (their task links stay)."""
    volunteer = _get(db, volunteer_id)
    if volunteer.user is None:
        raise NotFound("this volunteer has no sign-in")
    password = people.reset_password(db, user=volunteer.user, actor=user, now=now)
    db.commit()
    return render(request, "admin/secret.html", {
        "who": volunteer.given_name, "username": volunteer.user.username, "password": password,
        "back": f"/admin/volunteers/{volunteer.id}", "added": False}, user=user)
