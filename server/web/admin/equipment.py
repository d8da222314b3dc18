"""The equipment pages: the register of extinguishers and tanks, the due lists, QR labels and
the registers as ``.xlsx``. The records made on them (the monthly inspection, a cleaning with
its water test) are ``server/web/admin/equipment_records.py``.

    GET  /staff/equipment                              due lists, extinguishers, tanks (staff)
    GET  /staff/equipment/labels[?asset=<id>]          QR labels for 50 × 30 mm label paper
    GET  /staff/equipment/registers.xlsx               the registers, one sheet per table
    GET  /admin/equipment/extinguishers/new            add one (admin)
    POST /admin/equipment/extinguishers/new
    GET  /admin/equipment/extinguishers/<id>           edit (version-checked)
    POST /admin/equipment/extinguishers/<id>
    POST /admin/equipment/extinguishers/<id>/retire    take out of service
    GET  /admin/equipment/tanks/<id>                   capacity, place, cleaning interval
    POST /admin/equipment/tanks/<id>

Staff see and record; only the admin changes the register (the admin kit's ``WebAdmin``).
The work is :mod:`server.equipment.service`'s; every change lands in the audit log with it.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from foundation.errors import ConfigError
from server.api.deps import NowDep, SessionDep, SettingsDep
from server.dates import in_range
from server.equipment import ledger, service
from server.equipment.due import due_lists
from server.equipment.labels import inspection_path, qr_svg
from server.errors import Conflict, Invalid
from server.rules import ExtinguisherRecord, ExtinguisherType, RulesError
from server.sensing.models import TANK_LEVELS
from server.services import audit
from server.sites.scoping import acting_site
from server.web.admin.forms import AdminForm, WebAdmin
from server.web.common import AGENT_WORDS, CsrfChecked, WebRoute, WebStaff, redirect, render
from server.web.words import N_

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)
AssetId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
Text = Annotated[str, Form(max_length=200)]
ASSET_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
DUE_WITHIN_DAYS = 30
BAY_FORM = ("name", "building_code", "extinguisher_type", "manufactured_on",
            "last_maintained_on")


def _today(now: datetime, settings: Any) -> date:
    return now.astimezone(ZoneInfo(settings.site.timezone)).date()


def _record(bay: Any) -> ExtinguisherRecord | None:
    try:
        return ExtinguisherRecord(bay.asset_id, type=ExtinguisherType(bay.extinguisher_type),
                                  manufactured_on=bay.manufactured_on,
                                  last_maintained_on=bay.last_maintained_on,
                                  last_inspected_on=bay.last_inspected_on)
    except (RulesError, ValueError):
        return None


# --- the overview -----------------------------------------------------------------------------

@router.get("/staff/equipment", response_class=HTMLResponse)
def equipment(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
              user: WebStaff) -> Response:
    rules = request.app.state.rules
    today = _today(now, settings)
    bays = service.register_rows(db)
    usable = {b.asset_id: _record(b) for b in bays}
    records = [r for r in usable.values() if r is not None]
    lists = due_lists(records, today=today, within_days=DUE_WITHIN_DAYS, config=rules)
    last = service.last_inspections(db)
    tickets = service.ticket_numbers(db, [e.ticket_id for e in last.values() if e.ticket_id])
    register = ledger.extinguisher_table(db, rules=rules)[2]
    due_of = {row[0]: row[7:10] for row in register}
    return render(request, "admin/equipment.html", {
        "bays": bays, "names": {b.asset_id: b.name for b in bays}, "lists": lists,
        "last": last, "tickets": tickets, "due_of": due_of, "tanks": service.tanks(db),
        "today": today, "as_date": lambda day: day, "within": DUE_WITHIN_DAYS,
        "is_admin": user.role == "admin",
        # An impossible row (issue 14) is listed flagged, with no due dates, never a 500.
        "flagged": {asset_id for asset_id, r in usable.items() if r is None},
        "done": request.query_params.get("done", ""),
    }, user=user)


@router.get("/staff/equipment/labels", response_class=HTMLResponse)
def labels(request: Request, db: SessionDep, settings: SettingsDep, user: WebStaff,
           asset: Annotated[str | None, Query(pattern=ASSET_PATTERN)] = None) -> Response:
    bays = [service.extinguisher(db, asset)] if asset else service.register_rows(db)
    base = settings.http.public_url.rstrip("/")
    items = [{"bay": b, "url": base + inspection_path(b.asset_id),
              "qr": Markup(qr_svg(base + inspection_path(b.asset_id), label=b.asset_id))}
             for b in bays]
    return render(request, "admin/equipment_labels.html", {"items": items}, user=user)


@router.get("/staff/equipment/registers.xlsx")
def registers_xlsx(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                   user: WebStaff) -> Response:
    data = ledger.workbook(ledger.register_tables(db, rules=request.app.state.rules))
    name = f"equipment-registers-{_today(now, settings).isoformat()}.xlsx"
    log.info("equipment registers downloaded by %s", user.username)
    return Response(data, media_type="application/vnd.openxmlformats-officedocument."
                                      "spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})


# --- an extinguisher ------------------------------------------------------------------------------

def _parse_date(form: AdminForm, name: str, *, required: bool, today: date) -> date | None:
    text = form.get(name)
    if not text:
        if required:
            form.refuse(name, N_("请填写日期"))
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        form.refuse(name, N_("请按 2026-11-25 的格式填写日期"))
        return None
    if not in_range(value):
        form.refuse(name, N_("日期应在 1970 年到 2100 年之间"))
        return None
    if value > today:
        form.refuse(name, N_("日期不能晚于今天"))
        return None
    return value


def _bay_fields(db: Any, form: AdminForm, today: date) -> service.ExtinguisherFields | None:
    if not form.get("name"):
        form.refuse("name", N_("请填写位置，例如 劳动新村1栋3楼"))
    elif len(form.get("name")) > 100:
        form.refuse("name", N_("最多 100 个字"))
    code = form.get("building_code") or None
    if code is not None and code not in {row[0] for row in service.buildings(db)}:
        form.refuse("building_code", N_("请从列表中选择楼栋"))
    if form.get("extinguisher_type") not in AGENT_WORDS:
        form.refuse("extinguisher_type", N_("请选择灭火器类型"))
    made = _parse_date(form, "manufactured_on", required=True, today=today)
    maintained = _parse_date(form, "last_maintained_on", required=False, today=today)
    if made and maintained and maintained < made:
        form.refuse("last_maintained_on", N_("维修日期不能早于生产日期"))
    if form.errors or made is None:
        return None
    return service.ExtinguisherFields(name=form.get("name"), building_code=code,
                                      extinguisher_type=form.get("extinguisher_type"),
                                      manufactured_on=made, last_maintained_on=maintained)


def _bay_page(request: Request, db: Any, user: Any, form: AdminForm, *, asset_id: str | None,
              bay: Any = None, status: int = 200) -> HTMLResponse:
    agents = [(code, words) for code, words in AGENT_WORDS.items()]
    return render(request, "admin/extinguisher.html", {
        "form": form, "asset_id": asset_id, "bay": bay, "agents": agents,
        "buildings": service.buildings(db)}, status=status, user=user)


def _bay_form(bay: Any) -> AdminForm:
    return AdminForm.showing(bay, **{k: getattr(bay, k) for k in BAY_FORM})


@router.get("/admin/equipment/extinguishers/new", response_class=HTMLResponse)
def new_extinguisher(request: Request, db: SessionDep, user: WebAdmin) -> Response:
    return _bay_page(request, db, user, AdminForm(values={"extinguisher_type": "dry_powder"}),
                     asset_id=None)


@router.post("/admin/equipment/extinguishers/new", response_class=HTMLResponse)
def add_extinguisher(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                     user: WebAdmin, _csrf: CsrfChecked, asset_id: Text = "", name: Text = "",
                     building_code: Text = "", extinguisher_type: Text = "",
                     manufactured_on: Text = "", last_maintained_on: Text = "") -> Response:
    form = AdminForm.of(asset_id=asset_id.lower(), name=name, building_code=building_code,
                        extinguisher_type=extinguisher_type, manufactured_on=manufactured_on,
                        last_maintained_on=last_maintained_on)
    if not re.match(ASSET_PATTERN, form.get("asset_id")):
        form.refuse("asset_id", N_("编号只能用小写英文字母、数字和短横线，例如 ext-12"))
    fields = _bay_fields(db, form, _today(now, settings))
    if fields is None or form.errors:
        return _bay_page(request, db, user, form, asset_id=None, status=422)
    try:
        service.add_extinguisher(db, asset_id=form.get("asset_id"), fields=fields,
                                 site_id=acting_site(db, settings.site.id), user=user,
                                 now=now)
    except Conflict:
        db.rollback()
        form.refuse("asset_id", N_("这个编号已经登记过了，请换一个"))
        return _bay_page(request, db, user, form, asset_id=None, status=422)
    return redirect(f"/staff/equipment?done=added#ext-{form.get('asset_id')}")


@router.get("/admin/equipment/extinguishers/{asset_id}", response_class=HTMLResponse)
def extinguisher(request: Request, db: SessionDep, user: WebAdmin,
                 asset_id: AssetId) -> Response:
    bay = service.extinguisher(db, asset_id)
    return _bay_page(request, db, user, _bay_form(bay), asset_id=asset_id, bay=bay)


@router.post("/admin/equipment/extinguishers/{asset_id}", response_class=HTMLResponse)
def save_extinguisher(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                      user: WebAdmin, _csrf: CsrfChecked, asset_id: AssetId,
                      version: Text = "", name: Text = "", building_code: Text = "",
                      extinguisher_type: Text = "", manufactured_on: Text = "",
                      last_maintained_on: Text = "") -> Response:
    bay = service.extinguisher(db, asset_id)
    form = AdminForm.of(version=version, name=name, building_code=building_code,
                        extinguisher_type=extinguisher_type, manufactured_on=manufactured_on,
                        last_maintained_on=last_maintained_on)
    fields = _bay_fields(db, form, _today(now, settings))
    if bay.last_inspected_on and fields and fields.manufactured_on > bay.last_inspected_on:
        form.refuse("manufactured_on", N_("生产日期不能晚于上次月检日期"))
    form.check_version(bay.version, saved=audit.snapshot(bay, *BAY_FORM))
    if fields is None or not form.ok:
        return _bay_page(request, db, user, form, asset_id=asset_id, bay=bay,
                         status=form.status)
    try:
        service.edit_extinguisher(db, asset_id=asset_id, fields=fields, version=bay.version,
                                  user=user, now=now)
    except (Conflict, Invalid):
        db.rollback()
        fresh = service.extinguisher(db, asset_id)
        form.check_version(-1, saved=audit.snapshot(fresh, *BAY_FORM))
        form.version = str(fresh.version)
        return _bay_page(request, db, user, form, asset_id=asset_id, bay=fresh, status=409)
    return redirect(f"/staff/equipment?done=saved#ext-{asset_id}")


@router.post("/admin/equipment/extinguishers/{asset_id}/retire", response_class=HTMLResponse)
def retire(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
           user: WebAdmin, _csrf: CsrfChecked, asset_id: AssetId,
           version: Text = "") -> Response:
    bay = service.extinguisher(db, asset_id)
    form = _bay_form(bay)
    form.version = version
    if not form.check_version(bay.version, saved={}) or bay.retired_on is not None:
        form.conflict = True
        return _bay_page(request, db, user, form, asset_id=asset_id, bay=bay, status=409)
    try:
        service.retire_extinguisher(db, asset_id=asset_id, on=_today(now, settings),
                                    version=bay.version, user=user, now=now)
    except Conflict:
        db.rollback()
        fresh = service.extinguisher(db, asset_id)
        form = _bay_form(fresh)
        form.conflict = True
        return _bay_page(request, db, user, form, asset_id=asset_id, bay=fresh, status=409)
    return redirect("/staff/equipment?done=retired")


# --- a tank ---------------------------------------------------------------------------------------

TANK_FORM = ("name", "building_code", "capacity_l", "cleaning_interval_days", *TANK_LEVELS)
LEVEL_ORDER = N_("报警线要按顺序：低水位报警 < 低水位解除 < 高水位解除 < 高水位报警")


def _tank_form(row: Any) -> dict[str, str]:
    """The tank's saved values as the form shows them (numbers without a trailing .0)."""
    saved = {k: getattr(row, k) for k in TANK_FORM}
    for name in ("capacity_l", *TANK_LEVELS):
        if saved[name] is not None:
            saved[name] = f"{saved[name]:g}"
    return saved


def _levels(form: AdminForm) -> dict[str, float | None]:
    """The level alarm lines as typed (blank: the file's line), each 0 to 100 percent."""
    levels: dict[str, float | None] = {}
    for name in TANK_LEVELS:
        text = form.get(name)
        levels[name] = None
        if not text:
            continue
        try:
            levels[name] = float(text.rstrip("%"))
            if not 0 <= levels[name] <= 100:  # type: ignore[operator]
                raise ValueError
        except ValueError:
            form.refuse(name, N_("请填写 0 到 100 之间的百分数，或留空按默认"))
    return levels


def _tank_page(request: Request, db: Any, user: Any, form: AdminForm, tank: Any, *,
               status: int = 200) -> HTMLResponse:
    rules = request.app.state.rules.tank_rules(tank.asset_id)
    return render(request, "admin/tank_edit.html", {
        "form": form, "tank": tank, "rules": rules, "buildings": service.buildings(db)},
        status=status, user=user)


@router.get("/admin/equipment/tanks/{asset_id}", response_class=HTMLResponse)
def tank(request: Request, db: SessionDep, user: WebAdmin, asset_id: AssetId) -> Response:
    row = service.tank(db, asset_id)
    form = AdminForm.showing(row, **_tank_form(row))
    return _tank_page(request, db, user, form, row)


@router.post("/admin/equipment/tanks/{asset_id}", response_class=HTMLResponse)
def save_tank(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
              _csrf: CsrfChecked, asset_id: AssetId, version: Text = "", name: Text = "",
              building_code: Text = "", capacity_l: Text = "",
              cleaning_interval_days: Text = "", low_raise_percent: Text = "",
              low_clear_percent: Text = "", high_raise_percent: Text = "",
              high_clear_percent: Text = "") -> Response:
    row = service.tank(db, asset_id)
    form = AdminForm.of(version=version, name=name, building_code=building_code,
                        capacity_l=capacity_l, cleaning_interval_days=cleaning_interval_days,
                        low_raise_percent=low_raise_percent, low_clear_percent=low_clear_percent,
                        high_raise_percent=high_raise_percent,
                        high_clear_percent=high_clear_percent)
    if not form.get("name"):
        form.refuse("name", N_("请填写名称"))
    code = form.get("building_code") or None
    if code is not None and code not in {row[0] for row in service.buildings(db)}:
        form.refuse("building_code", N_("请从列表中选择楼栋"))
    capacity: float | None = None
    if form.get("capacity_l"):
        try:
            capacity = float(form.get("capacity_l").replace(",", ""))
            if not 0 < capacity <= 10_000_000:
                raise ValueError
        except ValueError:
            form.refuse("capacity_l", N_("请填写一个大于 0 的升数，例如 20000"))
    interval: int | None = None
    if form.get("cleaning_interval_days"):
        try:
            interval = int(form.get("cleaning_interval_days"))
            if not 90 <= interval <= 365:
                raise ValueError
        except ValueError:
            form.refuse("cleaning_interval_days", N_("请填写 90 到 365 之间的天数，或留空按默认"))
    levels = _levels(form)
    if form.ok:
        try:  # the lines must keep their order with the file's where one is left blank
            request.app.state.rules.with_tank_levels(
                {asset_id: {k: v for k, v in levels.items() if v is not None}})
        except ConfigError as exc:
            field = exc.key.rsplit(".", 1)[-1]
            form.refuse(field if field in TANK_LEVELS else "low_raise_percent", LEVEL_ORDER)
    form.check_version(row.version, saved=_tank_form(row))
    if not form.ok:
        return _tank_page(request, db, user, form, row, status=form.status)
    try:
        service.edit_tank(db, asset_id=asset_id, name=form.get("name"), building_code=code,
                          capacity_l=capacity, cleaning_interval_days=interval,
                          version=row.version, user=user, now=now, levels=levels)
    except Conflict:
        db.rollback()
        fresh = service.tank(db, asset_id)
        form.check_version(-1, saved=_tank_form(fresh))
        form.version = str(fresh.version)
        return _tank_page(request, db, user, form, fresh, status=409)
    return redirect("/staff/equipment?done=tank#tanks-h")
