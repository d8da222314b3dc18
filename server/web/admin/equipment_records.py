"""The records an inspector asks for, made on a phone or a desk: the monthly extinguisher
inspection and a tank cleaning with its full water test and lab report.

    GET  /staff/inspect/<id>                            the checklist (the QR label opens it)
    POST /staff/inspect/<id>                            record it
    GET  /staff/equipment/tanks/<id>/cleaning           the cleaning and water-test form
    POST /staff/equipment/tanks/<id>/cleaning           record it (multipart: the lab report)
    GET  /staff/equipment/water-tests/<n>/report        the lab report (staff only)

A phone that scans a label and is not signed in is sent to the sign-in page, which brings it
back here (server/web/common.py keeps the address). The work is
:mod:`server.equipment.service`'s; the checklist's items and the water indicators' limits are
the pure cores :mod:`server.equipment.checklist` and :mod:`server.equipment.water`.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from server.api.attachments import AttachmentsDep
from server.api.deps import NowDep, SessionDep, SettingsDep
from server.attachments import AttachmentError
from server.dates import in_range
from server.equipment import service
from server.equipment.checklist import ITEMS
from server.equipment.water import LIMITS, Indicator, WaterSample, judge
from server.errors import Conflict, Invalid, NotFound
from server.web.admin.forms import AdminForm
from server.web.common import CsrfChecked, WebRoute, WebStaff, redirect, render
from server.web.words import N_, words_for

__all__ = ["REPORT_MAX_BYTES", "router"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)
AssetId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
Text = Annotated[str, Form(max_length=200)]
REPORT_MAX_BYTES = 10 * 1024 * 1024
REPORT_TYPES = {"application/pdf": b"%PDF", "image/jpeg": b"\xff\xd8\xff",
                "image/png": b"\x89PNG"}
# The checklist's items and the indicators in the reader's words (the web catalog).
ITEM_WORDS = {"present": N_("灭火器在位"), "seal_pin": N_("铅封和保险销完好"),
              "gauge_green": N_("压力表指针在绿区"), "hose_nozzle": N_("软管和喷嘴完好"),
              "label": N_("标签清楚"), "cabinet": N_("箱体完好，箱门能开关")}
INDICATOR_WORDS = {Indicator.TURBIDITY: N_("浑浊度"), Indicator.FREE_CHLORINE: N_("游离氯"),
                   Indicator.COLIFORMS: N_("总大肠菌群"), Indicator.COLONY_COUNT: N_("菌落总数"),
                   Indicator.COLOUR: N_("色度"), Indicator.ODOUR: N_("臭和味")}
LIMIT_WORDS = {Indicator.COLIFORMS: N_("不得检出"), Indicator.ODOUR: N_("无异臭、异味")}


def _today(now: datetime, settings: Any) -> date:
    return now.astimezone(ZoneInfo(settings.site.timezone)).date()


def _day(form: AdminForm, name: str, today: date) -> date | None:
    text = form.get(name)
    try:
        value = date.fromisoformat(text)
    except ValueError:
        form.refuse(name, N_("请按 2026-11-25 的格式填写日期") if text else N_("请填写日期"))
        return None
    if not in_range(value) or value > today:
        form.refuse(name, N_("日期不能晚于今天"))
        return None
    if value < today.replace(year=today.year - 1):
        form.refuse(name, N_("日期超过一年前，请检查"))
        return None
    return value


# --- the monthly inspection -------------------------------------------------------------------

def _inspection_page(request: Request, db: Any, user: Any, bay: Any, form: AdminForm, *,
                     status: int = 200) -> HTMLResponse:
    history = service.inspections_of(db, asset_id=bay.asset_id, limit=6)
    tickets = service.ticket_numbers(db, [e.ticket_id for e in history if e.ticket_id])
    return render(request, "admin/inspection.html", {
        "bay": bay, "form": form, "items": [i.value for i in ITEMS], "item_words": ITEM_WORDS,
        "history": history, "tickets": tickets,
        "done": request.query_params.get("done", "")}, status=status, user=user)


@router.get("/staff/inspect/{asset_id}", response_class=HTMLResponse)
def inspection(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
               user: WebStaff, asset_id: AssetId) -> Response:
    bay = service.extinguisher(db, asset_id)
    form = AdminForm(values={"inspected_on": _today(now, settings).isoformat()})
    return _inspection_page(request, db, user, bay, form)


@router.post("/staff/inspect/{asset_id}", response_class=HTMLResponse)
async def record_inspection(request: Request, db: SessionDep, now: NowDep,
                            settings: SettingsDep, user: WebStaff, _csrf: CsrfChecked,
                            asset_id: AssetId) -> Response:
    # The form is read here (already parsed by the CSRF check); the database work runs in a
    # worker thread, as a plain route's would, so it never holds up the event loop.
    sent = await request.form()
    return await run_in_threadpool(_record_inspection, request, db, now, settings, user,
                                   asset_id, sent)


def _record_inspection(request: Request, db: Any, now: datetime, settings: Any, user: Any,
                       asset_id: str, sent: FormData) -> Response:
    bay = service.extinguisher(db, asset_id)
    values = {name: str(sent.get(name, ""))[:10] for name in ("inspected_on", *ITEM_WORDS)}
    values["notes"] = str(sent.get("notes", ""))[:1000]
    form = AdminForm.of(**values)
    answers: dict[str, bool | None] = {}
    for name in ITEM_WORDS:
        answer = form.get(name)
        if answer not in ("ok", "fault"):
            form.refuse(name, N_("请选择 正常 或 有问题"))
        answers[name] = {"ok": True, "fault": False}.get(answer)
    day = _day(form, "inspected_on", _today(now, settings))
    if day is not None and day < bay.manufactured_on:
        form.refuse("inspected_on", N_("检查日期不能早于生产日期"))
    if len(form.get("notes")) > 500:
        form.refuse("notes", N_("备注最多 500 个字"))
    if bay.retired_on is not None:
        form.conflict = True
    if not form.ok or day is None:
        return _inspection_page(request, db, user, bay, form, status=form.status)
    # The ticket's history is read by staff in either language: both, as the sensing side does.
    zh, en = words_for("zh"), words_for("en")
    failed = [name for name, ok in answers.items() if not ok]
    failed_words = "、".join(zh.gettext(ITEM_WORDS[n]) for n in failed) + " / " + \
        "; ".join(en.gettext(ITEM_WORDS[n]) for n in failed)
    try:
        entry = service.record_inspection(db, asset_id=asset_id, answers=answers,
                                          inspected_on=day, notes=form.get("notes"),
                                          failed_words=failed_words, user=user, now=now)
    except (Conflict, Invalid):
        db.rollback()
        form.conflict = True
        return _inspection_page(request, db, user, bay, form, status=409)
    return redirect(f"/staff/inspect/{asset_id}?done={'passed' if entry.passed else 'failed'}")


# --- a cleaning and its water test ----------------------------------------------------------

TEXT_FIELDS = ("company", "certificate_no", "disinfectant", "lab", "report_no")
NUMBER_FIELDS = {Indicator.TURBIDITY: 1000.0, Indicator.FREE_CHLORINE: 100.0,
                 Indicator.COLONY_COUNT: 1e7, Indicator.COLOUR: 1000.0}


def _cleaning_page(request: Request, db: Any, user: Any, tank: Any, form: AdminForm, *,
                   status: int = 200) -> HTMLResponse:
    return render(request, "admin/cleaning.html", {
        "tank": tank, "form": form, "log": service.water_tests_of(db, asset_id=tank.asset_id),
        "limits": LIMITS, "indicators": list(LIMITS), "indicator_words": INDICATOR_WORDS,
        "limit_words": LIMIT_WORDS, "judge": judge, "sample_of": _sample_of,
        "done": request.query_params.get("done", "")}, status=status, user=user)


def _sample_of(test: Any) -> WaterSample:
    return WaterSample(**{i.value: getattr(test, i.value) for i in Indicator})


@router.get("/staff/equipment/tanks/{asset_id}/cleaning", response_class=HTMLResponse)
def cleaning(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
             user: WebStaff, asset_id: AssetId) -> Response:
    tank = service.tank(db, asset_id)
    today = _today(now, settings).isoformat()
    form = AdminForm(values={"cleaned_on": today, "tested_on": today})
    return _cleaning_page(request, db, user, tank, form)


def _report(upload: UploadFile | None, form: AdminForm) -> tuple[bytes, str] | None:
    if upload is None or (not upload.filename and not upload.size):
        form.refuse("report", N_("请附上检测报告（PDF 或照片）"))
        return None
    upload.file.seek(0)
    data = upload.file.read(REPORT_MAX_BYTES + 1)
    if len(data) > REPORT_MAX_BYTES:
        form.refuse("report", N_("文件太大了，最多 10 MB"))
        return None
    for media_type, magic in REPORT_TYPES.items():
        if data.startswith(magic):
            return data, media_type
    form.refuse("report", N_("只能上传 PDF、JPEG 或 PNG 文件"))
    return None


@router.post("/staff/equipment/tanks/{asset_id}/cleaning", response_class=HTMLResponse)
async def record_cleaning(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
                          user: WebStaff, _csrf: CsrfChecked, store: AttachmentsDep,
                          asset_id: AssetId) -> Response:
    sent = await request.form()  # as record_inspection: the work runs in a worker thread
    return await run_in_threadpool(_record_cleaning, request, db, now, settings, user, store,
                                   asset_id, sent)


def _record_cleaning(request: Request, db: Any, now: datetime, settings: Any, user: Any,
                     store: Any, asset_id: str, sent: FormData) -> Response:
    tank = service.tank(db, asset_id)
    names = ("cleaned_on", "tested_on", "notes", *TEXT_FIELDS, *(i.value for i in Indicator))
    form = AdminForm.of(**{n: str(sent.get(n, ""))[:500] for n in names})
    today = _today(now, settings)
    cleaned_on, tested_on = _day(form, "cleaned_on", today), _day(form, "tested_on", today)
    if cleaned_on and tested_on and tested_on < cleaned_on:
        form.refuse("tested_on", N_("检测取样应在清洗之后"))
    for name in ("company", "certificate_no", "disinfectant", "lab"):
        if not form.get(name):
            form.refuse(name, N_("请填写这一项"))
    for name in TEXT_FIELDS:
        if len(form.get(name)) > 100:
            form.refuse(name, N_("最多 100 个字"))
    if len(form.get("notes")) > 500:
        form.refuse("notes", N_("备注最多 500 个字"))
    numbers: dict[str, Any] = {}
    for indicator, top in NUMBER_FIELDS.items():
        text = form.get(indicator.value).replace("，", ".").replace(",", ".")
        try:
            numbers[indicator.value] = value = float(text)
        except ValueError:
            form.refuse(indicator.value, N_("请填写检测报告上的数字，例如 0.5"))
            continue
        if not 0 <= value <= top:  # also NaN: a figure no lab reports
            form.refuse(indicator.value, N_("这个数字不在合理范围内，请核对报告"))
    for indicator, yes, no in ((Indicator.COLIFORMS, "detected", "none"),
                               (Indicator.ODOUR, "none", "some")):
        answer = form.get(indicator.value)
        if answer not in (yes, no):
            form.refuse(indicator.value, N_("请选择一项"))
        numbers[indicator.value] = {yes: True, no: False}.get(answer)
    upload = sent.get("report")
    file = _report(upload if isinstance(upload, UploadFile) else None, form)
    if file is not None and form.errors:
        # The page comes back with the mistakes, and a browser cannot keep a chosen file.
        form.refuse("report", N_("请重新选择检测报告文件：改正后要再选一次"))
    if not form.ok or cleaned_on is None or tested_on is None or file is None:
        return _cleaning_page(request, db, user, tank, form, status=form.status)
    details = service.CleaningDetails(
        cleaned_on=cleaned_on, tested_on=tested_on, notes=form.get("notes"),
        **{n: form.get(n) for n in TEXT_FIELDS})
    try:
        test = service.record_cleaning(db, asset_id=asset_id, details=details,
                                       sample=WaterSample(**numbers), report=file, store=store,
                                       user=user, now=now, timezone=settings.site.timezone)
    except Invalid:
        db.rollback()
        form.refuse("cleaned_on", N_("日期不能晚于今天"))
        return _cleaning_page(request, db, user, tank, form, status=422)
    return redirect(f"/staff/equipment/tanks/{asset_id}/cleaning"
                    f"?done={'passed' if test.passed else 'failed'}#log-h")


@router.get("/staff/equipment/water-tests/{test_id}/report")
def lab_report(db: SessionDep, store: AttachmentsDep, user: WebStaff,
               test_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> Response:
    test = service.water_test(db, test_id)
    if not test.report_key:
        raise NotFound(f"water test {test_id} has no report")
    try:
        stored = store.get(test.report_key)
    except AttachmentError:
        log.exception("lab report %s of water test %s unreadable", test.report_key, test_id)
        raise NotFound(f"the report of water test {test_id} is missing") from None
    log.info("lab report of water test %s read by %s", test_id, user.username)
    suffix = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(
        stored.media_type, "bin")
    return Response(stored.data, media_type=stored.media_type, headers={
        "Content-Disposition": f'inline; filename="water-test-{test_id}.{suffix}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
