"""The reader's phone page at /l/<token>: their library loans, where the kiosk's receipt QR code
leads.

Like the request page (/r/<token>), there is no app and no account: the unguessable token is the
only key, it opens that reader's own loans and nothing else, and every lookup counts against the
per-address limit. The page shows what GET /api/v1/library/phone/<token> answers.

    GET  /l/<token>          loans with due dates, holds, reminders, how to reach us
    POST /l/<token>/renew    renew one loan (copy_id); a refusal is said in words
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.api.ratelimit import TrackLimit
from server.library import services
from server.library.routes import PolicyDep, phone_view
from server.library.services import LendingRefused
from server.web.common import CsrfChecked, WebRoute, lang_of, redirect, render

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute)
Token = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
CopyId = Annotated[str, Form(max_length=40)]


def _page(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
          policy: PolicyDep, token: str, *, status: int = 200, refused: str = "",
          refused_copy: str = "") -> HTMLResponse:
    view = phone_view(db, now, settings, policy, token)
    renewed = request.query_params.get("renewed", "")
    return render(request, "loans.html", {
        "v": view, "token": token, "refused": refused, "refused_copy": refused_copy,
        "renewed": next((x for x in view.loans if x.copy_id == renewed), None),
    }, status=status)


@router.get("/l/{token}", response_class=HTMLResponse)
def loans_page(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
               policy: PolicyDep, _limit: TrackLimit, token: Token) -> HTMLResponse:
    return _page(request, db, now, settings, policy, token)


@router.post("/l/{token}/renew", response_class=HTMLResponse)
def renew(request: Request, db: SessionDep, now: NowDep, settings: SettingsDep,
          policy: PolicyDep, _limit: TrackLimit, _csrf: CsrfChecked, token: Token,
          copy_id: CopyId = "") -> Response:
    patron = services.patron_by_phone_token(db, token=token)
    try:
        services.renew(db, patron=patron, copy_id=copy_id, now=now, policy=policy,
                       tz=settings.site.timezone)
    except LendingRefused as exc:
        db.rollback()
        words = exc.refusal.message_en if lang_of(request) == "en" else exc.refusal.message_zh
        return _page(request, db, now, settings, policy, token, status=409, refused=words,
                     refused_copy=copy_id)
    return redirect(f"/l/{token}?renewed={quote(copy_id)}")
