"""A volunteer's pages: the tasks the squad gave me, accept (接单) or decline, start, mark done
with a note; and my history.

    GET  /v                                  my tasks and history
    POST /v/tasks/<id>/accept|decline|start|resolve

A task I have accepted shows the resident's full phone number as a tap-to-call link until it
closes; an offered one shows it masked (server/services/privacy.py decides, and logs each
reveal). The same facts show on the one-tap task link's page (server/web/task_link.py).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from server.api.attachments import AttachmentsDep
from server.api.deps import NowDep, SessionDep, SettingsDep
from server.errors import IllegalTransition
from server.lifecycle import Action
from server.models import Ticket, User
from server.services import tickets as ticket_service
from server.services.photos import PhotoRefused
from server.services.privacy import ShownPhone, Viewer, phone_for
from server.services.requests import dispatch_note, place_label
from server.services.web_choices import categories
from server.web.common import CsrfChecked, WebRoute, WebVolunteer, lang_of, redirect, render
from server.web.photos import after_photo, keep_after_photo, photo_lister
from server.web.views import answer_lines

__all__ = ["router", "task_facts"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)
TicketId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_NOTE = 500
_ACTIONS = {"accept": Action.ACCEPT, "decline": Action.DECLINE, "start": Action.START,
            "resolve": Action.RESOLVE}


def _tasks_page(request: Request, db: SessionDep, now: NowDep, user: User, *,
                status: int = 200, errors: dict[int, str] | None = None,
                notes: dict[int, str] | None = None) -> HTMLResponse:
    current, done = ticket_service.tasks_for(db, user=user)
    lang = lang_of(request)
    # Several categories may share a skill; name it after the one with the same code, or the
    # first in the kiosk's order.
    skill_names: dict[str, object] = {}
    for category in categories(db).values():
        if category.code == category.skill or category.skill not in skill_names:
            skill_names[category.skill] = category
    viewer = Viewer.of(user)
    phones = {t.id: phone_for(db, ticket=t, viewer=viewer, now=now, via="page") for t in current}
    page = render(request, "volunteer.html", {
        "volunteer": user.volunteer,
        "offered": [t for t in current if t.status == "dispatched"],
        "working": [t for t in current if t.status != "dispatched"],
        "finished": done[:30],
        "skill_names": skill_names,
        **task_facts(lang, now, phones),
        "errors": errors or {}, "notes": notes or {}, "photos": photo_lister(db, "/photos"),
    }, status=status, user=user)
    db.commit()  # the reveals of full numbers the page shows
    return page


def task_facts(lang: str, now: datetime, phones: dict[int, ShownPhone | None]
               ) -> dict[str, object]:
    """What _task_facts.html reads, here and on the task link's page."""
    def answers(ticket: Ticket) -> list[tuple[str, str]]:
        return answer_lines(ticket, lang)

    def is_overdue(ticket: Ticket) -> bool:
        return ticket_service.is_overdue(ticket, now)

    return {"place": place_label, "answers": answers, "is_overdue": is_overdue,
            "dispatch_note": dispatch_note, "phones": phones}


@router.get("/v", response_class=HTMLResponse)
def my_tasks(request: Request, db: SessionDep, now: NowDep, user: WebVolunteer) -> Response:
    return _tasks_page(request, db, now, user)


@router.post("/v/tasks/{ticket_id}/{action}", response_class=HTMLResponse)
def act(request: Request, db: SessionDep, now: NowDep, user: WebVolunteer, _csrf: CsrfChecked,
        ticket_id: TicketId,
        action: Annotated[str, Path(pattern="^(accept|decline|start|resolve)$")],
        settings: SettingsDep, store: AttachmentsDep, note: Annotated[str, Form()] = "",
        photo: Annotated[UploadFile | None, File()] = None) -> Response:
    note_clean = note.strip()
    if len(note_clean) > MAX_NOTE:
        return _tasks_page(request, db, now, user, status=422, errors={ticket_id: "too_long"},
                           notes={ticket_id: note})
    if action == "resolve" and not note_clean:
        return _tasks_page(request, db, now, user, status=422, errors={ticket_id: "need_note"},
                           notes={ticket_id: note})
    ticket = ticket_service.get_ticket(db, ticket_id=ticket_id)
    try:  # the "after" photo is checked before the job is marked done
        after = after_photo(photo, settings) if action == "resolve" else []
    except PhotoRefused as refused:
        return _tasks_page(request, db, now, user, status=422,
                           errors={ticket_id: f"photo_{refused.code}"}, notes={ticket_id: note})
    try:
        ticket_service.volunteer_action(db, ticket=ticket, user=user, action=_ACTIONS[action],
                                        now=now, note=note_clean)
    except IllegalTransition:
        db.rollback()
        return _tasks_page(request, db, now, user, status=409, errors={ticket_id: "changed"},
                           notes={ticket_id: note})
    keep_after_photo(db, store, ticket=ticket, photos=after,
                     volunteer_id=user.volunteer.id if user.volunteer else None, now=now)
    return redirect(f"/v?done={action}#t{ticket_id}")
