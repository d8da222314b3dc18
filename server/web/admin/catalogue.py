"""The service categories' admin pages (admin role): what residents can ask for, in both
languages, with the skill each needs, the target time to acceptance, the kiosk tile and the
questions with their answers.

    GET  /admin/categories                      the list: in use, retired, edited here
    GET  /admin/categories/new                  a blank form
    POST /admin/categories/new                  add one
    GET  /admin/categories/<code>               the form
    POST /admin/categories/<code>               save it (version-checked)
    POST /admin/categories/<code>/retire        no longer offered; its requests keep it
    POST /admin/categories/<code>/restore       offered again

The rules are server/services/category_admin.py's; a saved category is the database's from then
on (config/categories.toml only seeds), and the kiosk's list follows without a restart.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from server.api.deps import NowDep, SessionDep
from server.services import category_admin
from server.services.admin_forms import FormRefused, StaleEdit
from server.services.question_text import QuestionLineError
from server.web.admin.forms import AdminForm, WebAdmin
from server.web.admin.refusals import show_refusal
from server.web.common import CsrfChecked, WebRoute, redirect, render
from server.web.words import N_

__all__ = ["router"]

router = APIRouter(route_class=WebRoute)
Code = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Text = Annotated[str, Form(max_length=4000)]
Long = Annotated[str, Form(max_length=20_000)]
PRIORITY_WORDS = {"low": N_("低"), "normal": N_("普通"), "high": N_("高"), "urgent": N_("紧急")}
# A questions line's problem (server/services/question_text.py) in the reader's words.
LINE_WORDS = {
    "bad_start": N_("每行要以 ? （问题）或 - （答案）开头"),
    "no_question": N_("答案前面要先有一行问题"),
    "fields": N_("要用 | 分成三段：代码 | 中文 | English（问题可加第四段 必答）"),
    "bad_key": N_("代码只能用小写英文字母、数字和下划线，以字母开头"),
    "key_twice": N_("这个代码在前面已经用过了"),
    "empty": N_("中文和英文都要填写"),
    "too_long": N_("文字太长了（最多 60 个字）"),
    "no_answers": N_("这个问题下面还没有答案"),
}


def _page(request: Request, user: object, form: AdminForm, *, code: str | None,
          line_errors: list[QuestionLineError] | None = None, status: int = 200,
          active: bool = True) -> HTMLResponse:
    return render(request, "admin/category.html", {
        "form": form, "code": code, "active": active, "line_errors": line_errors or [],
        "line_words": LINE_WORDS, "priority_words": PRIORITY_WORDS,
        "priorities": category_admin.PRIORITIES}, status=status, user=user)  # type: ignore[arg-type]


def _typed(version: str, **fields: str) -> AdminForm:
    return AdminForm.of(version=version, **fields)


@router.get("/admin/categories", response_class=HTMLResponse)
def categories(request: Request, db: SessionDep, user: WebAdmin) -> Response:
    return render(request, "admin/categories.html", {
        "rows": category_admin.category_rows(db), "priority_words": PRIORITY_WORDS,
        "done": request.query_params.get("done", "")}, user=user)


@router.get("/admin/categories/new", response_class=HTMLResponse)
def new_category(request: Request, user: WebAdmin) -> Response:
    form = AdminForm(values={"target_hours": "24", "priority": "normal", "kiosk": "1",
                             "public": "1"})
    return _page(request, user, form, code=None)


@router.get("/admin/categories/{code}", response_class=HTMLResponse)
def category(request: Request, db: SessionDep, user: WebAdmin, code: Code) -> Response:
    row = category_admin.get_category(db, code=code)
    form = AdminForm(values=category_admin.category_form(row),
                     version=category_admin.category_version(row))
    return _page(request, user, form, code=code, active=row.active)


def _save(request: Request, db: SessionDep, now: NowDep, user: WebAdmin, code: str | None,
          form: AdminForm) -> Response:
    try:
        saved = category_admin.save_category(db, code=code, form=form.values, seen=form.version,
                                             actor=user, now=now)
    except FormRefused as refusal:
        db.rollback()
        show_refusal(form, refusal)
        return _page(request, user, form, code=code, line_errors=refusal.detail,
                     status=form.status)
    except StaleEdit as refusal:
        db.rollback()
        assert code is not None
        current = category_admin.get_category(db, code=code)
        show_refusal(form, refusal, saved_as_form=category_admin.category_form(current))
        return _page(request, user, form, code=code, status=form.status, active=current.active)
    return redirect(f"/admin/categories?done={saved.code}")


@router.post("/admin/categories/new", response_class=HTMLResponse)
def add_category(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
                 _csrf: CsrfChecked, code: Text = "", name_zh: Text = "", name_en: Text = "",
                 skill: Text = "", target_hours: Text = "", priority: Text = "",
                 kiosk: Text = "", public: Text = "", group_zh: Text = "", group_en: Text = "",
                 questions: Long = "", by_appointment: Text = "") -> Response:
    form = _typed("", code=code, name_zh=name_zh, name_en=name_en, skill=skill,
                  target_hours=target_hours, priority=priority, kiosk=kiosk, public=public,
                  group_zh=group_zh, group_en=group_en, by_appointment=by_appointment)
    form.values["questions"] = questions  # kept as typed, lines and all
    return _save(request, db, now, user, None, form)


@router.post("/admin/categories/{code}", response_class=HTMLResponse)
def save_category(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
                  _csrf: CsrfChecked, code: Code, version: Text = "", name_zh: Text = "",
                  name_en: Text = "", skill: Text = "", target_hours: Text = "",
                  priority: Text = "", kiosk: Text = "", public: Text = "", group_zh: Text = "",
                  group_en: Text = "", questions: Long = "", by_appointment: Text = "") -> Response:
    form = _typed(version, code=code, name_zh=name_zh, name_en=name_en, skill=skill,
                  target_hours=target_hours, priority=priority, kiosk=kiosk, public=public,
                  group_zh=group_zh, group_en=group_en, by_appointment=by_appointment)
    form.values["questions"] = questions
    return _save(request, db, now, user, code, form)


def _retire(request: Request, db: SessionDep, now: NowDep, user: WebAdmin, code: str,
            version: str, *, retired: bool) -> Response:
    try:
        category_admin.set_retired(db, code=code, retired=retired, seen=version, actor=user,
                                   now=now)
    except StaleEdit as refusal:
        db.rollback()
        current = category_admin.get_category(db, code=code)
        form = AdminForm(values=category_admin.category_form(current), version=version)
        show_refusal(form, refusal, saved_as_form=category_admin.category_form(current))
        return _page(request, user, form, code=code, status=form.status, active=current.active)
    return redirect(f"/admin/categories?done={code}")


@router.post("/admin/categories/{code}/retire", response_class=HTMLResponse)
def retire(request: Request, db: SessionDep, now: NowDep, user: WebAdmin, _csrf: CsrfChecked,
           code: Code, version: Text = "") -> Response:
    return _retire(request, db, now, user, code, version, retired=True)


@router.post("/admin/categories/{code}/restore", response_class=HTMLResponse)
def restore(request: Request, db: SessionDep, now: NowDep, user: WebAdmin, _csrf: CsrfChecked,
            code: Code, version: Text = "") -> Response:
    return _retire(request, db, now, user, code, version, retired=False)
