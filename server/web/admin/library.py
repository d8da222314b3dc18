"""The library's back office (admin role): books and their copies, readers, printed labels.

    GET  /admin/library?q=                       books (with copies on the shelf, out, withdrawn)
                                                 and readers; add a book, enrol a reader
    POST /admin/library/books                    add a book (ISBN, title, author, publisher,
                                                 first copies and their shelf)
    GET  /admin/library/books/<id>               its copies; add copies, withdraw one
    POST /admin/library/books/<id>/copies        add copies
    POST /admin/library/copies/<label>/withdraw  withdraw a copy (version-checked)
    POST /admin/library/readers                  enrol a reader (name, mobile number)
    POST /admin/library/readers/<id>/block       the kiosk refuses their card; /unblock again
    GET  /admin/library/labels?book=<id>         a printable page of the book's copy labels
    GET  /admin/library/cards?reader=<id>        a printable page of a reader's card

The labels and cards are the same A4 sheets ``servicepoint library labels|cards`` prints
(server/library/labels.py, the CJK font at ``kiosk.font_path``), shown as images on a page the
browser prints. The rules are server/library/services/back_office.py's.
"""

from __future__ import annotations

import base64
import io
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.errors import Invalid
from server.library.labels import CardItem, LabelItem, card_pages, label_pages
from server.library.services import back_office
from server.services.admin_forms import FormRefused, StaleEdit
from server.web.admin.forms import AdminForm, WebAdmin
from server.web.admin.refusals import show_refusal
from server.web.common import CsrfChecked, WebRoute, redirect, render
from server.web.words import N_

__all__ = ["router"]

router = APIRouter(route_class=WebRoute)
Text = Annotated[str, Form(max_length=400)]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Label = Annotated[str, Path(pattern=r"^[A-Z0-9][A-Z0-9._-]{0,39}$")]
# The library's own problem codes, beside the catalogue's (server/web/admin/refusals.py).
LIBRARY_WORDS = {
    "bad_isbn": N_("ISBN 不对：请核对 10 位或 13 位的书号（可带短横线）"),
    "isbn_taken": N_("这个 ISBN 的书已经有了：请在书目里找到它，再添加册数"),
    "copies_range": N_("请填写 0 到 50 之间的册数"),
    "bad_mobile": N_("请填写 11 位手机号码"),
}


def _refuse(form: AdminForm, refusal: FormRefused) -> None:
    show_refusal(form, FormRefused({k: v for k, v in refusal.problems.items()
                                    if v not in LIBRARY_WORDS}))
    for name, problem in refusal.problems.items():
        if problem in LIBRARY_WORDS:
            form.refuse(name, LIBRARY_WORDS[problem])


def _home(request: Request, db: SessionDep, user: Any, *, book_form: AdminForm | None = None,
          reader_form: AdminForm | None = None, status: int = 200) -> HTMLResponse:
    search = request.query_params.get("q", "")[:60].strip()
    return render(request, "admin/library.html", {
        "books": back_office.book_rows(db, search=search),
        "readers": back_office.reader_rows(db, search=search), "q": search,
        "version_of": back_office.patron_version,
        "book_form": book_form or AdminForm(values={"copies": "1"}),
        "reader_form": reader_form or AdminForm(values={}),
        "done": request.query_params.get("done", "")}, status=status, user=user)


@router.get("/admin/library", response_class=HTMLResponse)
def library(request: Request, db: SessionDep, user: WebAdmin) -> Response:
    return _home(request, db, user)


@router.post("/admin/library/books", response_class=HTMLResponse)
def add_book(request: Request, db: SessionDep, now: NowDep, user: WebAdmin, _csrf: CsrfChecked,
             isbn: Text = "", title: Text = "", author: Text = "", publisher: Text = "",
             category: Text = "", shelf: Text = "", copies: Text = "") -> Response:
    form = AdminForm.of(isbn=isbn, title=title, author=author, publisher=publisher,
                        category=category, shelf=shelf, copies=copies)
    try:
        book, _copies = back_office.add_book(db, form=form.values, actor=user, now=now)
    except FormRefused as refusal:
        db.rollback()
        _refuse(form, refusal)
        return _home(request, db, user, book_form=form, status=form.status)
    return redirect(f"/admin/library/books/{book.id}?done=added")


def _book_page(request: Request, db: SessionDep, user: Any, book_id: int, *,
               form: AdminForm | None = None, error: str = "", status: int = 200
               ) -> HTMLResponse:
    book, lent = back_office.book_with_copies(db, book_id=book_id)
    return render(request, "admin/book.html", {
        "book": book, "lent": lent, "version_of": back_office.copy_version,
        "form": form or AdminForm(values={"copies": "1",
                                          "shelf": book.copies[-1].shelf if book.copies else ""}),
        "error": error, "done": request.query_params.get("done", "")}, status=status,
        user=user)


@router.get("/admin/library/books/{book_id}", response_class=HTMLResponse)
def book(request: Request, db: SessionDep, user: WebAdmin, book_id: Id) -> Response:
    return _book_page(request, db, user, book_id)


@router.post("/admin/library/books/{book_id}/copies", response_class=HTMLResponse)
def add_copies(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
               _csrf: CsrfChecked, book_id: Id, copies: Text = "", shelf: Text = "") -> Response:
    form = AdminForm.of(copies=copies, shelf=shelf)
    try:
        back_office.add_copies(db, book_id=book_id, form=form.values, actor=user, now=now)
    except FormRefused as refusal:
        db.rollback()
        _refuse(form, refusal)
        return _book_page(request, db, user, book_id, form=form, status=form.status)
    return redirect(f"/admin/library/books/{book_id}?done=copies")


@router.post("/admin/library/copies/{label}/withdraw", response_class=HTMLResponse)
def withdraw(request: Request, db: SessionDep, now: NowDep, user: WebAdmin, _csrf: CsrfChecked,
             label: Label, version: Text = "") -> Response:
    try:
        copy = back_office.withdraw_copy(db, label=label, seen=version, actor=user, now=now)
    except (StaleEdit, Invalid) as refused:
        db.rollback()
        copy_row = back_office.copy_by_label(db, label=label)
        code = "stale" if isinstance(refused, StaleEdit) else "on_loan"
        return _book_page(request, db, user, copy_row.book_id, error=code, status=409)
    return redirect(f"/admin/library/books/{copy.book_id}?done=withdrawn")


@router.post("/admin/library/readers", response_class=HTMLResponse)
def enrol(request: Request, db: SessionDep, now: NowDep, user: WebAdmin, _csrf: CsrfChecked,
          address_as: Text = "", phone: Text = "") -> Response:
    form = AdminForm.of(address_as=address_as, phone=phone)
    try:
        patron, _new = back_office.enrol_reader(db, form=form.values, actor=user, now=now)
    except FormRefused as refusal:
        db.rollback()
        _refuse(form, refusal)
        return _home(request, db, user, reader_form=form, status=form.status)
    return redirect(f"/admin/library?q={patron.card_id}&done=enrolled")


def _block(request: Request, db: SessionDep, now: NowDep, user: Any, patron_id: int,
           version: str, *, blocked: bool) -> Response:
    try:
        patron = back_office.set_blocked(db, patron_id=patron_id, blocked=blocked, seen=version,
                                         actor=user, now=now)
    except StaleEdit:
        db.rollback()
        card = back_office.get_patron(db, patron_id=patron_id).card_id
        return redirect(f"/admin/library?q={card}&done=stale")
    done = "blocked" if blocked else "unblocked"
    return redirect(f"/admin/library?q={patron.card_id}&done={done}")


@router.post("/admin/library/readers/{patron_id}/block", response_class=HTMLResponse)
def block(request: Request, db: SessionDep, now: NowDep, user: WebAdmin, _csrf: CsrfChecked,
          patron_id: Id, version: Text = "") -> Response:
    return _block(request, db, now, user, patron_id, version, blocked=True)


@router.post("/admin/library/readers/{patron_id}/unblock", response_class=HTMLResponse)
def unblock(request: Request, db: SessionDep, now: NowDep, user: WebAdmin, _csrf: CsrfChecked,
            patron_id: Id, version: Text = "") -> Response:
    return _block(request, db, now, user, patron_id, version, blocked=False)


# --- printing -----------------------------------------------------------------------------

def _as_images(pages: list[Any]) -> list[str]:
    """A4 pages as PNG data: URLs (the page's own images; the CSP allows ``data:`` images)."""
    shown = []
    for page in pages:
        out = io.BytesIO()
        page.save(out, format="PNG", optimize=True)
        shown.append("data:image/png;base64," + base64.b64encode(out.getvalue()).decode())
    return shown


@router.get("/admin/library/labels", response_class=HTMLResponse)
def labels(request: Request, db: SessionDep, settings: SettingsDep, user: WebAdmin,
           book: Annotated[int, Query(ge=1, le=2**31 - 1)]) -> Response:
    row, _lent = back_office.book_with_copies(db, book_id=book)
    items = [LabelItem(c.label, row.title, c.shelf) for c in row.copies
             if c.status == "available"]
    pages = label_pages(items, font_path=settings.kiosk.font_path)
    return render(request, "admin/library_print.html", {
        "images": _as_images(pages), "what": "labels", "back": f"/admin/library/books/{book}",
        "count": len(pages)}, user=user)


@router.get("/admin/library/cards", response_class=HTMLResponse)
def cards(request: Request, db: SessionDep, settings: SettingsDep, user: WebAdmin,
          reader: Annotated[int, Query(ge=1, le=2**31 - 1)]) -> Response:
    patron = back_office.get_patron(db, patron_id=reader)
    pages = card_pages([CardItem(patron.card_id, patron.resident.address_as)],
                       font_path=settings.kiosk.font_path, site_name=settings.site.name_zh)
    return render(request, "admin/library_print.html", {
        "images": _as_images(pages), "what": "cards",
        "back": f"/admin/library?q={patron.card_id}", "count": len(pages)}, user=user)
