"""Playing a request's spoken description, for those who act on the request and no one else.

    GET /staff/tickets/<id>/recording   staff, and the squad leader of the ticket's grid
    GET /v/tasks/<id>/recording         the volunteer who has the task, while it is open
    GET /v/t/<token>/recording          the same volunteer through the one-tap task link

The pages put it in an ``<audio controls>`` element (templates ticket.html and _task_facts.html;
same origin, so the pages' Content-Security-Policy allows it). The answer is never cached
(``Cache-Control: private, no-store``); a resident's public status page never links it; each play
is in the audit log (server/services/recordings.py). Anyone else: 403 (signed in, not theirs) or
the sign-in page; no recording: 404.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from server.api.attachments import AttachmentsDep
from server.api.deps import NowDep, SessionDep
from server.attachments import AttachmentStore, UnknownAttachment
from server.errors import Forbidden, NotFound
from server.lifecycle import OPEN_STATUSES
from server.models import Ticket, User
from server.services import tickets as ticket_service
from server.services.recordings import play_spoken_description
from server.services.task_links import TaskLinkRefused, open_task_link
from server.web.common import WebDispatcher, WebRoute, WebVolunteer

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)
TicketId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Token = Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
_OPEN = {s.value for s in OPEN_STATUSES}


def _audio(db: SessionDep, store: AttachmentStore, *, ticket: Ticket, actor: User | str,
           via: str, now: NowDep) -> Response:
    try:
        audio = play_spoken_description(db, store, ticket=ticket, actor=actor, via=via, now=now)
    except UnknownAttachment:
        log.error("ticket %s: its recording's file is missing from the store", ticket.id)
        raise NotFound("the recording's file is missing") from None
    return Response(audio.data, media_type=audio.media_type,
                    headers={"Cache-Control": "private, no-store",
                             "X-Content-Type-Options": "nosniff",
                             "Content-Disposition": f'inline; filename="{ticket.number}.wav"'})


@router.get("/staff/tickets/{ticket_id}/recording")
def staff_recording(db: SessionDep, now: NowDep, user: WebDispatcher, store: AttachmentsDep,
                    ticket_id: TicketId) -> Response:
    ticket = ticket_service.get_ticket(db, ticket_id=ticket_id)
    ticket_service.require_view(user, ticket)
    return _audio(db, store, ticket=ticket, actor=user, via="page", now=now)


@router.get("/v/tasks/{ticket_id}/recording")
def volunteer_recording(db: SessionDep, now: NowDep, user: WebVolunteer, store: AttachmentsDep,
                        ticket_id: TicketId) -> Response:
    ticket = ticket_service.get_ticket(db, ticket_id=ticket_id)
    volunteer = user.volunteer
    if volunteer is None or ticket.assignee_id != volunteer.id or ticket.status not in _OPEN:
        raise Forbidden("this task is not yours")
    return _audio(db, store, ticket=ticket, actor=user, via="page", now=now)


@router.get("/v/t/{token}/recording")
def link_recording(db: SessionDep, now: NowDep, store: AttachmentsDep, token: Token
                   ) -> Response:
    try:
        link = open_task_link(db, token=token, now=now)
    except TaskLinkRefused as refused:
        raise Forbidden("this task link does not open the task") from refused
    volunteer = link.volunteer
    return _audio(db, store, ticket=link.ticket, actor=f"志愿者 {volunteer.given_name}",
                  via="link", now=now)
