"""The site's own settings and its Open311 clients (admin role).

    GET  /admin/site                     phone number, opening hours, quiet hours
    POST /admin/site                     save them (version-checked)
    GET  /admin/open311                  the clients allowed to file through Open311
    POST /admin/open311                  add one: its key is shown once, on this answer only
    POST /admin/open311/<id>/key         a new key (the old one stops working)
    POST /admin/open311/<id>/revoke      its key stops working; what it filed stays

The settings are server/services/site_profile.py's (the file's values are the defaults); the
pages, the kiosk's ``GET /api/v1/site`` and the alerts' quiet hours read them. The clients are
server/open311/admin.py's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.open311 import admin as open311_admin
from server.services import site_profile
from server.services.admin_forms import FormRefused, StaleEdit
from server.sites.scoping import acting_site
from server.web.admin.forms import AdminForm, WebAdmin
from server.web.admin.refusals import show_refusal
from server.web.common import CsrfChecked, WebRoute, redirect, render

__all__ = ["router"]

router = APIRouter(route_class=WebRoute)
Text = Annotated[str, Form(max_length=400)]
ClientId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _forget(request: Request) -> None:
    """The pages' copy of the site's facts is stale after a save (server/app.py keeps it)."""
    cache = getattr(request.app.state, "site_facts", None)
    if cache is not None:
        cache.forget()


def _settings_page(request: Request, user: Any, form: AdminForm, *, status: int = 200
                   ) -> HTMLResponse:
    return render(request, "admin/site_settings.html", {
        "form": form, "done": request.query_params.get("done") == "1"}, status=status,
        user=user)


@router.get("/admin/site", response_class=HTMLResponse)
def settings_page(request: Request, db: SessionDep, settings: SettingsDep, user: WebAdmin
                  ) -> Response:
    site_id = acting_site(db, settings.site.id)
    facts = site_profile.site_facts(db, site_id=site_id, file_phone=settings.site.phone)
    form = AdminForm(values=site_profile.profile_form(facts),
                     version=site_profile.profile_version(db, site_id=site_id))
    return _settings_page(request, user, form)


@router.post("/admin/site", response_class=HTMLResponse)
def save_settings(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                  user: WebAdmin, _csrf: CsrfChecked, version: Text = "", phone: Text = "",
                  opening_hours_zh: Text = "", opening_hours_en: Text = "",
                  quiet_start: Text = "", quiet_end: Text = "") -> Response:
    form = AdminForm.of(version=version, phone=phone, opening_hours_zh=opening_hours_zh,
                        opening_hours_en=opening_hours_en, quiet_start=quiet_start,
                        quiet_end=quiet_end)
    try:
        site_profile.save_profile(db, site_id=acting_site(db, settings.site.id), form=form.values,
                                  seen=form.version, actor=user, now=now)
    except (FormRefused, StaleEdit) as refusal:
        db.rollback()
        saved = None
        if isinstance(refusal, StaleEdit):
            saved = site_profile.profile_form(site_profile.site_facts(
                db, site_id=acting_site(db, settings.site.id), file_phone=settings.site.phone))
        show_refusal(form, refusal, saved_as_form=saved)
        return _settings_page(request, user, form, status=form.status)
    _forget(request)
    return redirect("/admin/site?done=1")


# --- Open311 clients ----------------------------------------------------------------------

def _clients_page(request: Request, db: SessionDep, user: Any, *, form: AdminForm | None = None,
                  new_key: tuple[str, str] | None = None, conflict: bool = False,
                  status: int = 200) -> HTMLResponse:
    return render(request, "admin/open311.html", {
        "rows": open311_admin.client_rows(db), "form": form or AdminForm(values={}),
        "new_key": new_key, "conflict": conflict,
        "done": request.query_params.get("done", "")}, status=status, user=user)


@router.get("/admin/open311", response_class=HTMLResponse)
def clients(request: Request, db: SessionDep, user: WebAdmin) -> Response:
    return _clients_page(request, db, user)


@router.post("/admin/open311", response_class=HTMLResponse)
def add_client(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
               _csrf: CsrfChecked, name: Text = "") -> Response:
    form = AdminForm.of(name=name)
    try:
        client, key = open311_admin.add_client(db, form=form.values, actor=user, now=now)
    except FormRefused as refusal:
        db.rollback()
        show_refusal(form, refusal)
        return _clients_page(request, db, user, form=form, status=form.status)
    # The key is on this answer only (not in a URL, not stored): the page says so.
    return _clients_page(request, db, user, new_key=(client.name, key))


@router.post("/admin/open311/{client_id}/key", response_class=HTMLResponse)
def new_key(request: Request, db: SessionDep, now: NowDep, user: WebAdmin, _csrf: CsrfChecked,
            client_id: ClientId, version: Text = "") -> Response:
    try:
        client, key = open311_admin.new_key(db, client_id=client_id, seen=version, actor=user,
                                            now=now)
    except StaleEdit:
        db.rollback()
        return _clients_page(request, db, user, conflict=True, status=409)
    return _clients_page(request, db, user, new_key=(client.name, key))


@router.post("/admin/open311/{client_id}/revoke", response_class=HTMLResponse)
def revoke(request: Request, db: SessionDep, now: NowDep, user: WebAdmin, _csrf: CsrfChecked,
           client_id: ClientId, version: Text = "") -> Response:
    try:
        client = open311_admin.revoke_client(db, client_id=client_id, seen=version, actor=user,
                                             now=now)
    except StaleEdit:
        db.rollback()
        return _clients_page(request, db, user, conflict=True, status=409)
    return redirect(f"/admin/open311?done={client.name}")
