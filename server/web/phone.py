"""The resident's phone page at /r/<token>: where the kiosk's QR code leads.

No app and no account: the unguessable token in the link is the only key, it opens that one
request and nothing else, and every lookup counts against the per-address limit (TrackLimit).
The page is built from the same public view as GET /api/v1/track/<token>, so it cannot show
more than the API does: status, the volunteer's given name, history without staff names.

    GET  /r/<token>           status as a timeline, what happens next, how to reach us
    POST /r/<token>/confirm   rating 1-5 and an optional comment: confirms it was done
    POST /r/<token>/cancel    while no volunteer has accepted it
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from server.api.deps import NowDep, SessionDep
from server.api.ratelimit import TrackLimit
from server.api.schemas import RequestPublic
from server.api.views import request_public
from server.errors import IllegalTransition
from server.services.requests import cancel_by_resident, confirm_done, request_by_token
from server.web.common import CsrfChecked, WebRoute, redirect, render
from server.web.photos import photo_links

__all__ = ["Step", "router", "timeline"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)
Token = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
MAX_COMMENT = 500

# How far along each status is, on the resident's four-step path plus the closing step.
_REACHED = {"new": 0, "dispatched": 1, "accepted": 2, "in_progress": 2, "resolved": 3,
            "closed": 4}
_STEP_STATUSES = [("new",), ("dispatched",), ("accepted", "in_progress"), ("resolved",),
                  ("closed",)]


@dataclass(frozen=True)
class Step:
    key: str
    done: bool
    current: bool
    at: datetime | None


def timeline(view: RequestPublic) -> list[Step]:
    """The five steps with whether each is reached and when (the latest time it was)."""
    reached = _REACHED.get(view.status, -1)
    if reached < 0:  # cancelled or duplicate: show how far it got before it stopped
        reached = max((_REACHED.get(h.status, 0) for h in view.history
                       if h.status in _REACHED), default=0)
    steps = []
    for index, statuses in enumerate(_STEP_STATUSES):
        times = [h.at for h in view.history if h.status in statuses]
        done = index <= reached
        steps.append(Step(key=statuses[0], done=done,
                          current=done and index == reached and view.status in _REACHED,
                          at=max(times) if done and times else None))
    return steps


def _page(request: Request, db: SessionDep, now: datetime, token: str, *, status: int = 200,
          error: str = "", form: dict[str, str] | None = None) -> HTMLResponse:
    ticket = request_by_token(db, token=token).ticket
    view = request_public(ticket, now)
    return render(request, "phone.html", {
        "r": view, "steps": timeline(view), "token": token,
        "target_hours": ticket.category.target_hours,
        "can_confirm": view.status == "resolved",
        "can_cancel": view.status in ("new", "dispatched"),
        "error": error, "form": form or {},
        "rating_comment": ticket.rating_comment or "",
        "photos": photo_links(db, ticket_id=ticket.id, base=f"/r/{token}/photos"),
    }, status=status)


@router.get("/r/{token}", response_class=HTMLResponse)
def phone_page(request: Request, db: SessionDep, now: NowDep, _limit: TrackLimit,
               token: Token) -> HTMLResponse:
    return _page(request, db, now, token)


@router.post("/r/{token}/confirm", response_class=HTMLResponse)
def confirm(request: Request, db: SessionDep, now: NowDep, _limit: TrackLimit,
            _csrf: CsrfChecked, token: Token, rating: Annotated[str, Form()] = "",
            comment: Annotated[str, Form()] = "") -> Response:
    form = {"rating": rating, "comment": comment}
    if rating not in {"1", "2", "3", "4", "5"}:
        return _page(request, db, now, token, status=422, form=form, error="rating")
    if len(comment) > MAX_COMMENT:
        return _page(request, db, now, token, status=422, form=form, error="comment")
    try:
        confirm_done(db, token=token, rating=int(rating), comment=comment.strip(), now=now)
    except IllegalTransition:
        db.rollback()
        return _page(request, db, now, token, status=409, form=form, error="not_resolved")
    return redirect(f"/r/{token}?done=confirmed")


@router.post("/r/{token}/cancel", response_class=HTMLResponse)
def cancel(request: Request, db: SessionDep, now: NowDep, _limit: TrackLimit,
           _csrf: CsrfChecked, token: Token,
           reason: Annotated[str, Form()] = "") -> Response:
    if len(reason) > MAX_COMMENT:
        return _page(request, db, now, token, status=422, form={"reason": reason},
                     error="reason")
    try:
        cancel_by_resident(db, token=token, now=now, reason=reason.strip())
    except IllegalTransition:
        db.rollback()
        return _page(request, db, now, token, status=409, form={"reason": reason},
                     error="not_cancellable")
    return redirect(f"/r/{token}?done=cancelled")
