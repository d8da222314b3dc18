"""Admin pages for residents' personal data (PIPL): find one resident by name or phone, see and
export what we hold (a readable, printable page and a JSON download), and erase it on request.

    GET  /admin/residents?q=                  find (phones masked in the list)
    GET  /admin/residents/<id>                what we hold, in full (a sensitive read: logged)
    GET  /admin/residents/<id>/export.json    the same as JSON (logged as an export)
    POST /admin/residents/<id>/erase          confirm=1: erase (logged)

Admins only. The reads and the erasure are in the audit log (server/services/residents.py).
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from server.api.attachments import AttachmentsDep
from server.api.deps import NowDep, SessionDep
from server.appointments.service import no_shows_of
from server.errors import NotFound
from server.models import Resident, User
from server.services import audit
from server.services.requests import mask_phone
from server.services.residents import erase_resident, find_residents, held_about
from server.services.web_choices import categories
from server.web.admin.forms import AdminForm, WebAdmin
from server.web.common import CsrfChecked, WebRoute, redirect, render
from server.web.words import N_

__all__ = ["router"]

router = APIRouter(route_class=WebRoute)
ResidentId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CONFIRM = N_("请先勾选确认：删除后无法恢复")


def _get(db: Session, resident_id: int) -> Resident:
    resident = db.get(Resident, resident_id)
    if resident is None:
        raise NotFound("no such resident")
    return resident


@router.get("/admin/residents", response_class=HTMLResponse)
def resident_search(request: Request, db: SessionDep, user: WebAdmin,
                    q: Annotated[str, Query(max_length=40)] = "") -> Response:
    return render(request, "admin/residents.html", {
        "q": q, "rows": find_residents(db, query=q) if q.strip() else None,
        "mask": mask_phone}, user=user)


def _held_page(request: Request, db: Session, user: User, resident: Resident,
               form: AdminForm | None = None, status: int = 200) -> HTMLResponse:
    return render(request, "admin/resident.html", {
        "resident": resident, "held": held_about(db, resident=resident),
        "categories": categories(db), "form": form or AdminForm.showing(None),
        "no_shows": no_shows_of(db, resident_id=resident.id)},  # missed appointments
        status=status, user=user)


@router.get("/admin/residents/{resident_id}", response_class=HTMLResponse)
def resident_page(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
                  resident_id: ResidentId) -> Response:
    resident = _get(db, resident_id)
    page = _held_page(request, db, user, resident)
    audit.record(db, actor=user, action="resident.view", subject=("resident", resident.id),
                 now=now)
    db.commit()
    return page


@router.get("/admin/residents/{resident_id}/export.json")
def resident_export(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
                    resident_id: ResidentId) -> Response:
    resident = _get(db, resident_id)
    body = json.dumps(held_about(db, resident=resident), ensure_ascii=False, indent=2)
    audit.record(db, actor=user, action="resident.export", subject=("resident", resident.id),
                 now=now, note="json")
    db.commit()
    return Response(body.encode("utf-8"), media_type="application/json; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="resident-{resident.id}.json"',
                             "Cache-Control": "no-store"})


@router.post("/admin/residents/{resident_id}/erase", response_class=HTMLResponse)
def resident_erase(request: Request, db: SessionDep, now: NowDep, user: WebAdmin,
                   _csrf: CsrfChecked, store: AttachmentsDep, resident_id: ResidentId,
                   confirm: Annotated[str, Form(max_length=5)] = "") -> Response:
    resident = _get(db, resident_id)
    if confirm != "1":
        form = AdminForm.of(confirm=confirm)
        form.refuse("confirm", CONFIRM)
        return _held_page(request, db, user, resident, form, status=422)
    _, files = erase_resident(db, resident=resident, actor=user, now=now)
    db.commit()
    for key in files:  # after the commit: a failed one must not leave rows without files
        store.delete(key)
    return redirect(f"/admin/residents/{resident.id}?done=erased")
