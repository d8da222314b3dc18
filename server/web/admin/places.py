"""The places' admin pages (admin role): compounds, buildings and units with their other names
and a compound's position; grids and the squad covering each.

    GET  /admin/places                          grids with their squads; compounds, buildings
                                                (with their grid) and units
    GET  /admin/places/<kind>/new               a blank form (kind: compound, building, unit,
    POST /admin/places/<kind>/new                grid), add one
    GET  /admin/places/<kind>/<code>            the form
    POST /admin/places/<kind>/<code>            save it (version-checked)

Moving a building to another grid re-routes only requests filed after the move
(server/services/place_admin.py says why). One template serves the four kinds.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from server.api.deps import NowDep, SessionDep
from server.errors import NotFound
from server.services import place_admin
from server.services.admin_forms import FormRefused, StaleEdit
from server.services.place_admin import KINDS, PlaceKind
from server.web.admin.forms import AdminForm, WebAdmin
from server.web.admin.refusals import show_refusal
from server.web.common import CsrfChecked, WebRoute, redirect, render
from server.web.words import N_

__all__ = ["router"]

router = APIRouter(route_class=WebRoute)
Kind = Annotated[str, Path(pattern=r"^(compound|building|unit|grid)$")]
Code = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")]
MAX_FIELD = 2000
KIND_WORDS = {"compound": N_("小区"), "building": N_("楼栋"), "unit": N_("单元"),
              "grid": N_("网格")}
FIELD_WORDS = {
    "code": N_("代码"), "name": N_("名称"), "name_zh": N_("中文名称"),
    "name_en": N_("英文名称"), "aliases": N_("别名"), "lat": N_("纬度"),
    "long": N_("经度"), "radius_m": N_("范围（米）"), "floors": N_("楼层数"),
    "compound": N_("所在小区"),
    "building": N_("所在楼栋"), "grid": N_("所属网格"), "squad": N_("负责的小分队"),
}
HINT_WORDS = {
    "aliases": N_("居民或其他系统可能写的其他名字，用顿号或逗号隔开，例如 劳动村、邮电大楼"),
    "lat": N_("小区中心的位置（WGS-84），用于 Open311 按位置找小区，例如 28.1985"),
    "long": N_("例如 113.027"),
    "radius_m": N_("小区从中心算起大约多远，例如 120"),
    "floors": N_("这栋楼有几层，例如 7"),
    "grid": N_("改到另一个网格后，只有之后登记的请求派给新网格的小分队；已有的请求不变"),
    "code": N_("英文字母、数字和短横线，例如 C01-B03；保存后不能再改"),
}
REQUIRED = {"code", "name", "name_zh", "compound", "building"}


def _kind(kind: str) -> PlaceKind:
    if kind not in KINDS:
        raise NotFound("no such kind of place")
    return KINDS[kind]


def _choices(db: SessionDep, kind: PlaceKind) -> dict[str, list[tuple[str, str]]]:
    """The options of the kind's select fields, as (code, words)."""
    overview = place_admin.place_overview(db)
    buildings = [b for c in overview.compounds for b in c.buildings]
    return {
        "compound": [(c.code, f"{c.code} {c.name_zh}") for c in overview.compounds],
        "building": [(b.code, f"{b.code} {b.compound.name_zh} {b.name}") for b in buildings],
        "grid": [(g.code, f"{g.code} {g.name}") for g in overview.grids],
        "squad": [(s.code, s.name) for s in overview.squads],
    }


def _page(request: Request, db: SessionDep, user: Any, kind: PlaceKind, form: AdminForm, *,
          code: str | None, status: int = 200) -> HTMLResponse:
    return render(request, "admin/place.html", {
        "form": form, "kind": kind.name, "kind_words": KIND_WORDS, "code": code,
        "fields": kind.fields, "field_words": FIELD_WORDS, "hint_words": HINT_WORDS,
        "required": REQUIRED, "choices": _choices(db, kind)}, status=status, user=user)


@router.get("/admin/places", response_class=HTMLResponse)
def places(request: Request, db: SessionDep, user: WebAdmin) -> Response:
    return render(request, "admin/places.html", {
        "overview": place_admin.place_overview(db), "kind_words": KIND_WORDS,
        "done": request.query_params.get("done", "")}, user=user)


@router.get("/admin/places/{kind}/new", response_class=HTMLResponse)
def new_place(request: Request, db: SessionDep, user: WebAdmin, kind: Kind) -> Response:
    place_kind = _kind(kind)
    # A link from a compound or building on the list fills in where the new place goes.
    values = {name: request.query_params.get(name, "")[:40] for name in place_kind.fields
              if name in ("compound", "building", "grid")}
    return _page(request, db, user, place_kind, AdminForm(values=values), code=None)


@router.get("/admin/places/{kind}/{code}", response_class=HTMLResponse)
def place(request: Request, db: SessionDep, user: WebAdmin, kind: Kind, code: Code) -> Response:
    place_kind = _kind(kind)
    row = place_admin.get_place(db, kind=place_kind, code=code)
    form = AdminForm(values=place_admin.place_form(db, kind=place_kind, row=row),
                     version=place_admin.place_version(db, kind=place_kind, row=row))
    return _page(request, db, user, place_kind, form, code=code)


async def _typed(request: Request, kind: PlaceKind, *, new: bool) -> AdminForm:
    sent = await request.form()
    names = (("code",) if new else ()) + kind.fields
    values = {name: str(sent.get(name, ""))[:MAX_FIELD] for name in names}
    return AdminForm.of(version=str(sent.get("version", ""))[:64], **values)


def _save(request: Request, db: SessionDep, now: NowDep, user: Any, kind: PlaceKind,
          code: str | None, form: AdminForm) -> Response:
    try:
        place_admin.save_place(db, kind=kind, code=code, form=form.values, seen=form.version,
                               actor=user, now=now)
    except FormRefused as refusal:
        db.rollback()
        show_refusal(form, refusal)
        return _page(request, db, user, kind, form, code=code, status=form.status)
    except StaleEdit as refusal:
        db.rollback()
        show_refusal(form, refusal)
        return _page(request, db, user, kind, form, code=code, status=form.status)
    return redirect(f"/admin/places?done={kind.name}:{code or form.get('code')}")


@router.post("/admin/places/{kind}/new", response_class=HTMLResponse)
async def add_place(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
                    _csrf: CsrfChecked, kind: Kind) -> Response:
    place_kind = _kind(kind)
    form = await _typed(request, place_kind, new=True)  # the fields differ by kind
    return await run_in_threadpool(_save, request, db, now, user, place_kind, None, form)


@router.post("/admin/places/{kind}/{code}", response_class=HTMLResponse)
async def save_place(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
                     _csrf: CsrfChecked, kind: Kind, code: Code) -> Response:
    place_kind = _kind(kind)
    form = await _typed(request, place_kind, new=False)
    return await run_in_threadpool(_save, request, db, now, user, place_kind, code, form)
