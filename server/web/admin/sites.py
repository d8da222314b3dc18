"""The district admin's sites (区管理员): list, add and edit the district's service points.

    GET  /admin/sites                    every site: names, street, time zone; the add form
    POST /admin/sites                    add one with its first admin: the admin's password
                                         and the kiosk's key are shown once, on this answer
    GET  /admin/sites/<id>               edit a site's names, street and time zone
    POST /admin/sites/<id>               save them (version-checked)
    POST /admin/sites/<id>/kiosk-key     a new kiosk key for the site, shown once

Only the district admin (``district_admin``) opens these; a site's own admin keeps its own
pages (/admin). The changes are server/services/sites.py's, in the audit log.
"""

from __future__ import annotations

import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.api.deps import NowDep, SessionDep
from server.errors import NotFound
from server.models import Role, User
from server.services import sites as site_service
from server.sites.models import Site
from server.web.admin.forms import AdminForm
from server.web.common import CsrfChecked, WebRoute, _roles, redirect, render
from server.web.words import N_

__all__ = ["router"]

router = APIRouter(route_class=WebRoute)
WebDistrictAdmin = Annotated[User, Depends(_roles(Role.DISTRICT_ADMIN))]
SiteId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
Text = Annotated[str, Form(max_length=200)]
SITE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")

REQUIRED = N_("请填写这一项")
TOO_LONG = N_("太长了，请写短一些")
SITE_ID_SHAPE = N_("只能用小写英文字母、数字和短横线，例如 site-02")
SITE_ID_TAKEN = N_("已经有这个编号的服务站了，请换一个")
USERNAME_SHAPE = N_("只能用英文字母、数字、短横线和下划线")
USERNAME_TAKEN = N_("这个登录名已经有人用了，请换一个")
TIMEZONE = N_("不认识这个时区，例如 Asia/Shanghai")
FIELDS = ("name_zh", "name_en", "street", "timezone")


def _list_page(request: Request, db: Session, user: User, form: AdminForm, *,
               status: int = 200) -> HTMLResponse:
    return render(request, "admin/sites.html", {
        "sites": site_service.list_sites(db), "form": form,
        "done": request.query_params.get("done", "")}, status=status, user=user)


def _check(form: AdminForm) -> site_service.SiteFields | None:
    for name, limit in (("name_zh", 100), ("name_en", 100), ("street", 60)):
        if name != "name_en" and not form.get(name):
            form.refuse(name, REQUIRED)
        elif len(form.get(name)) > limit:
            form.refuse(name, TOO_LONG)
    try:
        ZoneInfo(form.get("timezone"))
    except (ZoneInfoNotFoundError, ValueError):
        form.refuse("timezone", TIMEZONE)
    if form.errors:
        return None
    return site_service.SiteFields(name_zh=form.get("name_zh"), name_en=form.get("name_en"),
                                   street=form.get("street"), timezone=form.get("timezone"))


@router.get("/admin/sites", response_class=HTMLResponse)
def site_list(request: Request, db: SessionDep, user: WebDistrictAdmin) -> Response:
    return _list_page(request, db, user, AdminForm.of(timezone="Asia/Shanghai"))


@router.post("/admin/sites", response_class=HTMLResponse)
def site_add(request: Request, db: SessionDep, now: NowDep, user: WebDistrictAdmin,
             _csrf: CsrfChecked, site_id: Text = "", name_zh: Text = "", name_en: Text = "",
             street: Text = "", timezone: Text = "", admin_username: Text = "",
             admin_name: Text = "") -> Response:
    form = AdminForm.of(site_id=site_id, name_zh=name_zh, name_en=name_en, street=street,
                        timezone=timezone, admin_username=admin_username,
                        admin_name=admin_name)
    if not SITE_ID.match(form.get("site_id")):
        form.refuse("site_id", SITE_ID_SHAPE if form.get("site_id") else REQUIRED)
    elif db.get(Site, form.get("site_id")) is not None:
        form.refuse("site_id", SITE_ID_TAKEN)
    username = form.get("admin_username")
    if not USERNAME.match(username):
        form.refuse("admin_username", USERNAME_SHAPE if username else REQUIRED)
    elif db.scalar(select(User.id).where(User.username == username)) is not None:
        form.refuse("admin_username", USERNAME_TAKEN)
    if not form.get("admin_name"):
        form.refuse("admin_name", REQUIRED)
    elif len(form.get("admin_name")) > 60:
        form.refuse("admin_name", TOO_LONG)
    fields = _check(form)
    if fields is None or form.errors:
        return _list_page(request, db, user, form, status=422)
    added = site_service.add_site(db, site_id=form.get("site_id"), fields=fields,
                                  admin_username=username, admin_name=form.get("admin_name"),
                                  actor=user, now=now)
    db.commit()
    # The password and the key are on this answer only (not in a URL, not stored).
    return render(request, "admin/site_added.html", {"added": added}, user=user)


def _get(db: Session, site_id: str) -> Site:
    site = db.get(Site, site_id)
    if site is None:
        raise NotFound("no such site")
    return site


def _form_of(site: Site) -> AdminForm:
    return AdminForm.showing(site, **{name: getattr(site, name) for name in FIELDS})


def _site_page(request: Request, user: User, site: Site, form: AdminForm, *,
               new_key: str | None = None, status: int = 200) -> HTMLResponse:
    return render(request, "admin/site.html", {
        "site": site, "form": form, "new_key": new_key,
        "done": request.query_params.get("done") == "saved"}, status=status, user=user)


@router.get("/admin/sites/{site_id}", response_class=HTMLResponse)
def site_page(request: Request, db: SessionDep, user: WebDistrictAdmin,
              site_id: SiteId) -> Response:
    site = _get(db, site_id)
    return _site_page(request, user, site, _form_of(site))


@router.post("/admin/sites/{site_id}", response_class=HTMLResponse)
def site_save(request: Request, db: SessionDep, now: NowDep, user: WebDistrictAdmin,
              _csrf: CsrfChecked, site_id: SiteId,
              version: Annotated[str, Form(max_length=12)] = "", name_zh: Text = "",
              name_en: Text = "", street: Text = "", timezone: Text = "") -> Response:
    site = _get(db, site_id)
    form = AdminForm.of(version=version, name_zh=name_zh, name_en=name_en, street=street,
                        timezone=timezone)
    fields = _check(form)
    form.check_version(site.version, saved=_form_of(site).values)
    if fields is None or not form.ok:
        return _site_page(request, user, site, form, status=form.status)
    site_service.edit_site(db, site=site, fields=fields, actor=user, now=now)
    db.commit()
    return redirect(f"/admin/sites/{site.id}?done=saved")


@router.post("/admin/sites/{site_id}/kiosk-key", response_class=HTMLResponse)
def site_kiosk_key(request: Request, db: SessionDep, now: NowDep, user: WebDistrictAdmin,
                   _csrf: CsrfChecked, site_id: SiteId) -> Response:
    site = _get(db, site_id)
    key = site_service.new_kiosk_key(db, site=site, now=now)
    site_service.audit_kiosk_key(db, site=site, actor=user, now=now)
    db.commit()
    return _site_page(request, user, site, _form_of(site), new_key=key)
