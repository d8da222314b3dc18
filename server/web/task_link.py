"""The one-tap task link: a volunteer opens ``/v/t/<token>`` from the dispatch notification and
is, for that one task and nothing else, signed in with no password.

    GET  /v/t/<token>                                the task: facts, and what I can do next
    POST /v/t/<token>/accept|decline|start|resolve   note (a reason; what was done)

The token is checked on every request (server/services/task_links.py): an unknown one is a
404 page, one that has expired, was revoked, whose task closed or went to someone else is a 410
page that says which, never a 500. Nothing here sets a session cookie, so the link opens no
other task and no other page. Once accepted, the resident's full number shows as a ``tel:``
link, logged as a reveal "by link" (server/services/privacy.py).
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from server.api.attachments import AttachmentsDep
from server.api.deps import NowDep, SessionDep, SettingsDep
from server.errors import IllegalTransition
from server.lifecycle import Action
from server.services.photos import PhotoRefused
from server.services.privacy import Viewer, phone_for
from server.services.task_links import TaskLinkRefused, act_by_link, open_task_link
from server.task_access import TaskLink
from server.web.common import CsrfChecked, WebRoute, lang_of, redirect, render
from server.web.photos import after_photo, keep_after_photo, photo_lister
from server.web.volunteer import MAX_NOTE, task_facts

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)
Token = Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
_ACTIONS = {"accept": Action.ACCEPT, "decline": Action.DECLINE, "start": Action.START,
            "resolve": Action.RESOLVE}


def _task_page(request: Request, db: SessionDep, now: NowDep, token: str, link: TaskLink, *,
               status: int = 200, error: str = "", note: str = "") -> HTMLResponse:
    ticket = link.ticket
    phones = {ticket.id: phone_for(db, ticket=ticket, viewer=Viewer.by_link(link.volunteer),
                                   now=now, via="link")}
    page = render(request, "task.html", {
        "task": ticket, "volunteer": link.volunteer, "base": f"/v/t/{token}",
        **task_facts(lang_of(request), now, phones),
        "error": error, "note": note, "photos": photo_lister(db, f"/v/t/{token}/photos"),
    }, status=status)
    db.commit()  # last_used_at, and the reveal if the page shows the full number
    return page


def _gone(request: Request, refused: TaskLinkRefused, *, declined: bool = False) -> HTMLResponse:
    log.info("task link refused: %s", refused.reason)
    if declined:
        return render(request, "task_gone.html", {"reason": "declined"})
    return render(request, "task_gone.html", {"reason": refused.reason},
                  status=refused.status_code)


@router.get("/v/t/{token}", response_class=HTMLResponse)
def open_task(request: Request, db: SessionDep, now: NowDep, token: Token) -> Response:
    try:
        link = open_task_link(db, token=token, now=now)
    except TaskLinkRefused as refused:
        # Right after declining, the task is no longer mine: that is the expected answer.
        declined = (request.query_params.get("done") == "decline"
                    and refused.reason in ("not_yours", "revoked"))
        return _gone(request, refused, declined=declined)
    return _task_page(request, db, now, token, link)


@router.post("/v/t/{token}/{action}", response_class=HTMLResponse)
def act(request: Request, db: SessionDep, now: NowDep, token: Token, _csrf: CsrfChecked,
        action: Annotated[str, Path(pattern="^(accept|decline|start|resolve)$")],
        settings: SettingsDep, store: AttachmentsDep, note: Annotated[str, Form()] = "",
        photo: Annotated[UploadFile | None, File()] = None) -> Response:
    try:
        link = open_task_link(db, token=token, now=now)
    except TaskLinkRefused as refused:
        return _gone(request, refused)
    note_clean = note.strip()
    if len(note_clean) > MAX_NOTE:
        return _task_page(request, db, now, token, link, status=422, error="too_long", note=note)
    if action == "resolve" and not note_clean:
        return _task_page(request, db, now, token, link, status=422, error="need_note",
                          note=note)
    try:  # the "after" photo is checked before the job is marked done
        after = after_photo(photo, settings) if action == "resolve" else []
    except PhotoRefused as refused:
        return _task_page(request, db, now, token, link, status=422,
                          error=f"photo_{refused.code}", note=note)
    try:
        act_by_link(db, link=link, action=_ACTIONS[action], now=now, note=note_clean)
    except IllegalTransition:
        db.rollback()
        return _task_page(request, db, now, token, link, status=409, error="changed", note=note)
    keep_after_photo(db, store, ticket=link.ticket, photos=after,
                     volunteer_id=link.volunteer_id, now=now)
    log.info("task %s: %s by link (volunteer %s)", link.ticket.number, action,
             link.volunteer_id)
    return redirect(f"/v/t/{token}?done={action}")
