"""Bulk import of volunteers, places and books from a spreadsheet, with a preview first.

    GET  /admin/import                      choose what to import, upload the file
    GET  /admin/import/<kind>.xlsx          an empty workbook with the right column heads
    POST /admin/import                      read it and show every row's mistakes by line and
                                            column; nothing is saved
    POST /admin/import/confirm              save every row, or none

Each row goes through exactly the checks and the service its admin page uses (the volunteer
form's checks and ``people.add_volunteer``; ``save_place``; ``add_book``), so an import can do
nothing a person at the form could not, and every row is in the audit log. The preview runs the
rows in a transaction it rolls back; the confirmation runs them again in one transaction and
commits only if every row passed (someone may have changed the data in between). The uploaded
file waits in the attachment store between the two steps, and is deleted after.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.api.attachments import AttachmentsDep
from server.api.deps import NowDep, SessionDep
from server.attachments import UnknownAttachment
from server.db import begin_for_savepoints
from server.equipment.ledger import workbook
from server.imports import COLUMNS, Row, Sheet, read_sheet
from server.library.services.back_office import add_book
from server.models import Grid, Squad, User
from server.services import audit, people
from server.services.admin_forms import FormRefused
from server.services.place_admin import KINDS, save_place
from server.web.admin.forms import AdminForm, WebAdmin
from server.web.admin.library import LIBRARY_WORDS
from server.web.admin.refusals import PROBLEM_WORDS, UNKNOWN_PROBLEM
from server.web.admin.volunteers import check_volunteer_form
from server.web.common import CsrfChecked, WebRoute, render
from server.web.words import N_

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_FILE = 2 * 1024 * 1024
Kind = Annotated[str, Path(pattern=r"^(volunteer|compound|building|unit|book)$")]

KIND_WORDS = {"volunteer": N_("志愿者"), "compound": N_("小区"), "building": N_("楼栋"),
              "unit": N_("单元"), "book": N_("图书")}
FILE_WORDS = {
    "unreadable": N_("读不出这个文件：请上传 .xlsx 表格，或 UTF-8 / GBK 编码的 CSV"),
    "empty": N_("表格里没有数据行"),
    "too_many_rows": N_("一次最多导入 2000 行，请分几次导入"),
    "unknown_column": N_("不认识这一列：%(name)s"),
    "missing_column": N_("缺少必填的一列：%(name)s"),
    "too_big": N_("文件太大（最大 2 MB）"),
    "choose_kind": N_("请选择要导入什么"),
    "expired": N_("预览已过期，请重新上传文件"),
}
_YES = {"是", "y", "yes", "true", "1", "党员", "√", "✓"}
# The volunteer form's field names, as the import's columns call them.
_VOLUNTEER_FIELDS = {"squad_id": "squad", "grid_id": "grid", "new_skills": "skills"}


@dataclass
class Checked:
    line: int
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)  # column field -> msgid


@dataclass
class Outcome:
    rows: list[Checked]
    passwords: list[tuple[str, str]] = field(default_factory=list)  # (username, new password)

    @property
    def ok(self) -> bool:
        return not any(row.errors for row in self.rows)


def _by_code_or_name(db: Session, model: Any, text: str) -> str:
    """The id of the squad or grid a worker named by its code or its name, as the form's
    select would send it; the text itself when none matches (the check then says so)."""
    if not text:
        return ""
    found = db.scalar(select(model.id).where(or_(model.code == text, model.name == text)))
    return str(found) if found is not None else text


def _volunteer(db: Session, row: Row, actor: User, now: datetime, out: Outcome) -> Checked:
    v = row.values
    form = AdminForm.of(code=v.get("code"), given_name=v.get("given_name"),
                        full_name=v.get("full_name"), phone=v.get("phone"),
                        squad_id=_by_code_or_name(db, Squad, v.get("squad", "")),
                        grid_id=_by_code_or_name(db, Grid, v.get("grid", "")),
                        new_skills=v.get("skills"),
                        party_member="1" if v.get("party_member", "").lower() in _YES else "",
                        channels="", username=v.get("username"))
    fields = check_volunteer_form(db, form, [], volunteer=None)
    checked = Checked(row.line, v, {_VOLUNTEER_FIELDS.get(k, k): m
                                    for k, m in form.errors.items()})
    if fields is not None and not checked.errors:
        _, password = people.add_volunteer(db, fields=fields, username=form.get("username"),
                                           actor=actor, now=now)
        if password:
            out.passwords.append((form.get("username"), password))
    return checked


def _words_of(refused: FormRefused) -> dict[str, str]:
    return {name: LIBRARY_WORDS.get(problem) or PROBLEM_WORDS.get(problem, UNKNOWN_PROBLEM)
            for name, problem in refused.problems.items()}


def _place(kind: str) -> Any:
    def save(db: Session, row: Row, actor: User, now: datetime, out: Outcome) -> Checked:
        try:
            save_place(db, kind=KINDS[kind], code=None, form=row.values, seen="", actor=actor,
                       now=now, commit=False)
        except FormRefused as refused:
            return Checked(row.line, row.values, _words_of(refused))
        return Checked(row.line, row.values)
    return save


def _book(db: Session, row: Row, actor: User, now: datetime, out: Outcome) -> Checked:
    try:
        add_book(db, form=row.values, actor=actor, now=now, commit=False)
    except FormRefused as refused:
        return Checked(row.line, row.values, _words_of(refused))
    return Checked(row.line, row.values)


_SAVERS = {"volunteer": _volunteer, "compound": _place("compound"),
           "building": _place("building"), "unit": _place("unit"), "book": _book}


def _run(db: Session, kind: str, sheet: Sheet, actor: User, now: datetime) -> Outcome:
    """Every row through its saver inside one transaction, each row in a savepoint so one
    row's failure does not hide the next row's mistakes. The caller commits or rolls back."""
    out = Outcome(rows=[])
    begin_for_savepoints(db)
    for row in sheet.rows:
        savepoint = db.begin_nested()
        try:
            checked = _SAVERS[kind](db, row, actor, now, out)
        except Exception:
            savepoint.rollback()
            raise
        if checked.errors:
            savepoint.rollback()
        else:
            savepoint.commit()
        out.rows.append(checked)
    return out


def _page(request: Request, user: User, *, kind: str = "", sheet: Sheet | None = None,
          outcome: Outcome | None = None, key: str = "", problems: list[str] | None = None,
          done: int | None = None, passwords: list[tuple[str, str]] | None = None,
          status: int = 200) -> HTMLResponse:
    shown = []
    for problem in problems or (sheet.problems if sheet else []):
        code, _, name = problem.partition(":")
        shown.append((FILE_WORDS.get(code, FILE_WORDS["unreadable"]), name))
    return render(request, "admin/import.html", {
        "kind": kind, "kinds": KIND_WORDS, "columns": COLUMNS, "sheet": sheet,
        "outcome": outcome, "key": key, "problems": shown, "done": done,
        "passwords": passwords or [],
    }, user=user, status=status)


@router.get("/admin/import", response_class=HTMLResponse)
def import_page(request: Request, user: WebAdmin) -> HTMLResponse:
    return _page(request, user)


@router.get("/admin/import/{kind}.xlsx")
def template(user: WebAdmin, kind: Kind) -> Response:
    heads = [column.names[0] for column in COLUMNS[kind]]
    data = workbook([(str(KIND_WORDS[kind]), heads, [])])
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="import-{kind}.xlsx"'})


@router.post("/admin/import", response_class=HTMLResponse)
def preview(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
            store: AttachmentsDep, _csrf: CsrfChecked,
            kind: Annotated[str, Form(max_length=20)] = "",
            upload: Annotated[UploadFile | None, File()] = None) -> Response:
    if kind not in COLUMNS:
        return _page(request, user, problems=["choose_kind"], status=422)
    data = upload.file.read(MAX_FILE + 1) if upload is not None else b""
    if len(data) > MAX_FILE:
        return _page(request, user, kind=kind, problems=["too_big"], status=413)
    sheet = read_sheet(upload.filename or "" if upload else "", data, kind=kind)
    if sheet.problems:
        return _page(request, user, kind=kind, sheet=sheet, status=422)
    try:
        outcome = _run(db, kind, sheet, user, now)
    finally:
        db.rollback()  # a preview saves nothing
    key = store.put(data, media_type=XLSX if data[:2] == b"PK" else "text/csv") \
        if outcome.ok else ""
    return _page(request, user, kind=kind, sheet=sheet, outcome=outcome, key=key,
                 status=200 if outcome.ok else 422)


@router.post("/admin/import/confirm", response_class=HTMLResponse)
def confirm(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
            store: AttachmentsDep, _csrf: CsrfChecked,
            kind: Annotated[str, Form(max_length=20)] = "",
            key: Annotated[str, Form(max_length=200)] = "") -> Response:
    if kind not in COLUMNS:
        return _page(request, user, problems=["choose_kind"], status=422)
    try:
        stored = store.get(key)
    except (UnknownAttachment, ValueError):
        return _page(request, user, kind=kind, problems=["expired"], status=410)
    data = stored.data
    sheet = read_sheet("upload.xlsx" if data[:2] == b"PK" else "upload.csv", data, kind=kind)
    outcome = _run(db, kind, sheet, user, now) if not sheet.problems else None
    if outcome is None or not outcome.ok:
        db.rollback()  # the data changed since the preview: nothing is saved
        return _page(request, user, kind=kind, sheet=sheet, outcome=outcome, status=409)
    audit.record(db, actor=user, action="import." + kind, subject=("import", key[:60]),
                 after={"rows": len(outcome.rows)}, now=now)
    db.commit()
    store.delete(key)
    log.info("%d %s rows imported by %s", len(outcome.rows), kind, user.username)
    return _page(request, user, kind=kind, done=len(outcome.rows), passwords=outcome.passwords)
